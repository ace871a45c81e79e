// Istio AuthorizationPolicies as a pure function of the traffic graph: an allow-nothing policy
// per managed namespace, then one ALLOW policy per graph edge, naming the caller's mTLS identity.
//
// One kind of graph edge cannot be expressed with mTLS identities and is handled explicitly:
// prometheus -> app: Prometheus scrapes the sidecar's merged metrics port (15020), which the
// proxy serves itself, outside inbound interception and therefore outside any
// AuthorizationPolicy; NetworkPolicies restrict that port to Prometheus. The app's own metrics
// path on its API port is allowed to nobody (only API paths are allowed below).
// The Postgres Jobs (bootstrap, backup) run with native sidecars, so they present their own
// ServiceAccount identity like any app: every client of 5432 is mTLS and named.
import type { Peer, TrafficEdge } from "../network/appGraph";
import { peerName } from "../network/appGraph";
import { APP_NAMESPACE, DATA_NAMESPACE } from "../naming";
import { BACKUP_SERVICE_ACCOUNT } from "../cluster/types";
import { BOOTSTRAP_SERVICE_ACCOUNT, POSTGRES_POD_LABELS } from "../database/names";
import { GATEWAY_PRINCIPAL } from "./istioValues";

export const ALLOW_NOTHING = "allow-nothing";
/** Namespaces locked down by an allow-nothing policy. */
export const AUTHZ_NAMESPACES = [APP_NAMESPACE, DATA_NAMESPACE] as const;

export interface AuthorizationPolicyObject {
    name: string;
    namespace: string;
    spec: Record<string, unknown>;
    /** The graph edge this policy implements (undefined for allow-nothing). */
    edge?: TrafficEdge;
    reason: string;
}

/** SPIFFE identity of a ServiceAccount. */
export function serviceAccountPrincipal(namespace: string, serviceAccount: string): string {
    return `cluster.local/ns/${namespace}/sa/${serviceAccount}`;
}

/** SPIFFE identity of an app: the workloads name each app's ServiceAccount after the app. */
export function appPrincipal(app: string, namespace: string = APP_NAMESPACE): string {
    return serviceAccountPrincipal(namespace, app);
}

function target(peer: Peer): { namespace: string; selector: Record<string, string> } | undefined {
    switch (peer.kind) {
        case "app":
            return { namespace: APP_NAMESPACE, selector: { app: peer.name } };
        case "postgres":
            return { namespace: DATA_NAMESPACE, selector: { ...POSTGRES_POD_LABELS } };
        default:
            return undefined;
    }
}

function source(peer: Peer): Record<string, unknown> | undefined {
    switch (peer.kind) {
        case "edge":
            return { principals: [GATEWAY_PRINCIPAL] };
        case "app":
            return { principals: [appPrincipal(peer.name)] };
        case "bootstrap":
            return { principals: [serviceAccountPrincipal(DATA_NAMESPACE, BOOTSTRAP_SERVICE_ACCOUNT)] };
        case "backup":
            return { principals: [serviceAccountPrincipal(BACKUP_SERVICE_ACCOUNT.namespace, BACKUP_SERVICE_ACCOUNT.name)] };
        default:
            return undefined;
    }
}

/** Graph edges enforced elsewhere, with the reason (asserted by the tests). */
export function unenforcedEdge(edge: TrafficEdge): string | undefined {
    if (edge.from.kind === "prometheus")
        return "scrapes the sidecar's merged metrics port, outside AuthorizationPolicy; NetworkPolicy restricts it";
    return undefined;
}

/** HTTP paths of an edge as Istio path patterns: the prefix itself and everything below it. */
export function pathPatterns(paths: string[]): string[] {
    return paths.flatMap((p) => [p, `${p.replace(/\/$/, "")}/*`]);
}

export function authorizationPolicies(graph: TrafficEdge[]): AuthorizationPolicyObject[] {
    const policies: AuthorizationPolicyObject[] = AUTHZ_NAMESPACES.map((namespace) => ({
        name: ALLOW_NOTHING,
        namespace,
        // An ALLOW-less namespace with an empty policy denies every request not allowed below.
        spec: {},
        reason: "deny everything not explicitly allowed",
    }));
    for (const edge of graph) {
        if (unenforcedEdge(edge)) continue;
        const to = target(edge.to);
        const from = source(edge.from);
        if (!to || !from) throw new Error(`no AuthorizationPolicy mapping for graph edge ${peerName(edge.from)} -> ${peerName(edge.to)}`);
        const operation: Record<string, unknown> = { ports: [String(edge.port)] };
        if (edge.paths) operation.paths = pathPatterns(edge.paths);
        policies.push({
            name: `${peerName(edge.to)}-from-${peerName(edge.from)}`,
            namespace: to.namespace,
            spec: {
                selector: { matchLabels: to.selector },
                action: "ALLOW",
                rules: [{ from: [{ source: from }], to: [{ operation }] }],
            },
            edge,
            reason: edge.reason,
        });
    }
    return policies;
}
