// Cluster variants under mocks: every resource each provider registers and the values that matter.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../components/cluster";
import { accessSchema, clusterSchema, imagesSchema, type ClusterConfig, type Environment } from "../components/config";
import { EKS as EKS_PIN, IMAGES, imageReference } from "../components/versions";
import { type CapturedResource, type ProgramRun, PROJECT_ROOT, runProgram, runStack, validateKubernetesObjects } from "./harness";
import {
    MOCK_DEPLOYER_ROLE_ARN,
    MOCK_ECR_PASSWORD,
    MOCK_EKS_ISSUER,
    MOCK_GCP_ACCESS_TOKEN,
    MOCK_KIND_KUBECONFIG,
} from "./harness/mocks/cluster";

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const APPS = ["orders", "users"];
const EKS = {
    region: "eu-west-1",
    azCount: 3,
    vpcCidr: "10.20.0.0/16",
    nodeGroup: { instanceTypes: ["m6i.xlarge", "m6a.xlarge"], minSize: 3, maxSize: 10, desiredSize: 3, diskSizeGiB: 100 },
    ecrKeepImages: 100,
    deployerRoleArn: MOCK_DEPLOYER_ROLE_ARN,
    adminPrincipalArns: ["arn:aws:iam::123456789012:role/platform-admins"],
    access: {
        viewers: ["arn:aws:iam::123456789012:role/support", "arn:aws:iam::123456789012:role/oncall"],
        operators: ["arn:aws:iam::123456789012:role/oncall"],
        databaseAdmins: ["arn:aws:iam::123456789012:role/platform-admins", "arn:aws:iam::123456789012:user/dba"],
    },
};
const GKE = { project: "orders-prod-123456", region: "europe-west1" };

interface ClusterRunOutputs {
    kubeconfig: string;
    server: string;
    usersRepo: string;
    storageClassName: string;
    credentials?: { username: string; password: string };
    backupTarget: Record<string, unknown>;
    topology: { multiNode: boolean; multiZone: boolean };
    secret: boolean;
}

function runCluster(raw: Record<string, unknown>, opts: { environment?: Environment; protect?: boolean; retentionDays?: number } = {}) {
    const config: ClusterConfig = clusterSchema.parse(raw);
    return runProgram(async () => {
        const cluster = new Cluster("cluster", {
            environment: opts.environment ?? "staging",
            config,
            appNames: APPS,
            protect: opts.protect ?? false,
            backupRetentionDays: opts.retentionDays ?? 7,
            images: imagesSchema.parse({}),
            accessGroups: accessSchema.parse({}).groups,
        });
        return {
            kubeconfig: cluster.kubeconfig,
            server: cluster.registry.server,
            usersRepo: cluster.registry.repository("users"),
            storageClassName: cluster.storageClassName,
            credentials: cluster.registry.credentials,
            backupTarget: cluster.backupTarget,
            topology: cluster.topology,
            secret: await pulumi.isSecret(cluster.kubeconfig),
        } as unknown as ClusterRunOutputs;
    });
}

const json = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v);
const urnOf = (r: CapturedResource) => r.urn;
/** Provider reference of a resource: "<provider urn>::<id>". */
const providerUrn = (r: CapturedResource) => r.provider?.split("::").slice(0, -1).join("::");

function cloudTypes(run: ProgramRun, prefix: string): string[] {
    return [...new Set(run.resources.filter((r) => r.type.startsWith(prefix)).map((r) => r.type))].sort();
}

describe("cluster: kind", () => {
    let run: ProgramRun<ClusterRunOutputs>;
    before(async () => {
        run = await runCluster(
            { provider: "kind", kind: { clusterName: "orders-dev", workers: 1, registryPort: 5001, httpPort: 8080, httpsPort: 8443 } },
            { environment: "dev" },
        );
    });

    it("creates and deletes the cluster with the kind CLI from a generated config", () => {
        const cmd = run.get("command:local:Command", "cluster-kind");
        assert.match(cmd.inputs.create, /^kind create cluster --name orders-dev --config -/);
        assert.equal(cmd.inputs.delete, "kind delete cluster --name orders-dev");
        const config = JSON.parse(cmd.inputs.stdin);
        assert.deepEqual(
            config.nodes.map((n: { role: string; image: string }) => `${n.role}=${n.image}`),
            [`control-plane=${imageReference(IMAGES.kindNode)}`, `worker=${imageReference(IMAGES.kindNode)}`],
        );
        assert.deepEqual(
            config.nodes[0].extraPortMappings.map((m: { containerPort: number; hostPort: number }) => [m.containerPort, m.hostPort]),
            [
                [30080, 8080],
                [30443, 8443],
            ],
        );
    });

    it("runs a pinned registry container on the kind network, wired into containerd of every node", () => {
        assert.equal(
            run.get("docker:index/remoteImage:RemoteImage", "cluster-registry-image").inputs.name,
            imageReference(IMAGES.registry),
        );
        const registry = run.get("docker:index/container:Container", "cluster-registry");
        assert.equal(registry.inputs.name, "orders-dev-registry");
        assert.equal(registry.inputs.restart, "always");
        const port = registry.inputs.ports[0];
        assert.deepEqual([port.internal, port.external, port.ip], [5000, 5001, "127.0.0.1"]);
        assert.deepEqual(
            registry.inputs.networksAdvanced.map((n: { name: string }) => n.name),
            ["kind"],
        );
        assert.ok(
            registry.dependsOn.includes(urnOf(run.get("command:local:Command", "cluster-kind"))),
            "registry waits for the kind network",
        );

        const hosts = run.get("command:local:Command", "cluster-registry-hosts");
        assert.match(hosts.inputs.create, /certs\.d\/localhost:5001\/hosts\.toml/);
        assert.match(hosts.inputs.create, /http:\/\/orders-dev-registry:5000/);
        const cm = run.get("kubernetes:core/v1:ConfigMap", "cluster-local-registry-hosting");
        assert.equal(cm.inputs.metadata.namespace, "kube-public");
        assert.match(cm.inputs.data["localRegistryHosting.v1"], /localhost:5001/);
    });

    it("outputs: secret kubeconfig from kind, local registry without credentials, standard StorageClass, volume backups", async () => {
        assert.equal(run.outputs.kubeconfig, MOCK_KIND_KUBECONFIG);
        assert.equal(run.outputs.secret, true);
        assert.equal(run.outputs.server, "localhost:5001");
        assert.equal(run.outputs.usersRepo, "localhost:5001/users");
        assert.equal(run.outputs.credentials, undefined);
        assert.equal(run.outputs.storageClassName, "standard");
        assert.deepEqual(run.outputs.backupTarget, { kind: "volume" });
        assert.deepEqual(run.outputs.topology, { multiNode: true, multiZone: false });
        const provider = run.get("pulumi:providers:kubernetes", "cluster-k8s");
        assert.equal(
            provider.wireInputs.kubeconfig[
                Object.keys(provider.wireInputs.kubeconfig).find((k) => provider.wireInputs.kubeconfig[k] === SECRET_SIG)!
            ],
            SECRET_SIG,
        );
        assert.ok(provider.dependsOn.includes(urnOf(run.get("command:local:Command", "cluster-registry-hosts"))));
        assert.deepEqual(cloudTypes(run, "aws:").concat(cloudTypes(run, "gcp:")), []);
        assert.deepEqual(await validateKubernetesObjects(run.resources), []);
    });
});

describe("cluster: EKS", () => {
    let run: ProgramRun<ClusterRunOutputs>;
    before(async () => {
        run = await runCluster(
            { provider: "eks", eks: { ...EKS, natGateways: "perAz" } },
            { environment: "prod", protect: true, retentionDays: 30 },
        );
    });

    it("VPC across azCount AZs: private subnets for nodes, public for load balancers, NAT per AZ", () => {
        const subnets = run.byType("aws:ec2/subnet:Subnet");
        const priv = subnets.filter((s) => s.name.includes("private"));
        const pub = subnets.filter((s) => s.name.includes("public"));
        assert.equal(priv.length, 3);
        assert.equal(pub.length, 3);
        assert.deepEqual(
            priv.map((s) => s.inputs.availabilityZone),
            ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
        );
        assert.ok(priv.every((s) => s.inputs.tags["kubernetes.io/role/internal-elb"] === "1"));
        assert.ok(pub.every((s) => s.inputs.tags["kubernetes.io/role/elb"] === "1" && s.inputs.mapPublicIpOnLaunch === false));
        assert.equal(run.get("aws:ec2/vpc:Vpc", "cluster-vpc").inputs.cidrBlock, "10.20.0.0/16");
        assert.equal(run.byType("aws:ec2/natGateway:NatGateway").length, 3);
        const privateRoutes = run.byType("aws:ec2/routeTable:RouteTable").filter((r) => r.name.includes("private"));
        assert.deepEqual(
            privateRoutes.map((r) => r.inputs.routes[0].natGatewayId),
            ["cluster-nat-0-id", "cluster-nat-1-id", "cluster-nat-2-id"],
        );
        const publicRoutes = run.get("aws:ec2/routeTable:RouteTable", "cluster-public");
        assert.equal(publicRoutes.inputs.routes[0].gatewayId, "cluster-igw-id");
    });

    it("IAM roles carry exactly the least-privilege managed policies", () => {
        const attached = (role: string) =>
            run
                .byType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                .filter((a) => a.inputs.role === role)
                .map((a) => a.inputs.policyArn)
                .sort();
        assert.deepEqual(json(run.get("aws:iam/role:Role", "cluster-cluster-role").inputs.assumeRolePolicy).Statement[0].Principal, {
            Service: "eks.amazonaws.com",
        });
        assert.deepEqual(attached("cluster-cluster-role"), ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]);
        assert.deepEqual(attached("cluster-node-role"), [
            "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
            "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        ]);
        assert.deepEqual(attached("cluster-vpc-cni-role"), ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy"]);
        assert.deepEqual(attached("cluster-ebs-csi-role"), ["arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"]);
        const issuer = MOCK_EKS_ISSUER.replace("https://", "");
        assert.equal(
            json(run.get("aws:iam/role:Role", "cluster-ebs-csi-role").inputs.assumeRolePolicy).Statement[0].Condition.StringEquals[
                `${issuer}:sub`
            ],
            "system:serviceaccount:kube-system:ebs-csi-controller-sa",
        );
    });

    it("EKS cluster: version, logs, API access entries, KMS secrets encryption, protected", () => {
        const eks = run.get("aws:eks/cluster:Cluster", "cluster-eks");
        assert.equal(eks.inputs.name, "orders-prod");
        assert.equal(eks.inputs.version, EKS_PIN.version);
        assert.deepEqual(eks.inputs.upgradePolicy, { supportType: "STANDARD" }, "explicit: no silent extended-support billing");
        assert.deepEqual(eks.inputs.enabledClusterLogTypes, ["api", "audit", "authenticator", "controllerManager", "scheduler"]);
        assert.deepEqual(eks.inputs.accessConfig, { authenticationMode: "API", bootstrapClusterCreatorAdminPermissions: false });
        assert.deepEqual(eks.inputs.encryptionConfig.resources, ["secrets"]);
        assert.equal(eks.inputs.vpcConfig.subnetIds.length, 6);
        assert.equal(eks.inputs.deletionProtection, true);
        assert.equal(eks.protect, true);
        assert.equal(run.get("aws:cloudwatch/logGroup:LogGroup", "cluster-control-plane-logs").inputs.name, "/aws/eks/orders-prod/cluster");
    });

    it("access entries: the configured deployer and admins are cluster-admin, team principals carry their roles' groups", () => {
        const entries = Object.fromEntries(
            run.byType("aws:eks/accessEntry:AccessEntry").map((e) => [e.inputs.principalArn, e.inputs.kubernetesGroups ?? []]),
        );
        assert.deepEqual(entries, {
            [MOCK_DEPLOYER_ROLE_ARN]: [],
            "arn:aws:iam::123456789012:role/platform-admins": [],
            "arn:aws:iam::123456789012:role/support": ["orders-platform:viewers"],
            // One entry per principal (EKS allows no second): both roles' groups on it.
            "arn:aws:iam::123456789012:role/oncall": ["orders-platform:viewers", "orders-platform:operators"],
            "arn:aws:iam::123456789012:user/dba": ["orders-platform:database-admins"],
        });
        const admins = run.byType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation");
        assert.deepEqual(admins.map((a) => a.inputs.principalArn).sort(), [
            MOCK_DEPLOYER_ROLE_ARN,
            "arn:aws:iam::123456789012:role/platform-admins",
        ]);
        for (const a of admins) {
            assert.equal(a.inputs.policyArn, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy");
            assert.deepEqual(a.inputs.accessScope, { type: "cluster" });
        }
        assert.deepEqual(
            run.warnings.filter((w) => /deployerRoleArn/.test(w)),
            [],
            "the mocked caller is the deployer",
        );
    });

    it("the deployer comes from config: another caller changes no access entry and is warned", async () => {
        const other = await runCluster(
            { provider: "eks", eks: { ...EKS, deployerRoleArn: "arn:aws:iam::123456789012:role/ci-deploy" } },
            { environment: "prod" },
        );
        assert.equal(
            other.get("aws:eks/accessEntry:AccessEntry", "cluster-access-deployer").inputs.principalArn,
            "arn:aws:iam::123456789012:role/ci-deploy",
        );
        assert.equal(
            other.byType("aws:eks/accessEntry:AccessEntry").filter((e) => e.inputs.principalArn === MOCK_DEPLOYER_ROLE_ARN).length,
            0,
        );
        assert.equal(other.warnings.length, 1);
        assert.match(other.warnings[0], new RegExp(`${MOCK_DEPLOYER_ROLE_ARN}.*neither orders-platform:cluster\\.eks\\.deployerRoleArn`));
    });

    it("managed node group in private subnets with min/max/desired and instance types from config", () => {
        const ng = run.get("aws:eks/nodeGroup:NodeGroup", "cluster-nodes");
        assert.deepEqual(ng.inputs.scalingConfig, { minSize: 3, maxSize: 10, desiredSize: 3 });
        assert.deepEqual(ng.inputs.instanceTypes, ["m6i.xlarge", "m6a.xlarge"]);
        assert.equal(ng.inputs.diskSize, undefined, "the launch template sizes the root volume");
        const lt = run.get("aws:ec2/launchTemplate:LaunchTemplate", "cluster-nodes");
        assert.deepEqual(ng.inputs.launchTemplate, { id: "cluster-nodes-id", version: "1" });
        // IMDSv2 only, and one hop: pods cannot reach the node role's credentials.
        assert.deepEqual(lt.inputs.metadataOptions, { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 });
        assert.deepEqual(lt.inputs.blockDeviceMappings, [
            { deviceName: "/dev/xvda", ebs: { volumeSize: 100, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" } },
        ]);
        assert.deepEqual(ng.inputs.subnetIds, ["cluster-private-0-id", "cluster-private-1-id", "cluster-private-2-id"]);
        assert.equal(ng.protect, true);
        assert.ok(ng.dependsOn.includes(urnOf(run.get("aws:eks/addon:Addon", "cluster-vpc-cni"))), "CNI before nodes");
        assert.deepEqual(ng.ignoreChanges, ["scalingConfig.desiredSize"]);
    });

    it("OIDC provider, EBS CSI add-on with its IRSA role, encrypted gp3 default StorageClass", async () => {
        const oidc = run.get("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "cluster-oidc");
        assert.equal(oidc.inputs.url, MOCK_EKS_ISSUER);
        assert.deepEqual(oidc.inputs.clientIdLists, ["sts.amazonaws.com"]);
        const ebs = run.get("aws:eks/addon:Addon", "cluster-ebs-csi");
        assert.equal(ebs.inputs.addonName, "aws-ebs-csi-driver");
        assert.equal(ebs.inputs.serviceAccountRoleArn, "arn:aws:iam::123456789012:role/cluster-ebs-csi-role");
        assert.deepEqual(json(run.get("aws:eks/addon:Addon", "cluster-vpc-cni").inputs.configurationValues), {
            enableNetworkPolicy: "true",
        });
        const metrics = run.get("aws:eks/addon:Addon", "cluster-metrics-server");
        assert.equal(metrics.inputs.addonName, "metrics-server", "HPAs need the resource metrics API");
        assert.ok(metrics.dependsOn.includes(urnOf(run.get("aws:eks/nodeGroup:NodeGroup", "cluster-nodes"))));
        const sc = run.get("kubernetes:storage.k8s.io/v1:StorageClass", "cluster-gp3");
        assert.equal(sc.inputs.metadata.name, "gp3");
        assert.equal(sc.inputs.metadata.annotations["storageclass.kubernetes.io/is-default-class"], "true");
        assert.equal(sc.inputs.provisioner, "ebs.csi.aws.com");
        assert.equal(sc.inputs.parameters.encrypted, "true");
        assert.equal(sc.inputs.parameters.type, "gp3");
        assert.equal(sc.inputs.reclaimPolicy, "Retain", "protected stacks keep volumes");
        assert.deepEqual(await validateKubernetesObjects(run.resources), []);
        assert.equal(providerUrn(sc), urnOf(run.get("pulumi:providers:kubernetes", "cluster-k8s")));
        const k8sProvider = run.get("pulumi:providers:kubernetes", "cluster-k8s");
        for (const dep of [run.get("aws:eks/nodeGroup:NodeGroup", "cluster-nodes"), ebs])
            assert.ok(k8sProvider.dependsOn.includes(dep.urn));
    });

    it("ECR repository per app: immutable tags, scan on push, encrypted, lifecycle keeping the last N", () => {
        const repos = run.byType("aws:ecr/repository:Repository");
        assert.deepEqual(repos.map((r) => r.inputs.name).sort(), ["orders-platform/prod/orders", "orders-platform/prod/users"]);
        for (const r of repos) {
            assert.equal(r.inputs.imageTagMutability, "IMMUTABLE");
            assert.deepEqual(r.inputs.imageScanningConfiguration, { scanOnPush: true });
            assert.equal(r.inputs.encryptionConfigurations[0].encryptionType, "KMS");
            assert.equal(r.inputs.forceDelete, false);
            assert.equal(r.protect, true);
        }
        for (const lp of run.byType("aws:ecr/lifecyclePolicy:LifecyclePolicy")) {
            assert.equal(json(lp.inputs.policy).rules[0].selection.countNumber, 100);
        }
    });

    it("S3 backup bucket (versioned, encrypted, private, never expiring backups by age) and IRSA roles for backups and WAL", () => {
        const bucket = run.get("aws:s3/bucket:Bucket", "cluster-backups");
        assert.equal(bucket.inputs.forceDestroy, false);
        assert.equal(bucket.protect, true);
        assert.equal(
            run.get("aws:s3/bucketVersioning:BucketVersioning", "cluster-backups").inputs.versioningConfiguration.status,
            "Enabled",
        );
        assert.equal(
            run.get("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "cluster-backups").inputs
                .rules[0].applyServerSideEncryptionByDefault.sseAlgorithm,
            "aws:kms",
        );
        const pab = run.get("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "cluster-backups").inputs;
        assert.ok(pab.blockPublicAcls && pab.blockPublicPolicy && pab.ignorePublicAcls && pab.restrictPublicBuckets);
        // Age alone never deletes a backup: only what the uploader deleted expires (30 days later).
        const rules = run.get("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "cluster-backups").inputs.rules;
        assert.ok(rules.every((r: any) => r.expiration?.days === undefined && r.expiration?.date === undefined));
        assert.deepEqual(rules[0].noncurrentVersionExpiration, { noncurrentDays: 30 });
        assert.deepEqual(rules[0].abortIncompleteMultipartUpload, { daysAfterInitiation: 1 });
        assert.deepEqual(rules[1].expiration, { expiredObjectDeleteMarker: true });
        // WAL archiving: the database's own ServiceAccount may only add objects below postgres-wal/.
        const walTrust = json(run.get("aws:iam/role:Role", "cluster-wal-archive-role").inputs.assumeRolePolicy);
        assert.equal(
            walTrust.Statement[0].Condition.StringEquals[`${MOCK_EKS_ISSUER.replace("https://", "")}:sub`],
            "system:serviceaccount:orders-data:postgres",
        );
        const walPolicy = json(run.get("aws:iam/rolePolicy:RolePolicy", "cluster-wal-archive-s3").inputs.policy);
        assert.deepEqual(walPolicy.Statement, [
            { Effect: "Allow", Action: ["s3:PutObject"], Resource: `${walPolicy.Statement[0].Resource.split("/")[0]}/postgres-wal/*` },
        ]);

        const trust = json(run.get("aws:iam/role:Role", "cluster-backup-role").inputs.assumeRolePolicy);
        const issuer = MOCK_EKS_ISSUER.replace("https://", "");
        assert.deepEqual(trust.Statement[0].Condition.StringEquals, {
            [`${issuer}:sub`]: "system:serviceaccount:orders-data:postgres-backup",
            [`${issuer}:aud`]: "sts.amazonaws.com",
        });
        const policy = json(run.get("aws:iam/rolePolicy:RolePolicy", "cluster-backup-s3").inputs.policy);
        const bucketArn = "arn:aws:s3:::orders-prod-pg-backups-20250101000000000000000001";
        assert.deepEqual(
            policy.Statement.map((s: { Resource: string }) => s.Resource),
            [bucketArn, `${bucketArn}/*`],
        );
        assert.deepEqual(run.outputs.backupTarget, {
            kind: "s3",
            bucket: "orders-prod-pg-backups-20250101000000000000000001",
            region: "eu-west-1",
            serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/cluster-backup-role" },
            walArchiveServiceAccountAnnotations: {
                "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/cluster-wal-archive-role",
            },
        });
    });

    it("outputs: exec kubeconfig (secret), ECR registry with credentials from the ECR token, gp3", () => {
        const kc = JSON.parse(run.outputs.kubeconfig);
        assert.equal(kc.users[0].user.exec.command, "aws");
        assert.ok(kc.users[0].user.exec.args.includes("orders-prod"));
        assert.equal(run.outputs.secret, true);
        assert.equal(run.outputs.server, "123456789012.dkr.ecr.eu-west-1.amazonaws.com");
        assert.equal(run.outputs.usersRepo, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/prod/users");
        assert.deepEqual(run.outputs.credentials, { username: "AWS", password: MOCK_ECR_PASSWORD });
        assert.equal(run.outputs.storageClassName, "gp3");
        assert.deepEqual(run.outputs.topology, { multiNode: true, multiZone: true });
        // Every AWS resource goes through the stack's explicit regional provider.
        const awsProvider = urnOf(run.get("pulumi:providers:aws", "cluster-aws"));
        assert.equal(run.get("pulumi:providers:aws", "cluster-aws").inputs.region, "eu-west-1");
        assert.ok(run.resources.filter((r) => r.type.startsWith("aws:")).every((r) => providerUrn(r) === awsProvider));
    });

    it("single NAT gateway by default; nothing protected when protect is false", async () => {
        const staging = await runCluster(
            { provider: "eks", eks: { region: "eu-west-1", deployerRoleArn: MOCK_DEPLOYER_ROLE_ARN } },
            { environment: "staging" },
        );
        assert.equal(staging.byType("aws:ec2/natGateway:NatGateway").length, 1);
        assert.equal(staging.byType("aws:ec2/subnet:Subnet").length, 4);
        assert.deepEqual(
            staging.resources.filter((r) => r.protect).map((r) => r.name),
            [],
        );
        assert.equal(staging.get("aws:eks/cluster:Cluster", "cluster-eks").inputs.deletionProtection, false);
        assert.equal(staging.get("aws:s3/bucket:Bucket", "cluster-backups").inputs.forceDestroy, true);
    });
});

describe("cluster: GKE", () => {
    let run: ProgramRun<ClusterRunOutputs>;
    before(async () => {
        run = await runCluster({ provider: "gke", gke: GKE }, { environment: "prod", protect: true, retentionDays: 30 });
    });

    it("Google Groups for RBAC only when a security group is configured", async () => {
        assert.equal(run.get("gcp:container/cluster:Cluster", "cluster-gke").inputs.authenticatorGroupsConfig, undefined);
        const withGroups = await runCluster({ provider: "gke", gke: { ...GKE, securityGroup: "gke-security-groups@example.com" } });
        assert.deepEqual(withGroups.get("gcp:container/cluster:Cluster", "cluster-gke").inputs.authenticatorGroupsConfig, {
            securityGroup: "gke-security-groups@example.com",
        });
    });

    it("VPC-native network: custom subnet with pods/services secondary ranges, Cloud NAT", () => {
        assert.equal(run.get("gcp:compute/network:Network", "cluster-vpc").inputs.autoCreateSubnetworks, false);
        const subnet = run.get("gcp:compute/subnetwork:Subnetwork", "cluster-subnet").inputs;
        assert.equal(subnet.ipCidrRange, "10.10.0.0/20");
        assert.deepEqual(subnet.secondaryIpRanges, [
            { rangeName: "pods", ipCidrRange: "10.20.0.0/14" },
            { rangeName: "services", ipCidrRange: "10.24.0.0/20" },
        ]);
        assert.equal(
            run.get("gcp:compute/routerNat:RouterNat", "cluster-nat").inputs.sourceSubnetworkIpRangesToNat,
            "ALL_SUBNETWORKS_ALL_IP_RANGES",
        );
    });

    it("regional cluster: default pool removed, release channel, Workload Identity, private nodes, deletion protection", () => {
        const gke = run.get("gcp:container/cluster:Cluster", "cluster-gke");
        assert.equal(gke.inputs.location, "europe-west1");
        assert.equal(gke.inputs.removeDefaultNodePool, true);
        assert.equal(gke.inputs.initialNodeCount, 1);
        assert.deepEqual(gke.inputs.releaseChannel, { channel: "REGULAR" });
        assert.deepEqual(gke.inputs.workloadIdentityConfig, { workloadPool: "orders-prod-123456.svc.id.goog" });
        assert.deepEqual(gke.inputs.ipAllocationPolicy, { clusterSecondaryRangeName: "pods", servicesSecondaryRangeName: "services" });
        assert.equal(gke.inputs.privateClusterConfig.enablePrivateNodes, true);
        assert.equal(gke.inputs.privateClusterConfig.masterIpv4CidrBlock, "172.16.0.0/28");
        // The private control plane must reach istiod's webhooks on the nodes.
        const firewall = run.get("gcp:compute/firewall:Firewall", "cluster-control-plane-webhooks");
        assert.deepEqual(firewall.inputs.sourceRanges, ["172.16.0.0/28"]);
        assert.deepEqual(firewall.inputs.allows, [{ protocol: "tcp", ports: ["15017"] }]);
        const tags = run.get("gcp:container/nodePool:NodePool", "cluster-nodes").inputs.nodeConfig.tags;
        assert.deepEqual(firewall.inputs.targetTags, tags);
        assert.equal(gke.inputs.datapathProvider, "ADVANCED_DATAPATH", "NetworkPolicies are enforced");
        assert.equal(gke.inputs.deletionProtection, true);
        assert.equal(gke.protect, true);
    });

    it("separate autoscaling node pool with GKE_METADATA and a minimal node service account", () => {
        const pool = run.get("gcp:container/nodePool:NodePool", "cluster-nodes");
        assert.deepEqual(pool.inputs.autoscaling, { minNodeCount: 1, maxNodeCount: 3 });
        assert.deepEqual(pool.inputs.nodeConfig.workloadMetadataConfig, { mode: "GKE_METADATA" });
        assert.equal(pool.inputs.nodeConfig.machineType, "e2-standard-4");
        assert.equal(pool.inputs.nodeConfig.serviceAccount, "orders-prod-nodes@mock-project.iam.gserviceaccount.com");
        assert.equal(pool.protect, true);
        assert.deepEqual(
            run.byType("gcp:projects/iAMMember:IAMMember").map((m) => m.inputs.role),
            ["roles/container.defaultNodeServiceAccount"],
        );
    });

    it("Artifact Registry Docker repository with immutable tags; credentials from the gcloud access token", () => {
        const repo = run.get("gcp:artifactregistry/repository:Repository", "cluster-registry");
        assert.equal(repo.inputs.format, "DOCKER");
        assert.deepEqual(repo.inputs.dockerConfig, { immutableTags: true });
        assert.equal(repo.protect, true);
        assert.equal(run.outputs.server, "europe-west1-docker.pkg.dev");
        assert.equal(run.outputs.usersRepo, "europe-west1-docker.pkg.dev/orders-prod-123456/orders-prod/users");
        assert.deepEqual(run.outputs.credentials, { username: "oauth2accesstoken", password: MOCK_GCP_ACCESS_TOKEN });
    });

    it("GCS backup bucket + Google SA bound by Workload Identity to exactly the backup ServiceAccount", () => {
        const bucket = run.get("gcp:storage/bucket:Bucket", "cluster-backups");
        assert.equal(bucket.inputs.uniformBucketLevelAccess, true);
        assert.equal(bucket.inputs.publicAccessPrevention, "enforced");
        assert.equal(bucket.inputs.forceDestroy, false);
        // Never by age: only what the uploader deleted (noncurrent) goes, 30 days later.
        assert.deepEqual(bucket.inputs.lifecycleRules, [
            { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: 30 } },
            { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 1 } },
        ]);
        const wal = run.get("gcp:storage/bucketIAMMember:BucketIAMMember", "cluster-wal-archive-objects").inputs;
        assert.equal(wal.role, "roles/storage.objectCreator", "create-only: WAL upload cannot read or delete backups");
        assert.equal(
            run.get("gcp:serviceaccount/iAMMember:IAMMember", "cluster-wal-archive-workload-identity").inputs.member,
            "serviceAccount:orders-prod-123456.svc.id.goog[orders-data/postgres]",
        );
        assert.equal(bucket.protect, true);
        const objects = run.get("gcp:storage/bucketIAMMember:BucketIAMMember", "cluster-backup-objects").inputs;
        assert.equal(objects.role, "roles/storage.objectAdmin");
        assert.equal(objects.member, "serviceAccount:orders-prod-pg-backup@mock-project.iam.gserviceaccount.com");
        const wi = run.get("gcp:serviceaccount/iAMMember:IAMMember", "cluster-backup-workload-identity").inputs;
        assert.equal(wi.role, "roles/iam.workloadIdentityUser");
        assert.equal(wi.member, "serviceAccount:orders-prod-123456.svc.id.goog[orders-data/postgres-backup]");
        assert.deepEqual(run.outputs.backupTarget, {
            kind: "gcs",
            bucket: "orders-prod-123456-orders-prod-pg-backups",
            serviceAccountAnnotations: { "iam.gke.io/gcp-service-account": "orders-prod-pg-backup@mock-project.iam.gserviceaccount.com" },
            walArchiveServiceAccountAnnotations: {
                "iam.gke.io/gcp-service-account": "orders-prod-pg-wal@mock-project.iam.gserviceaccount.com",
            },
        });
    });

    it("outputs: gke-gcloud-auth-plugin kubeconfig (secret), standard-rwo, multi-zone topology; no AWS", () => {
        const kc = JSON.parse(run.outputs.kubeconfig);
        assert.equal(kc.users[0].user.exec.command, "gke-gcloud-auth-plugin");
        assert.equal(kc.clusters[0].cluster.server, "https://34.1.2.3");
        assert.equal(run.outputs.secret, true);
        assert.equal(run.outputs.storageClassName, "standard-rwo");
        assert.deepEqual(run.byType("kubernetes:storage.k8s.io/v1:StorageClass"), [], "GKE's built-in class is used");
        assert.deepEqual(run.outputs.topology, { multiNode: true, multiZone: true });
        assert.deepEqual(cloudTypes(run, "aws:"), []);
        const gcpProvider = run.get("pulumi:providers:gcp", "cluster-gcp");
        assert.equal(gcpProvider.inputs.project, "orders-prod-123456");
        assert.ok(run.resources.filter((r) => r.type.startsWith("gcp:")).every((r) => providerUrn(r) === gcpProvider.urn));
    });
});

describe("cluster: existing", () => {
    it("only a Kubernetes provider for the configured context; registry and StorageClass from config", async () => {
        const kubeconfigFile = path.join(fs.mkdtempSync(path.join(require("node:os").tmpdir(), "kc-")), "config");
        fs.writeFileSync(kubeconfigFile, "apiVersion: v1\nkind: Config\n");
        const run = await runCluster({
            provider: "existing",
            existing: {
                context: "prod-admin",
                kubeconfigPath: kubeconfigFile,
                registry: "registry.example.com/orders",
                storageClass: "fast",
            },
        });
        const custom = run.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
        assert.deepEqual(custom, []);
        const provider = run.get("pulumi:providers:kubernetes", "cluster-k8s");
        assert.equal(provider.inputs.context, "prod-admin");
        assert.equal(provider.inputs.kubeconfig, "apiVersion: v1\nkind: Config\n");
        assert.equal(run.outputs.server, "registry.example.com");
        assert.equal(run.outputs.usersRepo, "registry.example.com/orders/users");
        assert.equal(run.outputs.credentials, undefined);
        assert.equal(run.outputs.storageClassName, "fast");
        assert.deepEqual(run.outputs.backupTarget, { kind: "volume" });
        assert.equal(run.outputs.secret, true);
    });

    it("fails with the config key when the configured kubeconfig file is missing", async () => {
        await assert.rejects(
            runCluster({
                provider: "existing",
                existing: { context: "c", kubeconfigPath: "/nonexistent/kubeconfig", registry: "r.example.com/o" },
            }),
            /cluster\.existing\.kubeconfigPath: \/nonexistent\/kubeconfig does not exist/,
        );
    });
});

// ---------------------------------------------------------------------------------------------
// INTEGRATION (runs the real index.ts): needs every component of the program. Skipped until the
// composition root loads; the lead runs it at integration.
// ---------------------------------------------------------------------------------------------
function indexLoads(): boolean {
    const components = ["cluster", "images", "mesh", "observability", "workloads"];
    return components.every((c) => fs.existsSync(path.join(PROJECT_ROOT, "components", c, "index.ts")));
}

(indexLoads() ? describe : describe.skip)("cluster: switching cluster.provider (runStack, integration)", () => {
    const GKE_OVERRIDES = {
        "cluster.provider": "gke",
        "cluster.eks": undefined,
        "cluster.gke": { ...GKE, masterAuthorizedCidrs: ["198.51.100.0/24"] },
        "aws:region": undefined,
    };
    const IMAGE = /^(?<repo>[^@\s]+):(?<tag>[^@:/\s]+)@sha256:[a-f0-9]{64}$/;

    /** Kubernetes objects outside the Cluster component, with cloud-specific values abstracted. */
    function downstream(run: ProgramRun, registryPrefix: string, storageClass: string) {
        const objects = run.resources.filter((r) => r.type.startsWith("kubernetes:") && !r.urn.includes("orders-platform:cluster:Cluster"));
        return objects
            .map((r) => {
                const text = JSON.stringify(r.inputs)
                    .replace(/@sha256:[a-f0-9]{64}/g, "@sha256:<digest>")
                    .split(registryPrefix)
                    .join("<registry>/")
                    .split(`"${storageClass}"`)
                    .join('"<default-storage-class>"');
                return { key: `${r.type}/${r.name}`, text };
            })
            .sort((a, b) => a.key.localeCompare(b.key));
    }

    function images(run: ProgramRun): string[] {
        return run
            .byType("kubernetes:apps/v1:Deployment")
            .flatMap((d) => [...(d.inputs.spec.template.spec.containers ?? []), ...(d.inputs.spec.template.spec.initContainers ?? [])])
            .map((c: { image: string }) => c.image);
    }

    it("every app Deployment image is <registry>/<app>:<version>@sha256, never latest, for EKS and GKE", async () => {
        for (const [overrides, prefix] of [
            [{}, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/staging/"],
            [GKE_OVERRIDES, "europe-west1-docker.pkg.dev/orders-prod-123456/orders-staging/"],
        ] as const) {
            const run = await runStack("staging", overrides);
            const appImages = images(run).filter((i) => /\/(users|orders):/.test(i));
            assert.ok(appImages.length >= 2, `app images found: ${appImages.join(", ")}`);
            for (const image of appImages) {
                assert.ok(image.startsWith(prefix), `${image} is not from ${prefix}`);
                const m = IMAGE.exec(image);
                assert.ok(m, `${image} is not tag+digest pinned`);
                assert.notEqual(m!.groups!.tag, "latest");
            }
        }
    });

    it("EKS -> GKE changes nothing downstream but the provider, the registry and the default StorageClass", async () => {
        const eks = await runStack("staging");
        const gke = await runStack("staging", GKE_OVERRIDES);
        // By design: backup and log storage credentials and egress (IRSA + S3 vs Workload Identity +
        // GCS and the GKE metadata server), the Istio charts' platform profile (GKE has one), and
        // NetworkPolicies naming the cluster's API server and node addresses, and the mesh's ServiceEntries
        // for the cloud's storage and token endpoints. Everything else must be identical.
        const backupSpecific = (o: { key: string }) =>
            /backup/i.test(o.key) ||
            /ServiceEntry\/egress-(s3|aws-sts|gcs|gke-metadata-\d+)$/.test(o.key) ||
            // The admission policy holds the policy config's allowlist, which names both clouds' registries.
            /ValidatingAdmissionPolicy\//.test(o.key) ||
            /helm\.sh\/v4:Chart\/(istio|loki)/.test(o.key) ||
            /NetworkPolicy\/.*-(apiserver|nodes|gke-metadata|object-storage)-/.test(o.key);
        const a = downstream(eks, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/staging/", "gp3").filter(
            (o) => !backupSpecific(o),
        );
        const b = downstream(gke, "europe-west1-docker.pkg.dev/orders-prod-123456/orders-staging/", "standard-rwo").filter(
            (o) => !backupSpecific(o),
        );
        assert.deepEqual(
            b.map((o) => o.key),
            a.map((o) => o.key),
        );
        assert.ok(a.length > 20, `compared ${a.length} objects`);
        const differing = a.filter((o, i) => o.text !== b[i].text).map((o) => o.key);
        assert.deepEqual(differing, []);
        const k8sProviders = (run: ProgramRun) =>
            new Set(
                run.resources
                    .filter((r) => r.type.startsWith("kubernetes:") && r.provider)
                    .map((r) => r.provider!.split("::").slice(-2, -1)[0]),
            );
        assert.deepEqual([...k8sProviders(eks)], ["cluster-k8s"]);
        assert.deepEqual([...k8sProviders(gke)], ["cluster-k8s"]);
    });
});
