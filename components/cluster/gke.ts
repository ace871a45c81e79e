// GKE variant: VPC-native network, regional private-node cluster with Workload Identity,
// a separate autoscaling node pool, Artifact Registry and the backup bucket.
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { GkeConfig } from "../config";
import {
    artifactImageRepository,
    artifactRegistryHost,
    artifactRepositoryId,
    gkeClusterName,
    GKE_STORAGE_CLASS,
    NODE_SERVICE_ACCOUNT_ROLES,
    PODS_RANGE,
    SERVICES_RANGE,
    serviceAccountId,
    workloadIdentityMember,
    workloadPool,
} from "./gkeSpec";
import { gkeKubeconfig } from "./kubeconfigSpec";
import { ISTIOD_WEBHOOK_PORT } from "../naming";
import { BACKUP_SERVICE_ACCOUNT, DATABASE_SERVICE_ACCOUNT, LOKI_SERVICE_ACCOUNT, type LogsStorage } from "./types";
import { cloudLabels, type VariantArgs, type VariantOutputs } from "./variant";

export function createGke(name: string, cfg: GkeConfig, args: VariantArgs): VariantOutputs {
    const { environment, protect, parent } = args;
    const clusterName = gkeClusterName(environment);
    const labels = cloudLabels(environment);
    const provider = new gcp.Provider(`${name}-gcp`, { project: cfg.project, region: cfg.region, defaultLabels: labels }, { parent });
    const opts: pulumi.CustomResourceOptions = { parent, provider };
    const protectedOpts: pulumi.CustomResourceOptions = { ...opts, protect };

    // --- network: VPC-native subnet with secondary ranges, Cloud NAT for private nodes ---
    const network = new gcp.compute.Network(
        `${name}-vpc`,
        { name: clusterName, autoCreateSubnetworks: false, routingMode: "REGIONAL" },
        opts,
    );
    const subnet = new gcp.compute.Subnetwork(
        `${name}-subnet`,
        {
            name: clusterName,
            network: network.id,
            region: cfg.region,
            ipCidrRange: cfg.subnetCidr,
            privateIpGoogleAccess: true,
            secondaryIpRanges: [
                { rangeName: PODS_RANGE, ipCidrRange: cfg.podsCidr },
                { rangeName: SERVICES_RANGE, ipCidrRange: cfg.servicesCidr },
            ],
        },
        opts,
    );
    const router = new gcp.compute.Router(`${name}-router`, { name: clusterName, network: network.id, region: cfg.region }, opts);
    new gcp.compute.RouterNat(
        `${name}-nat`,
        {
            name: clusterName,
            router: router.name,
            region: cfg.region,
            natIpAllocateOption: "AUTO_ONLY",
            sourceSubnetworkIpRangesToNat: "ALL_SUBNETWORKS_ALL_IP_RANGES",
            logConfig: { enable: true, filter: "ERRORS_ONLY" },
        },
        opts,
    );

    // --- node identity: a dedicated service account with the minimal node role ---
    const nodeSa = new gcp.serviceaccount.Account(
        `${name}-nodes-sa`,
        { accountId: serviceAccountId(environment, "nodes"), displayName: `${clusterName} GKE nodes` },
        opts,
    );
    for (const role of NODE_SERVICE_ACCOUNT_ROLES) {
        new gcp.projects.IAMMember(
            `${name}-nodes-${role.split("/")[1]}`,
            { project: cfg.project, role, member: pulumi.interpolate`serviceAccount:${nodeSa.email}` },
            opts,
        );
    }

    // --- cluster: regional, default pool removed, Workload Identity, Dataplane V2 (enforces NetworkPolicy) ---
    const cluster = new gcp.container.Cluster(
        `${name}-gke`,
        {
            name: clusterName,
            location: cfg.region,
            network: network.id,
            subnetwork: subnet.id,
            networkingMode: "VPC_NATIVE",
            ipAllocationPolicy: { clusterSecondaryRangeName: PODS_RANGE, servicesSecondaryRangeName: SERVICES_RANGE },
            removeDefaultNodePool: true,
            initialNodeCount: 1,
            releaseChannel: { channel: cfg.releaseChannel },
            workloadIdentityConfig: { workloadPool: workloadPool(cfg.project) },
            datapathProvider: "ADVANCED_DATAPATH",
            privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: false, masterIpv4CidrBlock: cfg.masterCidr },
            masterAuthorizedNetworksConfig: {
                cidrBlocks: cfg.masterAuthorizedCidrs.map((cidrBlock) => ({ cidrBlock, displayName: `allowed ${cidrBlock}` })),
            },
            enableShieldedNodes: true,
            // Google Groups for RBAC: the groups of access.groups are members of this group.
            ...(cfg.securityGroup ? { authenticatorGroupsConfig: { securityGroup: cfg.securityGroup } } : {}),
            deletionProtection: protect,
        },
        protectedOpts,
    );
    // A private control plane reaches nodes on 443/10250 only; Istio's injection and validation
    // webhooks (istiod:15017) would fail every pod and Istio object without this rule.
    const nodeTag = `${clusterName}-nodes`;
    new gcp.compute.Firewall(
        `${name}-control-plane-webhooks`,
        {
            name: `${clusterName}-control-plane-webhooks`,
            network: network.id,
            direction: "INGRESS",
            sourceRanges: [cfg.masterCidr],
            targetTags: [nodeTag],
            allows: [{ protocol: "tcp", ports: [String(ISTIOD_WEBHOOK_PORT)] }],
            description: "GKE control plane to istiod webhooks (sidecar injection, config validation)",
        },
        opts,
    );
    const nodePool = new gcp.container.NodePool(
        `${name}-nodes`,
        {
            cluster: cluster.id,
            location: cfg.region,
            initialNodeCount: cfg.nodesPerZone.min,
            // Per zone: a regional pool has nodes in every zone of the region.
            autoscaling: { minNodeCount: cfg.nodesPerZone.min, maxNodeCount: cfg.nodesPerZone.max },
            management: { autoRepair: true, autoUpgrade: true },
            nodeConfig: {
                machineType: cfg.machineType,
                diskType: "pd-balanced",
                serviceAccount: nodeSa.email,
                oauthScopes: ["https://www.googleapis.com/auth/cloud-platform"],
                workloadMetadataConfig: { mode: "GKE_METADATA" },
                shieldedInstanceConfig: { enableSecureBoot: true, enableIntegrityMonitoring: true },
                labels: { "orders-platform/node-pool": "default" },
                tags: [nodeTag],
            },
        },
        // The autoscaler owns the node count after creation.
        { ...protectedOpts, ignoreChanges: ["initialNodeCount"] },
    );

    const kubeconfig = pulumi.secret(
        pulumi.all([cluster.name, cluster.endpoint, cluster.masterAuth]).apply(([n, endpoint, auth]) =>
            gkeKubeconfig({
                project: cfg.project,
                location: cfg.region,
                clusterName: n,
                endpoint,
                certificateAuthorityData: auth.clusterCaCertificate ?? "",
            }),
        ),
    );
    const k8sProvider = new k8s.Provider(`${name}-k8s`, { kubeconfig }, { parent, dependsOn: [nodePool] });

    // --- Artifact Registry: one Docker repository, immutable tags; nodes may pull from it ---
    const repository = new gcp.artifactregistry.Repository(
        `${name}-registry`,
        {
            repositoryId: artifactRepositoryId(environment),
            location: cfg.region,
            format: "DOCKER",
            description: `orders-platform ${environment} images`,
            dockerConfig: { immutableTags: true },
        },
        protectedOpts,
    );
    new gcp.artifactregistry.RepositoryIamMember(
        `${name}-registry-nodes`,
        {
            repository: repository.name,
            location: cfg.region,
            role: "roles/artifactregistry.reader",
            member: pulumi.interpolate`serviceAccount:${nodeSa.email}`,
        },
        opts,
    );
    const clientConfig = gcp.organizations.getClientConfigOutput({ parent, provider });

    // --- object storage: private buckets, each used through Google service accounts bound to one ServiceAccount ---
    const privateBucket = (
        id: string,
        bucketName: string,
        versioned: boolean,
        lifecycleRules: gcp.types.input.storage.BucketLifecycleRule[],
    ) =>
        new gcp.storage.Bucket(
            `${name}-${id}`,
            {
                name: bucketName,
                location: cfg.region,
                uniformBucketLevelAccess: true,
                publicAccessPrevention: "enforced",
                versioning: { enabled: versioned },
                lifecycleRules,
                forceDestroy: !protect,
            },
            protectedOpts,
        );
    /** A Google service account with `role` on the bucket, usable by exactly this Kubernetes ServiceAccount. */
    const bucketUser = (
        id: string,
        purpose: string,
        displayName: string,
        bucket: gcp.storage.Bucket,
        role: string,
        sa: { namespace: string; name: string },
    ) => {
        const account = new gcp.serviceaccount.Account(
            `${name}-${id}-sa`,
            { accountId: serviceAccountId(environment, purpose), displayName: `${clusterName} ${displayName}` },
            opts,
        );
        new gcp.storage.BucketIAMMember(
            `${name}-${id}-objects`,
            { bucket: bucket.name, role, member: pulumi.interpolate`serviceAccount:${account.email}` },
            opts,
        );
        new gcp.serviceaccount.IAMMember(
            `${name}-${id}-workload-identity`,
            { serviceAccountId: account.name, role: "roles/iam.workloadIdentityUser", member: workloadIdentityMember(cfg.project, sa) },
            // The identity pool exists once the cluster does.
            { ...opts, dependsOn: [cluster] },
        );
        return account.email.apply((email): Record<string, string> => ({ "iam.gke.io/gcp-service-account": email }));
    };

    // Backups: never deleted by age: the uploader deletes backups and keeps the newest successful
    // ones; the bucket only removes what it deleted, after a grace period, and abandoned uploads.
    const bucket = privateBucket("backups", `${cfg.project}-orders-${environment}-pg-backups`, true, [
        { action: { type: "Delete" }, condition: { daysSinceNoncurrentTime: args.backupRetentionDays } },
        { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 1 } },
    ]);
    const backupAnnotations = bucketUser(
        "backup",
        "pg-backup",
        "Postgres backups",
        bucket,
        "roles/storage.objectAdmin",
        BACKUP_SERVICE_ACCOUNT,
    );
    // WAL archiving from the database pod: create-only, so it can neither read nor delete backups.
    const walAnnotations = bucketUser(
        "wal-archive",
        "pg-wal",
        "Postgres WAL archiving",
        bucket,
        "roles/storage.objectCreator",
        DATABASE_SERVICE_ACCOUNT,
    );

    // Logs: Loki's chunks and index; its compactor deletes what is past the retention.
    let logsStorage: LogsStorage = { kind: "volume" };
    if (args.logs) {
        const logsBucket = privateBucket("logs", `${cfg.project}-orders-${environment}-logs`, false, [
            { action: { type: "AbortIncompleteMultipartUpload" }, condition: { age: 1 } },
        ]);
        logsStorage = {
            kind: "gcs",
            bucket: logsBucket.name,
            serviceAccountAnnotations: bucketUser("loki", "loki", "Loki", logsBucket, "roles/storage.objectAdmin", LOKI_SERVICE_ACCOUNT),
        };
    }

    return {
        provider: k8sProvider,
        kubeconfig,
        registry: {
            // Derived from the repository so pushes wait for it.
            server: repository.name.apply(() => artifactRegistryHost(cfg.region)),
            repository: (app) => repository.repositoryId.apply((id) => artifactImageRepository(cfg.region, cfg.project, id, app)),
            credentials: pulumi.secret(clientConfig.accessToken.apply((password) => ({ username: "oauth2accesstoken", password }))),
        },
        storageClassName: pulumi.output(GKE_STORAGE_CLASS),
        backupTarget: {
            kind: "gcs",
            bucket: bucket.name,
            serviceAccountAnnotations: backupAnnotations,
            walArchiveServiceAccountAnnotations: walAnnotations,
        },
        logsStorage,
    };
}
