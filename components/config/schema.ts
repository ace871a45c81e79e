// Schema of the `orders-platform:*` stack config. Every object is strict so that a
// typo in a key fails the preview instead of being silently ignored.
import { Cron } from "croner";
import * as ipaddr from "ipaddr.js";
import * as semverLib from "semver";
import { z } from "zod";
import { CHART_SOURCE_FORMS, parseChartSource } from "../chartSource";
import { CHARTS, EKS, IMAGES, imageReference, type ChartGroup, type ChartPin, type ImageKey } from "../versions";
import { parseCpu, parseMemory } from "./quantity";

export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export const CLUSTER_PROVIDERS = ["kind", "eks", "gke", "existing"] as const;

const DURATION = /^\d+(ms|s|m|h)$/;
const RETENTION = /^\d+(h|d|w|y)$/;
const DNS_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
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

/** Exactly a SemVer 2.0.0 version as the semver library reads it (no "v", no build metadata). */
export function isExactSemver(text: string): boolean {
    return semverLib.valid(text) === text;
}

/** The image tag of an app: a tag cannot hold SemVer's "+build" part. */
const semver = () =>
    z.string({ error: "must be a SemVer version string like 1.4.2" }).refine(isExactSemver, {
        error: 'must be a SemVer version like 1.4.2 or 2.0.0-rc.1, without build metadata (it is the image tag; "latest" and other moving tags are not allowed)',
    });

/** An IPv4 CIDR: four decimal octets 0-255 and a prefix 0-32 (ipaddr.js). */
export function isIpv4Cidr(text: string): boolean {
    return ipaddr.IPv4.isValidCIDR(text) && ipaddr.IPv4.isValidFourPartDecimal(text.split("/")[0]);
}

const cidr = (what: string) => z.string({ error: `must be ${what}` }).refine(isIpv4Cidr, { error: `must be ${what}` });

const pattern = (re: RegExp, what: string) => z.string({ error: `must be ${what}` }).regex(re, { error: `must be ${what}` });

const cpu = () =>
    z
        .string({ error: 'must be a CPU quantity like "250m" or "1"' })
        .refine((v) => parseCpu(v) !== undefined, { error: 'must be a CPU quantity like "250m" or "1"' });
const memory = () =>
    z
        .string({ error: 'must be a memory quantity like "256Mi" or "1Gi"' })
        .refine((v) => parseMemory(v) !== undefined, { error: 'must be a memory quantity like "256Mi" or "1Gi"' });

/** robfig/cron's standard fields, as the CronJob controller reads them: numbers, *, ranges, steps, lists; names in month and day of week. */
const CRON_FIELDS = [
    /^[\d*/,-]+$/,
    /^[\d*/,-]+$/,
    /^[\d*/,-]+$/,
    /^([\d*/,-]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)+$/i,
    /^([\d*/,-]|SUN|MON|TUE|WED|THU|FRI|SAT)+$/i,
];
const CRON_FORMAT =
    'must be a 5-field cron schedule like "0 2 * * *" (minute 0-59, hour 0-23, day of month 1-31, month 1-12 or JAN-DEC, day of week 0-7 or SUN-SAT)';

/** The schedule as croner reads it (UTC, as the CronJob runs it), or undefined when it is not a 5-field schedule. */
export function cronSchedule(text: string): Cron | undefined {
    const fields = text.trim().split(/\s+/);
    if (fields.length !== 5 || !fields.every((f, i) => CRON_FIELDS[i].test(f))) return undefined;
    try {
        return new Cron(text, { timezone: "Etc/UTC", paused: true });
    } catch {
        return undefined;
    }
}

const cron = () =>
    z.string({ error: CRON_FORMAT }).superRefine((text, ctx) => {
        const schedule = cronSchedule(text);
        if (!schedule) ctx.addIssue({ code: "custom", message: CRON_FORMAT });
        else if (schedule.nextRun() === null) ctx.addIssue({ code: "custom", message: "never runs (no month has that day)" });
    });

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

/** The app's PostgreSQL client pool (env DB_POOL_MAX, DB_POOL_ACQUIRE_TIMEOUT_MS, DB_STATEMENT_TIMEOUT_MS). */
const dbPoolSchema = z.strictObject({
    /** Connections per app process; the worst case over all pods must fit database.maxConnections. */
    max: int(1, 200).default(5),
    /** Wait for a free pool connection (and for a new one to open) before answering 503. */
    acquireTimeoutMs: int(10, 60000).default(1000),
    /** The server cancels a statement after this long. */
    statementTimeoutMs: int(10, 600000).default(3000),
});
export type DbPoolConfig = z.infer<typeof dbPoolSchema>;

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
        dbPool: dbPoolSchema.prefault({}),
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
        if (app.canary && semverLib.eq(app.canary.version, app.version)) {
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

/** Stop writes for a restore: `apps-stopped` scales the database apps to 0, `database-stopped` PostgreSQL too. */
export const MAINTENANCE_MODES = ["off", "apps-stopped", "database-stopped"] as const;
export type MaintenanceMode = (typeof MAINTENANCE_MODES)[number];

export const databaseSchema = z
    .strictObject({
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
        /** PostgreSQL max_connections; shared_buffers and work_mem follow resources.limits.memory. */
        maxConnections: int(20, 5000).default(100),
        maintenance: z.enum(MAINTENANCE_MODES, { error: `must be one of ${MAINTENANCE_MODES.join(" | ")}` }).default("off"),
        backup: z
            .strictObject({
                enabled: bool().default(true),
                schedule: cron().default("0 2 * * *"),
                /** Successful backups older than this are deleted, except the newest keepLast. */
                retentionDays: int(1, 3650).default(7),
                /** The newest successful backups that are never deleted, whatever their age. */
                keepLast: int(1, 1000).default(3),
                /** Size of the backup volume where backups go to a PVC (kind, existing). */
                volumeSize: memory().default("5Gi"),
            })
            .prefault({}),
        /** Continuous WAL archiving to the backup bucket (point-in-time recovery). */
        walArchiving: z
            .strictObject({
                enabled: bool().default(false),
                /** A WAL segment is closed and archived at least this often while there are writes. */
                archiveTimeoutSeconds: int(30, 3600).default(60),
            })
            .prefault({}),
    })
    .superRefine((d, ctx) => {
        if (d.walArchiving.enabled && !d.backup.enabled) {
            ctx.addIssue({
                code: "custom",
                path: ["walArchiving", "enabled"],
                input: true,
                message: "needs database.backup.enabled (the base backups for point-in-time recovery come from the backup job)",
            });
        }
    });
export type DatabaseConfig = z.infer<typeof databaseSchema>;

/** Envoy retry conditions Istio accepts in a VirtualService (pkg/config/validation of Istio 1.31). */
export const RETRY_ON_POLICIES = [
    "5xx",
    "gateway-error",
    "reset",
    "reset-before-request",
    "connect-failure",
    "retriable-4xx",
    "refused-stream",
    "retriable-status-codes",
    "retriable-headers",
    "envoy-ratelimited",
    "http3-post-connect-failure",
] as const;
/** The conditions under which the request has certainly not reached the app: safe for any method. */
export const RETRY_BEFORE_REQUEST = ["connect-failure", "refused-stream", "reset-before-request", "http3-post-connect-failure"] as const;

const retryOnList = (allowed: readonly string[]) =>
    z
        .string({ error: `must be a comma-separated list of ${allowed.join(", ")}` })
        .refine((v) => v.split(",").every((p) => allowed.includes(p.trim())), {
            error: `must be a comma-separated list of ${allowed.join(", ")}`,
        });

const trafficSchema = z.strictObject({
    timeout: pattern(DURATION, 'a duration like "10s"').default("10s"),
    retries: z
        .strictObject({
            attempts: int(0, 10).default(2),
            /** Per attempt, idempotent methods only; the others run under the route timeout. */
            perTryTimeout: pattern(DURATION, 'a duration like "2s"').default("2s"),
            /** When GET, HEAD, OPTIONS, PUT and DELETE are retried. */
            retryOn: retryOnList(RETRY_ON_POLICIES).default("gateway-error,connect-failure,refused-stream"),
            /** When every other method (POST, PATCH, ...) is retried: only if the request never reached the app. */
            unsafeRetryOn: retryOnList(RETRY_BEFORE_REQUEST).default("connect-failure,refused-stream,reset-before-request"),
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

/** A JWT claim name as Istio and the apps address it (no dots: nested claims are not supported). */
const CLAIM = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const claim = () => pattern(CLAIM, 'a JWT claim name like "sub" or "roles"');
/** Members of a JWK that only a private key has: an inline JWKS must never carry them. */
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

/** Problem with an inline JWKS (JSON text), or undefined when it is a usable public key set. */
export function jwksProblem(text: string): string | undefined {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        return 'must be a JSON Web Key Set like {"keys":[{"kty":"EC",...}]}';
    }
    const keys = (parsed as { keys?: unknown })?.keys;
    if (!Array.isArray(keys) || keys.length === 0) return 'must be a JSON Web Key Set with a non-empty "keys" array';
    for (const [i, key] of keys.entries()) {
        if (typeof key !== "object" || key === null || typeof (key as { kty?: unknown }).kty !== "string") {
            return `keys[${i}] must be a JSON Web Key with a "kty"`;
        }
        const secret = PRIVATE_JWK_MEMBERS.filter((m) => m in key);
        if (secret.length > 0) return `keys[${i}] holds private key material (${secret.join(", ")}); give only the public keys`;
    }
    return undefined;
}

export const authSchema = z
    .strictObject({
        /**
         * The program creates a signing key and is the issuer itself (dev): no identity provider
         * needed; `npm run token` mints tokens from the key in the stack's state.
         */
        localIssuer: bool().default(false),
        /** `iss` of accepted tokens, e.g. "https://auth.example.com/". */
        issuer: pattern(/^https:\/\/[^\s/]+(\/\S*)?$/, 'an https issuer URL like "https://auth.example.com/"').optional(),
        /** Where the issuer publishes its signing keys (JWKS). Exactly one of jwksUri and jwks. */
        jwksUri: pattern(/^https:\/\/[^\s/]+\/\S*$/, 'an https URL like "https://auth.example.com/.well-known/jwks.json"').optional(),
        /** The public keys inline, as JWKS JSON (for issuers the cluster cannot reach). */
        jwks: z
            .string({ error: "must be a JSON Web Key Set (JSON text)" })
            .superRefine((text, ctx) => {
                const problem = jwksProblem(text);
                if (problem) ctx.addIssue({ code: "custom", message: problem });
            })
            .optional(),
        /** `aud` values accepted (a token needs one of them). */
        audiences: z
            .array(pattern(/^\S+$/, "a non-empty audience without spaces"), { error: "must be a list of audiences" })
            .min(1, { error: "must name at least one audience" })
            .default(["orders-api"]),
        /** Claim that names the user (the apps authorize per user by it). */
        userClaim: claim().default("sub"),
        /** Claim listing the caller's roles. */
        rolesClaim: claim().default("roles"),
        /** Role (in rolesClaim) that may act for every user. */
        adminRole: pattern(/^\S+$/, "a role name without spaces").default("admin"),
        /** Callers whose token has this claim value may force the canary with the canary header. */
        canaryClaim: z
            .strictObject({
                name: claim().default("roles"),
                value: pattern(/^[^\s"]+$/, "a claim value without spaces or quotes").default("canary-tester"),
            })
            .prefault({}),
    })
    .superRefine((a, ctx) => {
        const issue = (key: "issuer" | "jwksUri" | "jwks", message: string) =>
            ctx.addIssue({ code: "custom", path: [key], input: a[key], message });
        if (a.localIssuer) {
            for (const key of ["issuer", "jwksUri", "jwks"] as const) {
                if (a[key] !== undefined) {
                    issue(
                        key,
                        "must not be set when localIssuer is true (the program is the issuer); set localIssuer: false to use your own issuer",
                    );
                }
            }
            return;
        }
        if (a.issuer === undefined) issue("issuer", "is required unless localIssuer is true");
        if ((a.jwksUri === undefined) === (a.jwks === undefined)) {
            issue("jwksUri", "exactly one of jwksUri and jwks is required unless localIssuer is true");
        }
    });
export type AuthConfig = z.infer<typeof authSchema>;

const rateLimitSchema = z
    .strictObject({
        enabled: bool().default(true),
        /** Sustained requests per second and client at the edge; above it the edge answers 429. */
        requestsPerSecond: int(1, 100000).default(20),
        /** Requests a client may send at once before the sustained rate applies. */
        burst: int(1, 1000000).default(40),
        /** Clients remembered per edge pod (least recently seen are forgotten first). */
        maxClients: int(100, 1000000).default(10000),
        /** Proxies in front of the edge that append the client to X-Forwarded-For (0: the TCP peer is the client). */
        trustedProxies: int(0, 5).default(0),
    })
    .refine((r) => r.burst >= r.requestsPerSecond, { error: "burst must be >= requestsPerSecond", path: ["burst"] });
export type RateLimitConfig = z.infer<typeof rateLimitSchema>;

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
    /** Per-client rate limit at the edge (Istio gateway or Traefik). */
    rateLimit: rateLimitSchema.prefault({}),
});
export type EdgeConfig = z.infer<typeof edgeSchema>;

/** Kubernetes group names carry no "system:" prefix (reserved; EKS refuses it in access entries). */
const GROUP_NAME = /^(?!system:)[A-Za-z0-9][A-Za-z0-9._:@+-]{0,127}$/;
const groupName = () => pattern(GROUP_NAME, 'a group name like "orders-platform:viewers" (no "system:" prefix)');

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

/** A number from min to max (YAML numbers, or strings from `pulumi config set --path`). */
const decimal = (min: number, max: number) =>
    z.preprocess(
        (v) => (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v)) ? Number(v) : v),
        z
            .number({ error: `must be a number from ${min} to ${max}` })
            .min(min, { error: `must be a number from ${min} to ${max}` })
            .max(max, { error: `must be a number from ${min} to ${max}` }),
    );

/** Upper bounds of the apps' http_request_duration_seconds histogram: a latency SLO threshold must be one of them. */
export const APP_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const RECEIVER_NAME = /^[a-z][a-z0-9-]{0,39}$/;
export const RECEIVER_KINDS = ["email", "slack", "webhook"] as const;

/**
 * One Alertmanager receiver: exactly one of email, slack or webhook. URLs and passwords never sit
 * here: they are `alertingSecrets.<receiver>` (set with `pulumi config set --secret`).
 */
const receiverSchema = z
    .strictObject({
        email: z
            .strictObject({
                to: pattern(EMAIL, "an e-mail address"),
                from: pattern(EMAIL, "an e-mail address"),
                /** SMTP relay as host:port. */
                smarthost: pattern(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'a host:port like "smtp.example.com:587"'),
                /** SMTP login; its password is alertingSecrets.<receiver>. */
                username: z.string().min(1).optional(),
                requireTls: bool().default(true),
            })
            .optional(),
        slack: z.strictObject({ channel: pattern(/^[#@]?[A-Za-z0-9._-]+$/, 'a Slack channel like "#orders-alerts"') }).optional(),
        /** Generic webhook (Alertmanager's JSON payload); the URL is alertingSecrets.<receiver>. */
        webhook: z.strictObject({ maxAlerts: int(0, 1000).default(0) }).optional(),
        sendResolved: bool().default(true),
    })
    .superRefine((r, ctx) => {
        const kinds = RECEIVER_KINDS.filter((k) => r[k] !== undefined);
        if (kinds.length !== 1) {
            ctx.addIssue({
                code: "custom",
                path: [],
                input: kinds,
                message: `needs exactly one of ${RECEIVER_KINDS.join(" | ")} (found ${kinds.length ? kinds.join(", ") : "none"})`,
            });
        }
    });
export type ReceiverConfig = z.infer<typeof receiverSchema>;

const alertingSchema = z
    .strictObject({
        receivers: z
            .record(pattern(RECEIVER_NAME, 'a receiver name like "oncall" (lowercase, digits, dashes)'), receiverSchema)
            .default({}),
        route: z
            .strictObject({
                /** Receives every alert. */
                receiver: z.string().optional(),
                /** Also receives the critical ones (e.g. a pager), besides route.receiver. */
                criticalReceiver: z.string().optional(),
                groupWait: pattern(DURATION, 'a duration like "30s"').default("30s"),
                groupInterval: pattern(DURATION, 'a duration like "5m"').default("5m"),
                repeatInterval: pattern(DURATION, 'a duration like "4h"').default("4h"),
            })
            .prefault({}),
        /** Refuse a stack whose alerts would reach nobody (staging and prod). */
        requireReceiver: bool().default(false),
        slo: z
            .strictObject({
                /** Share of /api requests that must not fail with a 5xx, per app. */
                availabilityPercent: decimal(90, 99.999).default(99.5),
                /** Latency threshold; one of the apps' histogram buckets. */
                latencySeconds: decimal(0.001, 10)
                    .refine((v) => (APP_LATENCY_BUCKETS as readonly number[]).includes(v), {
                        error: `must be one of the apps' histogram buckets: ${APP_LATENCY_BUCKETS.join(", ")}`,
                    })
                    .default(0.5),
                /** Share of /api requests that must be faster than latencySeconds. */
                latencyPercent: decimal(50, 99.999).default(99),
            })
            .prefault({}),
        /** A backup is missing once the last success is older than the schedule's interval plus this. */
        backupGraceMinutes: int(5, 10080).default(60),
        /** A platform volume is filling up above this share (critical above 95 %). */
        volumeUsagePercent: int(50, 94).default(85),
        /** PostgreSQL client connections above this share of max_connections. */
        connectionsPercent: int(50, 100).default(85),
    })
    .superRefine((a, ctx) => {
        const names = Object.keys(a.receivers);
        for (const key of ["receiver", "criticalReceiver"] as const) {
            const name = a.route[key];
            if (name !== undefined && !names.includes(name)) {
                ctx.addIssue({
                    code: "custom",
                    path: ["route", key],
                    input: name,
                    message: `names no receiver; receivers here: ${names.length ? names.join(", ") : "(none)"}`,
                });
            }
        }
        if (names.length > 0 && a.route.receiver === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["route", "receiver"],
                input: undefined,
                message: `is required when receivers are configured (one of ${names.join(", ")})`,
            });
        }
        if (a.requireReceiver && a.route.receiver === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["route", "receiver"],
                input: undefined,
                message:
                    "is required: alerting.requireReceiver is true here, and without a receiver failed backups and outages alert nobody " +
                    "(add observability.alerting.receivers.<name> with email, slack or webhook)",
            });
        }
    });
export type AlertingConfig = z.infer<typeof alertingSchema>;

const PROMETHEUS_RESOURCES = { requests: { cpu: "200m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } };
const JAEGER_RESOURCES = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "1Gi" } };

/** Hours of a retention like "7d" (Prometheus duration units: h, d, w, y = 365d). */
export function retentionHours(retention: string): number {
    const m = /^(\d+)(h|d|w|y)$/.exec(retention);
    if (!m) throw new Error(`retention ${retention} is not like "7d"`);
    return Number(m[1]) * { h: 1, d: 24, w: 168, y: 8760 }[m[2] as "h" | "d" | "w" | "y"];
}

const LOKI_RESOURCES = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } };
const LOG_COLLECTOR_RESOURCES = { requests: { cpu: "50m", memory: "96Mi" }, limits: { cpu: "500m", memory: "256Mi" } };

/** Centralised logs: Loki (monolithic) and Grafana Alloy on every node. */
const logsSchema = z.strictObject({
    enabled: bool().default(true),
    /** How long Loki keeps logs (its compactor deletes older ones); whole days, Loki's index period. */
    retention: pattern(RETENTION, 'a retention like "7d"')
        // A malformed value is reported by the pattern alone.
        .refine((r) => !RETENTION.test(r) || (retentionHours(r) >= 24 && retentionHours(r) % 24 === 0), {
            error: 'must be whole days (Loki deletes by its 24h index period), e.g. "7d" or "168h"',
        })
        .default("7d"),
    /** Loki's volume: every log (filesystem store, kind and existing clusters) or its WAL and index cache (object storage). */
    storageSize: memory().default("10Gi"),
    resources: resourcesSchema.default(LOKI_RESOURCES),
    /** The Alloy collector on each node. */
    collector: z.strictObject({ resources: resourcesSchema.default(LOG_COLLECTOR_RESOURCES) }).prefault({}),
});
export type LogsConfig = z.infer<typeof logsSchema>;

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
        alerting: alertingSchema.prefault({}),
        logs: logsSchema.prefault({}),
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
    version: z
        .string({ error: 'must be a pinned chart version like "1.2.3"' })
        .refine((v) => isExactSemver(v.replace(/^v/, "")), { error: 'must be a pinned chart version like "1.2.3" (SemVer, "v" allowed)' })
        .optional(),
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
        auth: authSchema.prefault({}),
        observability: observabilitySchema.prefault({}),
        access: accessSchema,
        charts: chartsSchema,
        images: imagesSchema,
        /**
         * Secret values of the alert receivers, by receiver name: the webhook or Slack URL, or the
         * SMTP password. Set with `pulumi config set --secret --path 'orders-platform:alertingSecrets.<receiver>' ...`.
         */
        alertingSecrets: z.record(z.string(), z.string({ error: "must be a string (the URL or password)" }).min(1)).default({}),
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
        if (c.database.walArchiving.enabled && c.cluster.provider !== "eks" && c.cluster.provider !== "gke") {
            ctx.addIssue({
                code: "custom",
                path: ["database", "walArchiving", "enabled"],
                input: true,
                message: `needs a backup bucket (cluster.provider eks or gke); "${c.cluster.provider}" backs up to a volume`,
            });
        }
        const receivers = c.observability.alerting.receivers;
        for (const [name, value] of Object.entries(c.alertingSecrets)) {
            const r = receivers[name];
            const needed = r?.slack || r?.webhook || r?.email?.username;
            if (!needed) {
                ctx.addIssue({
                    code: "custom",
                    path: ["alertingSecrets", name],
                    input: "(secret)",
                    message: `belongs to no receiver that takes a secret (observability.alerting.receivers.${name} with slack, webhook or email.username)`,
                });
            } else if ((r.slack || r.webhook) && !/^https?:\/\/\S+$/.test(value)) {
                ctx.addIssue({ code: "custom", path: ["alertingSecrets", name], input: "(secret)", message: "must be an http(s) URL" });
            }
        }
        for (const [name, r] of Object.entries(receivers)) {
            const what = r.slack
                ? "the Slack webhook URL"
                : r.webhook
                  ? "the webhook URL"
                  : r.email?.username
                    ? "the SMTP password"
                    : undefined;
            if (what && c.alertingSecrets[name] === undefined) {
                ctx.addIssue({
                    code: "custom",
                    path: ["alertingSecrets", name],
                    input: undefined,
                    message: `is required: ${what} of receiver ${name}; set it with pulumi config set --secret --path 'orders-platform:alertingSecrets.${name}' <value>`,
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
