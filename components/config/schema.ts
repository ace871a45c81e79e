// Schema of the `orders-platform:*` stack config. Every object is strict so that a
// typo in a key fails the preview instead of being silently ignored.
import { z } from "zod";
import { CHART_SOURCE_FORMS, parseChartSource } from "../chartSource";
import { CHARTS, EKS, IMAGES, imageReference, type ChartGroup, type ChartPin, type ImageKey } from "../versions";
import { parseCpu, parseMemory } from "./quantity";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export const CLUSTER_PROVIDERS = ["kind", "eks", "gke", "existing"] as const;

// SemVer 2.0.0 without the leading "v": the image tag of an app.
const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;
const CRON_FIELD = /^[\d*/,\-A-Za-z]+$/;
const DURATION = /^\d+(ms|s|m|h)$/;
const RETENTION = /^\d+(h|d|w|y)$/;
const DNS_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const CIDR = /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/;
const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Numbers in stack YAML arrive as numbers, but `pulumi config set --path` may store strings. */
const int = (min: number, max: number) =>
    z.preprocess(
        (v) => (typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : v),
        z
            .number({ error: `must be a whole number from ${min} to ${max}` })
            .int({ error: `must be a whole number from ${min} to ${max}` })
            .min(min, { error: `must be a whole number from ${min} to ${max}` })
            .max(max, { error: `must be a whole number from ${min} to ${max}` }),
    );

const bool = () => z.preprocess((v) => (v === "true" ? true : v === "false" ? false : v), z.boolean({ error: "must be true or false" }));

const semver = () =>
    z.string({ error: "must be a SemVer version string like 1.4.2" }).regex(SEMVER, {
        error: 'must be a SemVer version like 1.4.2 (it is the image tag; "latest" and other moving tags are not allowed)',
    });

const pattern = (re: RegExp, what: string) => z.string({ error: `must be ${what}` }).regex(re, { error: `must be ${what}` });

const cpu = () =>
    z
        .string({ error: 'must be a CPU quantity like "250m" or "1"' })
        .refine((v) => parseCpu(v) !== undefined, { error: 'must be a CPU quantity like "250m" or "1"' });
const memory = () =>
    z
        .string({ error: 'must be a memory quantity like "256Mi" or "1Gi"' })
        .refine((v) => parseMemory(v) !== undefined, { error: 'must be a memory quantity like "256Mi" or "1Gi"' });

const cron = () =>
    z.string({ error: 'must be a 5-field cron schedule like "0 2 * * *"' }).refine(
        (v) =>
            v.trim().split(/\s+/).length === 5 &&
            v
                .trim()
                .split(/\s+/)
                .every((f) => CRON_FIELD.test(f)),
        {
            error: 'must be a 5-field cron schedule like "0 2 * * *"',
        },
    );

export const resourcesSchema = z
    .strictObject({
        requests: z.strictObject({ cpu: cpu(), memory: memory() }),
        limits: z.strictObject({ cpu: cpu(), memory: memory() }),
    })
    .superRefine((r, ctx) => {
        if (parseCpu(r.limits.cpu)! < parseCpu(r.requests.cpu)!) {
            ctx.addIssue({
                code: "custom",
                path: ["limits", "cpu"],
                input: r.limits.cpu,
                message: `must be >= requests.cpu (${r.requests.cpu})`,
            });
        }
        if (parseMemory(r.limits.memory)! < parseMemory(r.requests.memory)!) {
            ctx.addIssue({
                code: "custom",
                path: ["limits", "memory"],
                input: r.limits.memory,
                message: `must be >= requests.memory (${r.requests.memory})`,
            });
        }
    });
export type Resources = z.infer<typeof resourcesSchema>;

/** An app image given by digest (built once in CI, promoted unchanged from stack to stack). */
const DIGEST_REFERENCE =
    /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[a-f0-9]{64}$/;
const digestImage = () =>
    pattern(DIGEST_REFERENCE, 'an image reference pinned by digest like "registry.example.com/orders/users:1.2.0@sha256:<64 hex>"');

/** The tag of an image reference (`repo:tag@sha256:...`), if it has one. */
export function imageTag(reference: string): string | undefined {
    const name = reference.split("@")[0];
    const lastSegment = name.slice(name.lastIndexOf("/") + 1);
    return lastSegment.includes(":") ? lastSegment.slice(lastSegment.indexOf(":") + 1) : undefined;
}

const canarySchema = z.strictObject({
    /** Image tag of the canary Deployment. */
    version: semver(),
    /** The canary's image by digest; its tag, if any, must be `version`. Unset: built or looked up. */
    image: digestImage().optional(),
    /** Share of traffic (percent) routed to the canary: 0 = deployed but dark, 100 = fully promoted. */
    weight: int(0, 100),
    /** Pods of the canary Deployment (mesh on); with the mesh off the weight decides it. */
    replicas: int(1, 50).default(1),
});
export type CanaryConfig = z.infer<typeof canarySchema>;

const autoscalingSchema = z
    .strictObject({
        min: int(1, 100),
        max: int(1, 100),
        cpuPercent: int(1, 100).default(70),
    })
    .refine((a) => a.max >= a.min, { error: "max must be >= min", path: ["max"] });
export type AutoscalingConfig = z.infer<typeof autoscalingSchema>;

export const appSchema = z
    .strictObject({
        version: semver(),
        /** The stable image by digest; its tag, if any, must be `version`. Unset: built or looked up. */
        image: digestImage().optional(),
        replicas: int(1, 50).default(1),
        resources: resourcesSchema.default({
            requests: { cpu: "100m", memory: "128Mi" },
            limits: { cpu: "500m", memory: "256Mi" },
        }),
        autoscaling: autoscalingSchema.optional(),
        canary: canarySchema.optional(),
        logLevel: z.enum(["debug", "info", "warn", "error"], { error: "must be one of debug | info | warn | error" }).default("info"),
    })
    .superRefine((app, ctx) => {
        for (const [path, image, version, versionKey] of [
            [["image"], app.image, app.version, "version"],
            [["canary", "image"], app.canary?.image, app.canary?.version, "canary.version"],
        ] as const) {
            const tag = image && imageTag(image);
            if (tag !== undefined && tag !== version) {
                ctx.addIssue({
                    code: "custom",
                    path: [...path],
                    input: image,
                    message: `its tag ${tag} differs from ${versionKey} ${version}`,
                });
            }
        }
        if (app.canary && app.canary.version === app.version) {
            ctx.addIssue({
                code: "custom",
                path: ["canary", "version"],
                input: app.canary.version,
                message: `must differ from the stable version ${app.version} (remove canary once promoted)`,
            });
        }
    });
export type AppConfig = z.infer<typeof appSchema>;

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
    vpcCidr: pattern(CIDR, 'a CIDR like "10.0.0.0/16"').default("10.0.0.0/16"),
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
    endpointPublicAccessCidrs: z.array(pattern(CIDR, "a CIDR")).default(["0.0.0.0/0"]),
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
    subnetCidr: pattern(CIDR, "a CIDR").default("10.10.0.0/20"),
    podsCidr: pattern(CIDR, "a CIDR").default("10.20.0.0/14"),
    servicesCidr: pattern(CIDR, "a CIDR").default("10.24.0.0/20"),
    masterAuthorizedCidrs: z.array(pattern(CIDR, "a CIDR")).default(["0.0.0.0/0"]),
    /**
     * Google Groups for RBAC: the `gke-security-groups@<domain>` group that holds the groups named
     * in `access.groups`. Unset: GKE does not resolve Google groups, so those bindings match nobody.
     */
    securityGroup: pattern(/^gke-security-groups@[a-z0-9.-]+\.[a-z]{2,}$/, 'a group like "gke-security-groups@example.com"').optional(),
    /** /28 of the control plane's private endpoint; it must reach the nodes' webhook ports. */
    masterCidr: pattern(/^(\d{1,3}\.){3}\d{1,3}\/28$/, 'a /28 CIDR like "172.16.0.0/28"').default("172.16.0.0/28"),
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

export const databaseSchema = z.strictObject({
    storage: z
        .strictObject({
            size: memory().default("5Gi"),
            /** Default: the cluster's default StorageClass. */
            storageClass: pattern(K8S_NAME, "a StorageClass name").optional(),
        })
        .prefault({}),
    resources: resourcesSchema.default({
        requests: { cpu: "250m", memory: "512Mi" },
        limits: { cpu: "1", memory: "1Gi" },
    }),
    backup: z
        .strictObject({
            enabled: bool().default(true),
            schedule: cron().default("0 2 * * *"),
            retentionDays: int(1, 3650).default(7),
            /** Size of the backup volume where backups go to a PVC (kind, existing). */
            volumeSize: memory().default("5Gi"),
        })
        .prefault({}),
});
export type DatabaseConfig = z.infer<typeof databaseSchema>;

const trafficSchema = z.strictObject({
    timeout: pattern(DURATION, 'a duration like "10s"').default("10s"),
    retries: z
        .strictObject({
            attempts: int(0, 10).default(2),
            perTryTimeout: pattern(DURATION, 'a duration like "2s"').default("2s"),
            retryOn: z.string().min(1).default("gateway-error,connect-failure,refused-stream"),
        })
        .prefault({}),
    outlierDetection: z
        .strictObject({
            consecutive5xxErrors: int(1, 1000).default(5),
            interval: pattern(DURATION, 'a duration like "10s"').default("10s"),
            baseEjectionTime: pattern(DURATION, 'a duration like "30s"').default("30s"),
            maxEjectionPercent: int(1, 100).default(50),
        })
        .prefault({}),
    /** DestinationRule connection pool limits per client sidecar. */
    connectionPool: z
        .strictObject({
            maxConnections: int(1, 100000).default(1024),
            http1MaxPendingRequests: int(1, 100000).default(1024),
            http2MaxRequests: int(1, 100000).default(1024),
        })
        .prefault({}),
});

export const meshSchema = z.strictObject({
    enabled: bool().default(true),
    mtlsMode: z.enum(["STRICT", "PERMISSIVE"], { error: "must be STRICT or PERMISSIVE" }).default("STRICT"),
    /** Percentage of requests traced (0..100). */
    tracingSamplePercent: z
        .preprocess(
            (v) => (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v)) ? Number(v) : v),
            z
                .number({ error: "must be a number from 0 to 100" })
                .min(0, { error: "must be a number from 0 to 100" })
                .max(100, { error: "must be a number from 0 to 100" }),
        )
        .default(1),
    gateway: z
        .strictObject({
            replicas: int(1, 20).default(1),
            /** Upper bound of the gateway HPA; unset (or <= replicas) = a fixed replica count. */
            maxReplicas: int(1, 50).optional(),
            serviceType: z
                .enum(["LoadBalancer", "NodePort", "ClusterIP"], { error: "must be one of LoadBalancer | NodePort | ClusterIP" })
                .default("LoadBalancer"),
            resources: resourcesSchema.default({ requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } }),
        })
        .refine((g) => g.maxReplicas === undefined || g.maxReplicas >= g.replicas, {
            error: "maxReplicas must be >= replicas",
            path: ["maxReplicas"],
        })
        .prefault({}),
    istiod: z
        .strictObject({
            /** istiod pods; default: 2 (with a PodDisruptionBudget) on multi-node clusters, else 1. */
            replicas: int(1, 10).optional(),
            resources: resourcesSchema.default({ requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } }),
        })
        .prefault({}),
    /** Resources of every injected sidecar (global.proxy.resources). */
    proxy: z
        .strictObject({
            resources: resourcesSchema.default({ requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "1", memory: "512Mi" } }),
        })
        .prefault({}),
    /** Request header that forces the canary: `<header>: always`. */
    canaryHeader: pattern(/^[a-z0-9-]+$/, "a lowercase HTTP header name").default("x-canary"),
    traffic: trafficSchema.prefault({}),
});
export type MeshConfig = z.infer<typeof meshSchema>;

export const edgeSchema = z.strictObject({
    /** Public host name of the platform ("localhost" in dev). */
    host: pattern(DNS_NAME, 'a DNS host name like "orders.example.com"'),
    tls: z
        .strictObject({
            enabled: bool().default(false),
            /** kubernetes.io/tls Secret holding the certificate (e.g. managed by cert-manager). */
            secretName: pattern(K8S_NAME, "a Secret name").optional(),
        })
        .refine((t) => !t.enabled || !!t.secretName, { error: "secretName is required when tls.enabled is true", path: ["secretName"] })
        .prefault({}),
    /** IngressClass used when the mesh is off. */
    ingressClass: pattern(K8S_NAME, "an IngressClass name").default("traefik"),
    /** Install the Traefik ingress controller (mesh off) when the cluster has none. */
    installController: bool().default(false),
});
export type EdgeConfig = z.infer<typeof edgeSchema>;

/** Kubernetes group names carry no "system:" prefix (reserved; EKS refuses it in access entries). */
const GROUP_NAME = /^(?!system:)[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/;
const groupName = () => pattern(GROUP_NAME, 'a group name like "orders-platform:viewers" (no "system:" prefix)');
const EMAIL = /^[^\s@]+@[a-z0-9.-]+\.[a-z]{2,}$/;

/** People's access: the Kubernetes group of each team role (see components/access). */
export const accessSchema = z
    .strictObject({
        groups: z
            .strictObject({
                /** Read workloads and logs in the app namespace, never Secrets. */
                viewers: groupName().default("orders-platform:viewers"),
                /** Also restart, scale and exec in the app namespace. */
                operators: groupName().default("orders-platform:operators"),
                /** The data namespace: read, exec (psql), restart, on-demand backups. */
                databaseAdmins: groupName().default("orders-platform:database-admins"),
            })
            .superRefine((g, ctx) => {
                const seen = new Map<string, string>();
                for (const [key, group] of Object.entries(g)) {
                    const other = seen.get(group);
                    if (other)
                        ctx.addIssue({
                            code: "custom",
                            path: [key],
                            input: group,
                            message: `must differ from ${other} (one group per role)`,
                        });
                    seen.set(group, key);
                }
            })
            .prefault({}),
    })
    .prefault({});
export type AccessConfig = z.infer<typeof accessSchema>;

const PROMETHEUS_RESOURCES = { requests: { cpu: "200m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } };
const JAEGER_RESOURCES = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "1Gi" } };

export const observabilitySchema = z
    .strictObject({
        prometheus: z
            .strictObject({
                enabled: bool().default(true),
                retention: pattern(RETENTION, 'a retention like "15d"').default("15d"),
                storageSize: memory().default("10Gi"),
                scrapeInterval: pattern(DURATION, 'a duration like "30s"').default("30s"),
                /** Prometheus server container; memory grows with series count and retention. */
                resources: resourcesSchema.default(PROMETHEUS_RESOURCES),
            })
            .prefault({}),
        grafana: z.strictObject({ enabled: bool().default(true) }).prefault({}),
        jaeger: z
            .strictObject({
                enabled: bool().default(true),
                /** Traces kept by the in-memory store (oldest are evicted first). */
                maxTraces: int(1000, 10000000).default(50000),
                resources: resourcesSchema.default(JAEGER_RESOURCES),
            })
            .prefault({}),
    })
    .refine((o) => !o.grafana.enabled || o.prometheus.enabled, {
        error: "grafana.enabled needs prometheus.enabled (Grafana ships with kube-prometheus-stack)",
        path: ["grafana", "enabled"],
    });
export type ObservabilityConfig = z.infer<typeof observabilitySchema>;

const chartOverrideSchema = z.strictObject({
    /** Mirror or air-gapped copy of the chart (same chart names below it). */
    source: z
        .string({ error: `must be ${CHART_SOURCE_FORMS}` })
        .refine((s) => parseChartSource(s) !== undefined, { error: `must be ${CHART_SOURCE_FORMS}` })
        .optional(),
    version: pattern(/^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, 'a pinned chart version like "1.2.3"').optional(),
});

/** Per-stack overrides of the pinned chart sources and versions (components/versions.ts). */
export const chartsSchema = z
    .strictObject(
        Object.fromEntries(Object.keys(CHARTS).map((g) => [g, chartOverrideSchema.optional()])) as Record<
            ChartGroup,
            z.ZodOptional<typeof chartOverrideSchema>
        >,
    )
    .prefault({})
    .transform(
        (overrides) =>
            Object.fromEntries((Object.keys(CHARTS) as ChartGroup[]).map((g) => [g, { ...CHARTS[g], ...overrides[g] }])) as Record<
                ChartGroup,
                ChartPin
            >,
    );
export type ChartPins = z.infer<typeof chartsSchema>;

const IMAGE_REFERENCE =
    /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}@sha256:[a-f0-9]{64}$/;

/** Per-stack overrides of the pinned third-party images, e.g. a mirror: full reference with tag and digest. */
export const imagesSchema = z
    .strictObject(
        Object.fromEntries(
            Object.keys(IMAGES).map((k) => [
                k,
                pattern(
                    IMAGE_REFERENCE,
                    'a full image reference with tag and digest like "registry.example.com/mirror/postgres:<tag>@sha256:<64 hex>"',
                ).optional(),
            ]),
        ) as Record<ImageKey, z.ZodOptional<z.ZodString>>,
    )
    .prefault({})
    .transform(
        (overrides) =>
            Object.fromEntries((Object.keys(IMAGES) as ImageKey[]).map((k) => [k, overrides[k] ?? imageReference(IMAGES[k])])) as Record<
                ImageKey,
                string
            >,
    );
export type ImageRefs = z.infer<typeof imagesSchema>;

/** Top-level keys of the `orders-platform` namespace. */
export const stackConfigSchema = z
    .strictObject({
        environment: z.enum(ENVIRONMENTS, { error: `must be one of ${ENVIRONMENTS.join(" | ")}` }),
        /** Protect stateful and cluster resources against deletion (prod). */
        protect: bool().default(false),
        cluster: clusterSchema,
        apps: z.record(z.string(), appSchema),
        database: databaseSchema.prefault({}),
        mesh: meshSchema.prefault({}),
        edge: edgeSchema,
        observability: observabilitySchema.prefault({}),
        access: accessSchema,
        charts: chartsSchema,
        images: imagesSchema,
    })
    .superRefine((c, ctx) => {
        // GKE resolves Google groups (email addresses) once the cluster names its security group.
        const gke = c.cluster.provider === "gke" ? c.cluster.gke : undefined;
        if (gke) {
            const googleGroups = Object.entries(c.access.groups).filter(([, g]) => EMAIL.test(g));
            if (gke.securityGroup) {
                for (const [key, group] of Object.entries(c.access.groups)) {
                    if (!EMAIL.test(group)) {
                        ctx.addIssue({
                            code: "custom",
                            path: ["access", "groups", key],
                            input: group,
                            message: `must be a Google group address like "orders-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}@example.com", not "${group}" (cluster.gke.securityGroup is set)`,
                        });
                    }
                }
            } else if (googleGroups.length > 0) {
                ctx.addIssue({
                    code: "custom",
                    path: ["cluster", "gke", "securityGroup"],
                    input: undefined,
                    message: `is required when access.groups names Google groups (${googleGroups.map(([, g]) => g).join(", ")}): "gke-security-groups@<your domain>"`,
                });
            }
        }
        // Mesh off: the NetworkPolicies admit public traffic only from the controller this program installs.
        if (!c.mesh.enabled && !c.edge.installController) {
            ctx.addIssue({
                code: "custom",
                path: ["edge", "installController"],
                input: c.edge.installController,
                message: "must be true when mesh.enabled is false (the edge is the Traefik controller installed in ingress-traefik)",
            });
        }
    });
export type StackConfig = z.infer<typeof stackConfigSchema>;
export type Environment = StackConfig["environment"];
export type ClusterProvider = ClusterConfig["provider"];
