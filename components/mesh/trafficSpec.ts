// Istio traffic objects as pure functions of config: the edge Gateway, one DestinationRule and
// one VirtualService per app, mesh-wide mTLS and tracing. The canary weight only ever reaches
// the VirtualService, so moving it never touches a Deployment.
import type { AppConfig, AppFacts, EdgeConfig, MeshConfig } from "../config";
import { APP_NAMESPACE, GATEWAY_NAMESPACE } from "../naming";
import { GATEWAY_SELECTOR, TRACING_PROVIDER } from "./istioValues";

export const GATEWAY_NAME = "orders-gateway";
/** How VirtualServices refer to the edge Gateway. */
export const GATEWAY_REF = `${GATEWAY_NAMESPACE}/${GATEWAY_NAME}`;
/** Istio's reserved name for "every sidecar". */
export const MESH_GATEWAY = "mesh";
export const STABLE_SUBSET = "stable";
export const CANARY_SUBSET = "canary";
/** Header value that forces the canary: `<mesh.canaryHeader>: always`. */
export const CANARY_HEADER_VALUE = "always";

export type Spec = Record<string, unknown>;

export function appHost(app: string, namespace: string = APP_NAMESPACE): string {
    return `${app}.${namespace}.svc.cluster.local`;
}

// --- route math ---------------------------------------------------------------

export interface WeightedSubset {
    subset: typeof STABLE_SUBSET | typeof CANARY_SUBSET;
    weight: number;
}

/**
 * Traffic split of an app. With a canary both subsets stay listed (100-w / w), so a new weight
 * changes nothing but the numbers; without one, everything goes to stable.
 */
export function trafficSplit(app: Pick<AppConfig, "canary">): WeightedSubset[] {
    if (!app.canary) return [{ subset: STABLE_SUBSET, weight: 100 }];
    const weight = Math.min(100, Math.max(0, Math.round(app.canary.weight)));
    return [
        { subset: STABLE_SUBSET, weight: 100 - weight },
        { subset: CANARY_SUBSET, weight },
    ];
}

// --- Gateway ------------------------------------------------------------------------

export function gatewaySpec(edge: EdgeConfig): Spec {
    const hosts = [edge.host];
    const servers: Spec[] = [
        {
            port: { number: 80, name: "http", protocol: "HTTP" },
            hosts,
            ...(edge.tls.enabled ? { tls: { httpsRedirect: true } } : {}),
        },
    ];
    if (edge.tls.enabled) {
        servers.push({
            port: { number: 443, name: "https", protocol: "HTTPS" },
            hosts,
            // The Secret lives in the gateway's namespace (istio-ingress).
            tls: { mode: "SIMPLE", credentialName: edge.tls.secretName },
        });
    }
    return { selector: { ...GATEWAY_SELECTOR }, servers };
}

// --- DestinationRule -------------------------------------------------------------------

export function destinationRuleSpec(facts: AppFacts, app: AppConfig, mesh: MeshConfig): Spec {
    const { connectionPool, outlierDetection } = mesh.traffic;
    const subsets: Spec[] = [{ name: STABLE_SUBSET, labels: { version: app.version } }];
    if (app.canary) subsets.push({ name: CANARY_SUBSET, labels: { version: app.canary.version } });
    return {
        host: appHost(facts.name),
        trafficPolicy: {
            ...(mesh.mtlsMode === "STRICT" ? { tls: { mode: "ISTIO_MUTUAL" } } : {}),
            connectionPool: {
                tcp: { maxConnections: connectionPool.maxConnections },
                http: {
                    http1MaxPendingRequests: connectionPool.http1MaxPendingRequests,
                    http2MaxRequests: connectionPool.http2MaxRequests,
                },
            },
            outlierDetection: {
                consecutive5xxErrors: outlierDetection.consecutive5xxErrors,
                interval: outlierDetection.interval,
                baseEjectionTime: outlierDetection.baseEjectionTime,
                maxEjectionPercent: outlierDetection.maxEjectionPercent,
            },
        },
        subsets,
    };
}

// --- VirtualService ------------------------------------------------------------------------

/** From the edge only the public API is routed: the prefix itself and everything below it. */
export function edgeMatches(apiPrefix: string, extra: Spec = {}): Spec[] {
    return [
        { gateways: [GATEWAY_REF], uri: { exact: apiPrefix }, ...extra },
        { gateways: [GATEWAY_REF], uri: { prefix: `${apiPrefix}/` }, ...extra },
    ];
}

/** RFC 9110's idempotent methods: repeating one has the effect of sending it once. */
export const IDEMPOTENT_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"] as const;
export const IDEMPOTENT_METHOD_MATCH = { regex: `^(${IDEMPOTENT_METHODS.join("|")})$` };

/** Retries of idempotent requests: on gateway errors too, each attempt with its own timeout. */
export function idempotentRetries(mesh: MeshConfig): Spec {
    const r = mesh.traffic.retries;
    return r.attempts === 0 ? { attempts: 0 } : { attempts: r.attempts, perTryTimeout: r.perTryTimeout, retryOn: r.retryOn };
}

/**
 * Retries of every other method (POST, PATCH, ...): only when the request never reached the app,
 * so a slow write is never run twice. No per-try timeout: the route timeout is the only one.
 */
export function unsafeRetries(mesh: MeshConfig): Spec {
    const r = mesh.traffic.retries;
    return r.attempts === 0 ? { attempts: 0 } : { attempts: r.attempts, retryOn: r.unsafeRetryOn };
}

/**
 * One route becomes two: first the idempotent methods, with their own retry policy, under
 * `<name>-idempotent`; then the route itself, unchanged, for every other method. Istio takes the
 * first route that matches, so each request meets exactly one retry policy.
 */
export function splitByRetrySafety(route: Spec & { name: string; match: Spec[] }, mesh: MeshConfig): Spec[] {
    return [
        {
            ...route,
            name: `${route.name}-idempotent`,
            match: route.match.map((m) => ({ ...m, method: IDEMPOTENT_METHOD_MATCH })),
            retries: idempotentRetries(mesh),
        },
        { ...route, retries: unsafeRetries(mesh) },
    ];
}

/** JWT claim that entitles an edge caller to force the canary (`auth.canaryClaim`). */
export interface CanaryClaim {
    name: string;
    value: string;
}

/**
 * The canary header is honoured from inside the mesh, and at the edge only together with the
 * canary claim in a token the gateway has verified (`@request.auth.claims.<name>` matches need
 * the gateway's RequestAuthentication). Every other edge request loses the header, so an
 * anonymous caller cannot reach the canary through an app that passes headers on.
 */
export function virtualServiceSpec(facts: AppFacts, app: AppConfig, mesh: MeshConfig, edge: EdgeConfig, canaryClaim: CanaryClaim): Spec {
    const host = appHost(facts.name);
    const destination = (subset: string) => ({ host, subset, port: { number: facts.port } });
    const common = { timeout: mesh.traffic.timeout };
    const http: Spec[] = [];
    if (app.canary) {
        const forced = { [mesh.canaryHeader]: { exact: CANARY_HEADER_VALUE } };
        const entitled = { ...forced, [`@request.auth.claims.${canaryClaim.name}`]: { exact: canaryClaim.value } };
        http.push(
            ...splitByRetrySafety(
                {
                    name: "canary-override",
                    match: [...edgeMatches(facts.apiPrefix, { headers: entitled }), { gateways: [MESH_GATEWAY], headers: forced }],
                    route: [{ destination: destination(CANARY_SUBSET), weight: 100 }],
                    ...common,
                },
                mesh,
            ),
        );
    }
    http.push(
        ...splitByRetrySafety(
            {
                name: "split",
                match: [...edgeMatches(facts.apiPrefix), { gateways: [MESH_GATEWAY] }],
                route: trafficSplit(app).map((s) => ({ destination: destination(s.subset), weight: s.weight })),
                headers: { request: { remove: [mesh.canaryHeader] } },
                ...common,
            },
            mesh,
        ),
    );
    return {
        hosts: [edge.host, host],
        gateways: [GATEWAY_REF, MESH_GATEWAY],
        http,
    };
}

// --- mesh-wide mTLS and tracing ----------------------------------------------------------------

export function peerAuthenticationSpec(mesh: MeshConfig): Spec {
    return { mtls: { mode: mesh.mtlsMode } };
}

export function telemetrySpec(mesh: MeshConfig): Spec {
    return {
        tracing: [{ providers: [{ name: TRACING_PROVIDER }], randomSamplingPercentage: mesh.tracingSamplePercent }],
    };
}
