// EKS variant: VPC, IAM, cluster with access entries, managed node group, IRSA, EBS CSI + gp3,
// ECR repositories and the backup bucket. Raw @pulumi/aws resources, no higher-level wrapper.
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { EksConfig } from "../config";
import { EKS_STANDARD_SUPPORT_ENDS } from "../versions";
import {
    backupLifecycleRules,
    CLUSTER_ADMIN_ACCESS_POLICY,
    callerAccessWarning,
    CLUSTER_ROLE_POLICIES,
    clusterKmsPolicy,
    EBS_CSI_POLICY,
    EBS_CSI_SERVICE_ACCOUNT,
    eksAccessEntries,
    ecrLifecyclePolicy,
    ecrRepositoryName,
    eksSupportWarning,
    gp3StorageClass,
    irsaAssumeRolePolicy,
    logsLifecycleRules,
    NODE_METADATA_OPTIONS,
    NODE_ROLE_POLICIES,
    objectReadWritePolicy,
    nodeRootVolume,
    serviceAssumeRolePolicy,
    subnetLayout,
    VPC_CNI_CONFIGURATION,
    VPC_CNI_POLICY,
    VPC_CNI_SERVICE_ACCOUNT,
    walArchiveBucketPolicy,
} from "./eksSpec";
import { eksKubeconfig } from "./kubeconfigSpec";
import { BACKUP_SERVICE_ACCOUNT, DATABASE_SERVICE_ACCOUNT, LOKI_SERVICE_ACCOUNT, type LogsStorage, WAL_OBJECT_PREFIX } from "./types";
import { cloudLabels, type VariantArgs, type VariantOutputs } from "./variant";

/** Days control-plane logs are kept in CloudWatch (EKS would otherwise keep them forever). */
const CONTROL_PLANE_LOG_RETENTION_DAYS = 90;

const policyName = (arn: string) => arn.split("/").pop()!;

export function createEks(name: string, cfg: EksConfig, args: VariantArgs): VariantOutputs {
    const { environment, protect, parent } = args;
    const clusterName = `orders-${environment}`;
    const provider = new aws.Provider(`${name}-aws`, { region: cfg.region, defaultTags: { tags: cloudLabels(environment) } }, { parent });
    const opts: pulumi.CustomResourceOptions = { parent, provider };
    const protectedOpts: pulumi.CustomResourceOptions = { ...opts, protect };
    const invokeOpts = { parent, provider };

    // --- network: private subnets for nodes, public ones for load balancers and NAT ---
    const azs = aws.getAvailabilityZonesOutput({ state: "available" }, invokeOpts);
    const layout = subnetLayout(cfg.vpcCidr, cfg.azCount);
    const vpc = new aws.ec2.Vpc(
        `${name}-vpc`,
        { cidrBlock: cfg.vpcCidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: clusterName } },
        opts,
    );
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: { Name: clusterName } }, opts);
    const publicRoutes = new aws.ec2.RouteTable(
        `${name}-public`,
        { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: { Name: `${clusterName}-public` } },
        opts,
    );
    const clusterTag = `kubernetes.io/cluster/${clusterName}`;
    const publicSubnets = layout.public.map((cidr, i) => {
        const subnet = new aws.ec2.Subnet(
            `${name}-public-${i}`,
            {
                vpcId: vpc.id,
                cidrBlock: cidr,
                availabilityZone: azs.names[i],
                mapPublicIpOnLaunch: false,
                tags: { Name: `${clusterName}-public-${i}`, "kubernetes.io/role/elb": "1", [clusterTag]: "shared" },
            },
            opts,
        );
        new aws.ec2.RouteTableAssociation(`${name}-public-${i}`, { subnetId: subnet.id, routeTableId: publicRoutes.id }, opts);
        return subnet;
    });
    const natCount = cfg.natGateways === "perAz" ? cfg.azCount : 1;
    const nats = Array.from({ length: natCount }, (_, i) => {
        const eip = new aws.ec2.Eip(`${name}-nat-${i}`, { domain: "vpc", tags: { Name: `${clusterName}-nat-${i}` } }, opts);
        return new aws.ec2.NatGateway(
            `${name}-nat-${i}`,
            { allocationId: eip.id, subnetId: publicSubnets[i].id, tags: { Name: `${clusterName}-nat-${i}` } },
            { ...opts, dependsOn: [igw] },
        );
    });
    const privateSubnets = layout.private.map((cidr, i) => {
        const subnet = new aws.ec2.Subnet(
            `${name}-private-${i}`,
            {
                vpcId: vpc.id,
                cidrBlock: cidr,
                availabilityZone: azs.names[i],
                tags: { Name: `${clusterName}-private-${i}`, "kubernetes.io/role/internal-elb": "1", [clusterTag]: "shared" },
            },
            opts,
        );
        const routes = new aws.ec2.RouteTable(
            `${name}-private-${i}`,
            {
                vpcId: vpc.id,
                routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nats[Math.min(i, natCount - 1)].id }],
                tags: { Name: `${clusterName}-private-${i}` },
            },
            opts,
        );
        new aws.ec2.RouteTableAssociation(`${name}-private-${i}`, { subnetId: subnet.id, routeTableId: routes.id }, opts);
        return subnet;
    });

    // --- control plane ---
    const clusterRole = new aws.iam.Role(
        `${name}-cluster-role`,
        { assumeRolePolicy: JSON.stringify(serviceAssumeRolePolicy("eks.amazonaws.com")) },
        opts,
    );
    const clusterRolePolicies = CLUSTER_ROLE_POLICIES.map(
        (arn) => new aws.iam.RolePolicyAttachment(`${name}-cluster-${policyName(arn)}`, { role: clusterRole.name, policyArn: arn }, opts),
    );
    const secretsKey = new aws.kms.Key(
        `${name}-secrets`,
        { description: `${clusterName} Kubernetes Secrets envelope encryption`, enableKeyRotation: true, deletionWindowInDays: 30 },
        protectedOpts,
    );
    const secretsKeyPolicy = new aws.iam.RolePolicy(
        `${name}-cluster-kms`,
        { role: clusterRole.id, policy: secretsKey.arn.apply((arn) => JSON.stringify(clusterKmsPolicy(arn))) },
        opts,
    );
    const logGroup = new aws.cloudwatch.LogGroup(
        `${name}-control-plane-logs`,
        { name: `/aws/eks/${clusterName}/cluster`, retentionInDays: CONTROL_PLANE_LOG_RETENTION_DAYS },
        opts,
    );
    const cluster = new aws.eks.Cluster(
        `${name}-eks`,
        {
            name: clusterName,
            version: cfg.kubernetesVersion,
            roleArn: clusterRole.arn,
            vpcConfig: {
                subnetIds: [...privateSubnets, ...publicSubnets].map((s) => s.id),
                endpointPrivateAccess: true,
                endpointPublicAccess: true,
                publicAccessCidrs: cfg.endpointPublicAccessCidrs,
            },
            enabledClusterLogTypes: cfg.controlPlaneLogs,
            // Access entries only (no aws-auth ConfigMap); the deployer gets an explicit entry below.
            accessConfig: { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false },
            encryptionConfig: { resources: ["secrets"], provider: { keyArn: secretsKey.arn } },
            deletionProtection: protect,
            // Explicit, so leaving standard support never starts extended-support billing unnoticed.
            upgradePolicy: { supportType: cfg.upgradePolicy },
        },
        { ...protectedOpts, dependsOn: [...clusterRolePolicies, secretsKeyPolicy, logGroup] },
    );
    const supportWarning = eksSupportWarning(cfg.kubernetesVersion, cfg.upgradePolicy, EKS_STANDARD_SUPPORT_ENDS, new Date());
    if (supportWarning) pulumi.log.warn(supportWarning, cluster);

    // --- access entries: the deployer role, the admins and the team roles' principals ---
    const caller = aws.getCallerIdentityOutput({}, invokeOpts);
    const entries = eksAccessEntries({
        deployerRoleArn: cfg.deployerRoleArn,
        adminPrincipalArns: cfg.adminPrincipalArns,
        team: cfg.access,
        groups: args.accessGroups,
    });
    // An assumed-role ARN (sts) is not a principal; the issuing IAM role is.
    aws.iam.getSessionContextOutput({ arn: caller.arn }, invokeOpts).issuerArn.apply((callerRole) => {
        const warning = callerAccessWarning(callerRole, entries);
        if (warning) pulumi.log.warn(warning, parent);
    });
    const accessPolicies: pulumi.Resource[] = [];
    for (const entry of entries) {
        const created = new aws.eks.AccessEntry(
            `${name}-access-${entry.id}`,
            {
                clusterName: cluster.name,
                principalArn: entry.principalArn,
                type: "STANDARD",
                ...(entry.kubernetesGroups.length > 0 ? { kubernetesGroups: entry.kubernetesGroups } : {}),
            },
            opts,
        );
        accessPolicies.push(created);
        if (!entry.clusterAdmin) continue;
        accessPolicies.push(
            new aws.eks.AccessPolicyAssociation(
                `${name}-access-${entry.id}`,
                {
                    clusterName: cluster.name,
                    principalArn: created.principalArn,
                    policyArn: CLUSTER_ADMIN_ACCESS_POLICY,
                    accessScope: { type: "cluster" },
                },
                opts,
            ),
        );
    }

    // --- IRSA ---
    const issuerUrl = cluster.identities.apply((ids) => ids[0]?.oidcs?.[0]?.issuer ?? "");
    const oidc = new aws.iam.OpenIdConnectProvider(`${name}-oidc`, { url: issuerUrl, clientIdLists: ["sts.amazonaws.com"] }, opts);
    const irsaRole = (id: string, sa: { namespace: string; name: string }) =>
        new aws.iam.Role(
            `${name}-${id}`,
            {
                assumeRolePolicy: pulumi
                    .all([oidc.arn, issuerUrl])
                    .apply(([oidcProviderArn, oidcIssuerUrl]) =>
                        JSON.stringify(
                            irsaAssumeRolePolicy({ oidcProviderArn, oidcIssuerUrl, namespace: sa.namespace, serviceAccount: sa.name }),
                        ),
                    ),
            },
            opts,
        );

    // --- nodes: the CNI add-on (with its own IRSA role) must exist before nodes can become Ready ---
    const cniRole = irsaRole("vpc-cni-role", VPC_CNI_SERVICE_ACCOUNT);
    const cniPolicy = new aws.iam.RolePolicyAttachment(
        `${name}-vpc-cni-${policyName(VPC_CNI_POLICY)}`,
        { role: cniRole.name, policyArn: VPC_CNI_POLICY },
        opts,
    );
    const vpcCni = new aws.eks.Addon(
        `${name}-vpc-cni`,
        {
            clusterName: cluster.name,
            addonName: "vpc-cni",
            serviceAccountRoleArn: cniRole.arn,
            configurationValues: JSON.stringify(VPC_CNI_CONFIGURATION),
            resolveConflictsOnCreate: "OVERWRITE",
            resolveConflictsOnUpdate: "OVERWRITE",
        },
        { ...opts, dependsOn: [cniPolicy] },
    );
    const nodeRole = new aws.iam.Role(
        `${name}-node-role`,
        { assumeRolePolicy: JSON.stringify(serviceAssumeRolePolicy("ec2.amazonaws.com")) },
        opts,
    );
    const nodeRolePolicies = NODE_ROLE_POLICIES.map(
        (arn) => new aws.iam.RolePolicyAttachment(`${name}-node-${policyName(arn)}`, { role: nodeRole.name, policyArn: arn }, opts),
    );
    const nodeTemplate = new aws.ec2.LaunchTemplate(
        `${name}-nodes`,
        {
            description: `${clusterName} nodes: IMDSv2 with hop limit 1, encrypted gp3 root volume`,
            metadataOptions: { ...NODE_METADATA_OPTIONS },
            blockDeviceMappings: [nodeRootVolume(cfg.nodeGroup.diskSizeGiB)],
            updateDefaultVersion: true,
        },
        opts,
    );
    const nodeGroup = new aws.eks.NodeGroup(
        `${name}-nodes`,
        {
            clusterName: cluster.name,
            nodeRoleArn: nodeRole.arn,
            subnetIds: privateSubnets.map((s) => s.id),
            instanceTypes: cfg.nodeGroup.instanceTypes,
            amiType: "AL2023_x86_64_STANDARD",
            capacityType: "ON_DEMAND",
            launchTemplate: { id: nodeTemplate.id, version: nodeTemplate.latestVersion.apply(String) },
            scalingConfig: { minSize: cfg.nodeGroup.minSize, maxSize: cfg.nodeGroup.maxSize, desiredSize: cfg.nodeGroup.desiredSize },
            updateConfig: { maxUnavailable: 1 },
            labels: { "orders-platform/node-group": "default" },
        },
        // A cluster autoscaler owns desiredSize after creation.
        { ...protectedOpts, dependsOn: [...nodeRolePolicies, vpcCni], ignoreChanges: ["scalingConfig.desiredSize"] },
    );

    // HPAs (apps, ingress gateway) read the resource metrics API, which EKS does not serve by default.
    new aws.eks.Addon(
        `${name}-metrics-server`,
        {
            clusterName: cluster.name,
            addonName: "metrics-server",
            resolveConflictsOnCreate: "OVERWRITE",
            resolveConflictsOnUpdate: "OVERWRITE",
        },
        { ...opts, dependsOn: [nodeGroup] },
    );

    // --- storage: EBS CSI driver (IRSA) and an encrypted gp3 default class ---
    const ebsRole = irsaRole("ebs-csi-role", EBS_CSI_SERVICE_ACCOUNT);
    const ebsPolicy = new aws.iam.RolePolicyAttachment(
        `${name}-ebs-csi-${policyName(EBS_CSI_POLICY)}`,
        { role: ebsRole.name, policyArn: EBS_CSI_POLICY },
        opts,
    );
    const ebsCsi = new aws.eks.Addon(
        `${name}-ebs-csi`,
        {
            clusterName: cluster.name,
            addonName: "aws-ebs-csi-driver",
            serviceAccountRoleArn: ebsRole.arn,
            resolveConflictsOnCreate: "OVERWRITE",
            resolveConflictsOnUpdate: "OVERWRITE",
        },
        // The controller Deployment needs nodes to become ACTIVE.
        { ...opts, dependsOn: [ebsPolicy, nodeGroup] },
    );

    const kubeconfig = pulumi.secret(
        pulumi
            .all([cluster.name, cluster.endpoint, cluster.certificateAuthority])
            .apply(([n, endpoint, ca]) =>
                eksKubeconfig({ clusterName: n, endpoint, certificateAuthorityData: ca.data ?? "", region: cfg.region }),
            ),
    );
    const k8sProvider = new k8s.Provider(`${name}-k8s`, { kubeconfig }, { parent, dependsOn: [nodeGroup, ebsCsi, ...accessPolicies] });
    const storageClass = new k8s.storage.v1.StorageClass(`${name}-gp3`, gp3StorageClass({ reclaimPolicy: protect ? "Retain" : "Delete" }), {
        parent,
        provider: k8sProvider,
    });

    // --- ECR: one repository per app ---
    const repositories = new Map<string, aws.ecr.Repository>();
    for (const app of args.appNames) {
        const repo = new aws.ecr.Repository(
            `${name}-ecr-${app}`,
            {
                name: ecrRepositoryName(environment, app),
                imageTagMutability: "IMMUTABLE",
                imageScanningConfiguration: { scanOnPush: true },
                encryptionConfigurations: [{ encryptionType: "KMS" }],
                forceDelete: !protect,
            },
            protectedOpts,
        );
        new aws.ecr.LifecyclePolicy(
            `${name}-ecr-${app}`,
            { repository: repo.name, policy: JSON.stringify(ecrLifecyclePolicy(cfg.ecrKeepImages)) },
            opts,
        );
        repositories.set(app, repo);
    }
    const registryServer = pulumi.interpolate`${caller.accountId}.dkr.ecr.${cfg.region}.amazonaws.com`;
    const token = aws.ecr.getAuthorizationTokenOutput({ registryId: caller.accountId }, invokeOpts);

    // --- object storage: private KMS-encrypted buckets, each used by exactly one ServiceAccount (IRSA) ---
    const privateBucket = (
        id: string,
        bucketPrefix: string,
        versioned: boolean,
        rules: aws.types.input.s3.BucketLifecycleConfigurationRule[],
    ) => {
        const bucket = new aws.s3.Bucket(`${name}-${id}`, { bucketPrefix, forceDestroy: !protect }, protectedOpts);
        if (versioned) {
            new aws.s3.BucketVersioning(`${name}-${id}`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, opts);
        }
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-${id}`,
            { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }] },
            opts,
        );
        new aws.s3.BucketPublicAccessBlock(
            `${name}-${id}`,
            { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            opts,
        );
        new aws.s3.BucketLifecycleConfiguration(`${name}-${id}`, { bucket: bucket.id, rules }, opts);
        return bucket;
    };
    /** A role only this ServiceAccount may assume, allowed to read, write and delete the bucket's objects. */
    const bucketUserRole = (id: string, sa: { namespace: string; name: string }, bucket: aws.s3.Bucket) => {
        const role = irsaRole(`${id}-role`, sa);
        new aws.iam.RolePolicy(
            `${name}-${id}-s3`,
            { role: role.id, policy: bucket.arn.apply((arn) => JSON.stringify(objectReadWritePolicy(arn))) },
            opts,
        );
        return role;
    };
    const irsaAnnotations = (role: aws.iam.Role) =>
        role.arn.apply((arn): Record<string, string> => ({ "eks.amazonaws.com/role-arn": arn }));

    // Backups: versioned, so a backup the uploader deleted stays recoverable for a while.
    const bucket = privateBucket("backups", `orders-${environment}-pg-backups-`, true, backupLifecycleRules(args.backupRetentionDays));
    const backupRole = bucketUserRole("backup", BACKUP_SERVICE_ACCOUNT, bucket);
    const walRole = irsaRole("wal-archive-role", DATABASE_SERVICE_ACCOUNT);
    new aws.iam.RolePolicy(
        `${name}-wal-archive-s3`,
        { role: walRole.id, policy: bucket.arn.apply((arn) => JSON.stringify(walArchiveBucketPolicy(arn, WAL_OBJECT_PREFIX))) },
        opts,
    );

    // Logs: Loki's chunks and index; its compactor deletes what is past the retention.
    let logsStorage: LogsStorage = { kind: "volume" };
    if (args.logs) {
        const logsBucket = privateBucket("logs", `orders-${environment}-logs-`, false, logsLifecycleRules());
        logsStorage = {
            kind: "s3",
            bucket: logsBucket.bucket,
            region: cfg.region,
            serviceAccountAnnotations: irsaAnnotations(bucketUserRole("loki", LOKI_SERVICE_ACCOUNT, logsBucket)),
        };
    }

    return {
        provider: k8sProvider,
        kubeconfig,
        registry: {
            server: registryServer,
            repository(app) {
                const repo = repositories.get(app);
                if (!repo) throw new Error(`no ECR repository for app "${app}" (known: ${[...repositories.keys()].join(", ")})`);
                return repo.repositoryUrl;
            },
            credentials: pulumi.secret(
                pulumi.all([token.userName, token.password]).apply(([username, password]) => ({ username, password })),
            ),
        },
        storageClassName: storageClass.metadata.name,
        backupTarget: {
            kind: "s3",
            bucket: bucket.bucket,
            region: cfg.region,
            serviceAccountAnnotations: irsaAnnotations(backupRole),
            walArchiveServiceAccountAnnotations: irsaAnnotations(walRole),
        },
        logsStorage,
    };
}
