// `mesh`: Istio on or off, mTLS, tracing, the ingress gateway, istiod, sidecars and traffic policy.
import { z } from "zod";
import { DURATION, bool, int, pattern, resourcesSchema } from "./common";

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
