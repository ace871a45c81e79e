// Pure builders for the EKS variant: subnet layout, IAM policy documents, ECR lifecycle, gp3 StorageClass,
// access entries.
import { createHash } from "node:crypto";
import type { TeamGroups } from "../access/roleSpec";

/** Managed policies of the EKS control-plane role (nothing else: no wildcard inline policies). */
export const CLUSTER_ROLE_POLICIES = ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"] as const;

/**
 * Managed policies of the node role: join the cluster and pull from ECR. The VPC CNI gets its
 * permissions through its own IRSA role, and `...PullOnly` (not `...ReadOnly`) because nodes only pull.
 */
export const NODE_ROLE_POLICIES = [
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
] as const;

export const VPC_CNI_POLICY = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy";
/** ServiceAccount of the VPC CNI DaemonSet. */
export const VPC_CNI_SERVICE_ACCOUNT = { namespace: "kube-system", name: "aws-node" } as const;
export const EBS_CSI_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy";
/** ServiceAccount of the EBS CSI controller (installed by the EKS add-on). */
export const EBS_CSI_SERVICE_ACCOUNT = { namespace: "kube-system", name: "ebs-csi-controller-sa" } as const;
export const CLUSTER_ADMIN_ACCESS_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";
export const GP3_STORAGE_CLASS = "gp3";

/** IAM principals per team role (`cluster.eks.access`). */
export interface EksTeamPrincipals {
    viewers: string[];
    operators: string[];
    databaseAdmins: string[];
}

export interface EksAccessEntry {
    /** Stable part of the resource name: renaming it would replace the entry (and cut access meanwhile). */
    id: string;
    principalArn: string;
    /** Cluster-admin through the EKS access policy (the deployer and `adminPrincipalArns`). */
    clusterAdmin: boolean;
    /** Kubernetes groups the principal carries; RoleBindings of components/access grant them rights. */
    kubernetesGroups: string[];
}

/**
 * One access entry per IAM principal (EKS allows no second one): the deployer role from config,
 * the configured admins, then every principal of a team role with the groups of its roles. The
 * deployer is config, never "whoever runs this update": otherwise a local `up` with other
 * credentials would replace CI's entry with its own.
 */
export function eksAccessEntries(args: {
    deployerRoleArn: string;
    adminPrincipalArns: string[];
    team: EksTeamPrincipals;
    groups: TeamGroups;
}): EksAccessEntry[] {
    const entries: EksAccessEntry[] = [{ id: "deployer", principalArn: args.deployerRoleArn, clusterAdmin: true, kubernetesGroups: [] }];
    const byArn = new Map(entries.map((e) => [e.principalArn, e]));
    args.adminPrincipalArns.forEach((arn, i) => {
        if (byArn.has(arn)) return;
        const entry: EksAccessEntry = { id: `admin-${i}`, principalArn: arn, clusterAdmin: true, kubernetesGroups: [] };
        entries.push(entry);
        byArn.set(arn, entry);
    });
    for (const key of ["viewers", "operators", "databaseAdmins"] as const) {
        for (const arn of args.team[key]) {
            let entry = byArn.get(arn);
            if (!entry) {
                entry = { id: principalId(arn), principalArn: arn, clusterAdmin: false, kubernetesGroups: [] };
                entries.push(entry);
                byArn.set(arn, entry);
            }
            // A cluster admin needs no group; a group on it would only mislead.
            if (!entry.clusterAdmin && !entry.kubernetesGroups.includes(args.groups[key])) entry.kubernetesGroups.push(args.groups[key]);
        }
    }
    return entries;
}

/**
 * A warning when the identity running the update gets no access entry: its `up` still works for
 * the cloud resources, but its Kubernetes calls are refused once the entries exist.
 */
export function callerAccessWarning(callerRoleArn: string, entries: EksAccessEntry[]): string | undefined {
    if (entries.some((e) => e.clusterAdmin && e.principalArn === callerRoleArn)) return undefined;
    return (
        `the identity running this update (${callerRoleArn}) is neither orders-platform:cluster.eks.deployerRoleArn ` +
        `(${entries[0].principalArn}) nor in cluster.eks.adminPrincipalArns, so the Kubernetes API refuses it; ` +
        "deploy with the deployer role, or add this principal to adminPrincipalArns"
    );
}

/** Name part derived from the ARN alone, so reordering the config lists never replaces an entry. */
function principalId(arn: string): string {
    const tail = arn
        .split("/")
        .pop()!
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, "-")
        .slice(0, 40);
    return `${tail}-${createHash("sha256").update(arn).digest("hex").slice(0, 8)}`;
}

function ipToInt(ip: string): number {
    const parts = ip.split(".").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`invalid IPv4 address ${ip}`);
    return parts.reduce((acc, p) => acc * 256 + p, 0);
}

function intToIp(n: number): string {
    return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
}

/** The `index`-th subnet of `cidr` with prefix length `newPrefix`. */
export function subnetOf(cidr: string, newPrefix: number, index: number): string {
    const [ip, prefixText] = cidr.split("/");
    const prefix = Number(prefixText);
    if (newPrefix < prefix || newPrefix > 32) throw new Error(`cannot cut /${newPrefix} subnets out of ${cidr}`);
    const count = 2 ** (newPrefix - prefix);
    if (index < 0 || index >= count) throw new Error(`${cidr} has only ${count} /${newPrefix} subnets (asked for #${index})`);
    const size = 2 ** (32 - prefix);
    const base = ipToInt(ip) - (ipToInt(ip) % size);
    return `${intToIp(base + index * 2 ** (32 - newPrefix))}/${newPrefix}`;
}

export interface SubnetLayout {
    /** One per AZ: nodes and pods (the VPC CNI gives pods VPC addresses, so these are large). */
    private: string[];
    /** One per AZ: load balancers and NAT gateways only. */
    public: string[];
}

/**
 * Splits the VPC into eighths: the first `azCount` eighths are private subnets, the last eighth is
 * cut into eight small public subnets. Up to 6 AZs; no overlaps by construction.
 */
export function subnetLayout(vpcCidr: string, azCount: number): SubnetLayout {
    const prefix = Number(vpcCidr.split("/")[1]);
    if (prefix > 22) throw new Error(`VPC ${vpcCidr} is too small; use /22 or larger`);
    if (azCount < 1 || azCount > 7) throw new Error(`azCount must be 1..7, got ${azCount}`);
    return {
        private: Array.from({ length: azCount }, (_, i) => subnetOf(vpcCidr, prefix + 3, i)),
        public: Array.from({ length: azCount }, (_, i) => subnetOf(vpcCidr, prefix + 6, 7 * 8 + i)),
    };
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: Array<Record<string, unknown>>;
}

/** Trust policy for an AWS service principal (EKS control plane, EC2 nodes). */
export function serviceAssumeRolePolicy(service: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: ["sts:AssumeRole", "sts:TagSession"] }],
    };
}

/** IRSA trust: only this Kubernetes ServiceAccount of this cluster may assume the role. */
export function irsaAssumeRolePolicy(args: {
    oidcProviderArn: string;
    oidcIssuerUrl: string;
    namespace: string;
    serviceAccount: string;
}): PolicyDocument {
    const issuer = args.oidcIssuerUrl.replace(/^https:\/\//, "");
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Principal: { Federated: args.oidcProviderArn },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: {
                    StringEquals: {
                        [`${issuer}:sub`]: `system:serviceaccount:${args.namespace}:${args.serviceAccount}`,
                        [`${issuer}:aud`]: "sts.amazonaws.com",
                    },
                },
            },
        ],
    };
}

/** The control plane envelope-encrypts Secrets with this key. */
export function clusterKmsPolicy(keyArn: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"], Resource: keyArn }],
    };
}

/** A bucket's user (backups, Loki): read/write/list/delete objects in that bucket, nothing else. */
export function objectReadWritePolicy(bucketArn: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            { Effect: "Allow", Action: ["s3:ListBucket"], Resource: bucketArn },
            { Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], Resource: `${bucketArn}/*` },
        ],
    };
}

/** WAL archiving from the database pod: it may add objects below the WAL prefix, nothing else. */
export function walArchiveBucketPolicy(bucketArn: string, prefix: string): PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["s3:PutObject"], Resource: `${bucketArn}/${prefix}/*` }],
    };
}

/**
 * Backup bucket lifecycle. Backups are never expired by age here: the uploader deletes them and
 * always keeps the newest successful ones (components/database/scripts/backup-retention.sh). The
 * bucket only removes what the uploader deleted (noncurrent versions, after a grace period in which
 * a mistaken delete can be undone), stale delete markers and abandoned multipart uploads.
 */
export function backupLifecycleRules(noncurrentDays: number) {
    return [
        {
            id: "expire-deleted-backups",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
        { id: "remove-expired-delete-markers", status: "Enabled", filter: {}, expiration: { expiredObjectDeleteMarker: true } },
    ];
}

/** Logs bucket: Loki's compactor deletes by retention; the bucket only drops abandoned uploads. */
export function logsLifecycleRules() {
    return [{ id: "abort-incomplete-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } }];
}

/** ECR lifecycle: keep the newest `keep` images of any tag, expire older ones. */
export function ecrLifecyclePolicy(keep: number) {
    return {
        rules: [
            {
                rulePriority: 1,
                description: `keep the last ${keep} images`,
                selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
                action: { type: "expire" },
            },
        ],
    };
}

/** ECR repository name of an app in an environment. */
export function ecrRepositoryName(environment: string, app: string): string {
    return `orders-platform/${environment}/${app}`;
}

/** Default StorageClass: encrypted gp3 via the EBS CSI driver, bound where the pod lands. */
export function gp3StorageClass(args: { reclaimPolicy: "Delete" | "Retain" }) {
    return {
        metadata: {
            name: GP3_STORAGE_CLASS,
            annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
        },
        provisioner: "ebs.csi.aws.com",
        parameters: { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" },
        reclaimPolicy: args.reclaimPolicy,
        volumeBindingMode: "WaitForFirstConsumer",
        allowVolumeExpansion: true,
    };
}

/** VPC CNI add-on settings: enforce Kubernetes NetworkPolicies (off by default on EKS). */
export const VPC_CNI_CONFIGURATION = { enableNetworkPolicy: "true" } as const;

/**
 * A warning when an EKS minor is past (or within `warnDays` of) the end of its standard support,
 * or unknown to the calendar in components/versions.ts; undefined when all is well.
 */
export function eksSupportWarning(
    version: string,
    upgradePolicy: "STANDARD" | "EXTENDED",
    calendar: Readonly<Record<string, string>>,
    today: Date,
    warnDays = 60,
): string | undefined {
    const key = "orders-platform:cluster.eks.kubernetesVersion";
    const ends = calendar[version];
    if (!ends) return `${key} = ${version}: not in the EKS support calendar of components/versions.ts; check its standard support dates`;
    const daysLeft = Math.floor((Date.parse(`${ends}T00:00:00Z`) - today.getTime()) / 86_400_000);
    if (daysLeft > warnDays) return undefined;
    const consequence =
        upgradePolicy === "STANDARD"
            ? "EKS then upgrades the control plane by itself (upgradePolicy STANDARD)"
            : "the cluster then runs on paid extended support (upgradePolicy EXTENDED)";
    return daysLeft < 0
        ? `${key} = ${version}: standard support ended on ${ends}; ${consequence}. Move to a newer minor.`
        : `${key} = ${version}: standard support ends on ${ends} (${daysLeft} days); ${consequence}. Plan the upgrade.`;
}

/**
 * Instance metadata of the nodes: IMDSv2 only, one hop. Pods sit one network hop behind the node,
 * so with a hop limit of 1 they cannot fetch the node role's credentials (they use IRSA).
 */
export const NODE_METADATA_OPTIONS = { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 } as const;

/** Root volume of AL2023 nodes (a launch template replaces the node group's diskSize). */
export function nodeRootVolume(sizeGiB: number) {
    return {
        deviceName: "/dev/xvda",
        ebs: { volumeSize: sizeGiB, volumeType: "gp3", encrypted: "true", deleteOnTermination: "true" },
    };
}
