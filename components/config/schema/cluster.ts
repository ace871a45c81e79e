// `cluster`: which cluster the stack runs on (kind, EKS, GKE or an existing one) and its settings.
import { z } from "zod";
import { EKS } from "../../versions";
import { K8S_NAME, cidr, int, isIpv4Cidr, pattern } from "./common";

export const CLUSTER_PROVIDERS = ["kind", "eks", "gke", "existing"] as const;

const kindSchema = z.strictObject({
    clusterName: pattern(K8S_NAME, "a lowercase DNS label").optional(),
    workers: int(0, 5).default(0),
    /** Host port of the local registry (pushes go to localhost:<port>). */
    registryPort: int(1024, 65535).default(5001),
    /** Host ports mapped to the edge NodePorts. */
    httpPort: int(1, 65535).default(8080),
    httpsPort: int(1, 65535).default(8443),
});

const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/;
const iamPrincipalArn = () => pattern(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+$/, "an IAM role or user ARN");

const eksSchema = z.strictObject({
    region: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, { error: 'must be an AWS region like "eu-west-1"' }),
    kubernetesVersion: pattern(/^1\.\d{2}$/, `a Kubernetes minor version like "${EKS.version}"`).default(EKS.version),
    /** STANDARD: EKS upgrades the control plane when standard support ends; EXTENDED: stays, billed extra. */
    upgradePolicy: z.enum(["STANDARD", "EXTENDED"], { error: "must be STANDARD or EXTENDED" }).default("STANDARD"),
    azCount: int(2, 6).default(2),
    vpcCidr: cidr('a CIDR like "10.0.0.0/16"').default("10.0.0.0/16"),
    nodeGroup: z
        .strictObject({
            instanceTypes: z.array(z.string().min(1)).min(1).default(["m6i.large"]),
            minSize: int(1, 100).default(2),
            maxSize: int(1, 100).default(4),
            desiredSize: int(1, 100).default(2),
            diskSizeGiB: int(20, 2000).default(50),
        })
        .refine((g) => g.minSize <= g.desiredSize && g.desiredSize <= g.maxSize, {
            error: "needs minSize <= desiredSize <= maxSize",
        })
        .prefault({}),
    controlPlaneLogs: z
        .array(z.enum(["api", "audit", "authenticator", "controllerManager", "scheduler"]))
        .default(["api", "audit", "authenticator", "controllerManager", "scheduler"]),
    /**
     * The IAM role that runs `pulumi up` (CI's deploy role): cluster-admin through its access entry.
     * Config, not the caller's identity, so an `up` with other credentials never takes CI's access away.
     */
    deployerRoleArn: pattern(IAM_ROLE_ARN, 'an IAM role ARN like "arn:aws:iam::123456789012:role/orders-deploy"'),
    /** IAM principals (role/user ARNs) given cluster-admin through EKS access entries, besides the deployer. */
    adminPrincipalArns: z.array(iamPrincipalArn()).default([]),
    /** IAM principals per team role: each gets an access entry carrying the role's group (`access.groups`). */
    access: z
        .strictObject({
            viewers: z.array(iamPrincipalArn()).default([]),
            operators: z.array(iamPrincipalArn()).default([]),
            databaseAdmins: z.array(iamPrincipalArn()).default([]),
        })
        .prefault({}),
    /** Who may reach the public API endpoint; staging and prod must set it (components/config/defaults.ts). */
    endpointPublicAccessCidrs: z.array(cidr("a CIDR")).min(1, { error: "must list at least one CIDR" }).default(["0.0.0.0/0"]),
    /** ECR lifecycle: how many images each repository keeps. */
    ecrKeepImages: int(1, 1000).default(30),
    /** NAT gateways for node egress: one shared (cheaper) or one per AZ (survives an AZ outage). */
    natGateways: z.enum(["single", "perAz"], { error: "must be single or perAz" }).default("single"),
});

const gkeSchema = z.strictObject({
    project: z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, { error: "must be a GCP project id" }),
    region: z.string().regex(/^[a-z]+-[a-z]+\d$/, { error: 'must be a GCP region like "europe-west1"' }),
    releaseChannel: z.enum(["RAPID", "REGULAR", "STABLE"], { error: "must be one of RAPID | REGULAR | STABLE" }).default("REGULAR"),
    machineType: z.string().min(1).default("e2-standard-4"),
    nodesPerZone: z
        .strictObject({ min: int(0, 100).default(1), max: int(1, 100).default(3) })
        .refine((n) => n.max >= n.min, { error: "max must be >= min", path: ["max"] })
        .prefault({}),
    subnetCidr: cidr("a CIDR").default("10.10.0.0/20"),
    podsCidr: cidr("a CIDR").default("10.20.0.0/14"),
    servicesCidr: cidr("a CIDR").default("10.24.0.0/20"),
    /** Who may reach the control plane; staging and prod must set it (components/config/defaults.ts). */
    masterAuthorizedCidrs: z.array(cidr("a CIDR")).min(1, { error: "must list at least one CIDR" }).default(["0.0.0.0/0"]),
    /**
     * Google Groups for RBAC: the `gke-security-groups@<domain>` group that holds the groups named
     * in `access.groups`. Unset: GKE does not resolve Google groups, so those bindings match nobody.
     */
    securityGroup: pattern(/^gke-security-groups@[a-z0-9.-]+\.[a-z]{2,}$/, 'a group like "gke-security-groups@example.com"').optional(),
    /** /28 of the control plane's private endpoint; it must reach the nodes' webhook ports. */
    masterCidr: cidr('a /28 CIDR like "172.16.0.0/28"')
        .refine((c) => !isIpv4Cidr(c) || c.endsWith("/28"), { error: 'must be a /28 CIDR like "172.16.0.0/28"' })
        .default("172.16.0.0/28"),
});

const existingSchema = z.strictObject({
    /** kubeconfig context to deploy into. */
    context: z.string().min(1),
    /** Path of the kubeconfig file; default: $KUBECONFIG or ~/.kube/config. */
    kubeconfigPath: z.string().min(1).optional(),
    /** Registry the cluster can pull from, e.g. "registry.example.com/orders". */
    registry: z.string().min(1),
    storageClass: pattern(K8S_NAME, "a StorageClass name").default("standard"),
});

export const clusterSchema = z
    .strictObject({
        provider: z.enum(CLUSTER_PROVIDERS, { error: `must be one of ${CLUSTER_PROVIDERS.join(" | ")}` }),
        kind: kindSchema.optional(),
        eks: eksSchema.optional(),
        gke: gkeSchema.optional(),
        existing: existingSchema.optional(),
    })
    .superRefine((c, ctx) => {
        // kind runs with defaults alone; the clouds need at least a region/project.
        if (c.provider !== "kind" && !c[c.provider]) {
            ctx.addIssue({
                code: "custom",
                path: [c.provider],
                input: undefined,
                message: `is required when provider is "${c.provider}"`,
            });
        }
    })
    .transform((c) => ({ ...c, kind: c.provider === "kind" ? (c.kind ?? kindSchema.parse({})) : c.kind }));
export type ClusterConfig = z.infer<typeof clusterSchema>;
export type KindConfig = z.infer<typeof kindSchema>;
export type EksConfig = z.infer<typeof eksSchema>;
export type GkeConfig = z.infer<typeof gkeSchema>;
export type ExistingClusterConfig = z.infer<typeof existingSchema>;
