// Istio AuthorizationPolicies as a pure function of the traffic graph: an allow-nothing policy
// per managed namespace, then one ALLOW policy per graph edge, naming the caller's mTLS identity.
//
// Two kinds of graph edge cannot be expressed with mTLS identities and are handled explicitly:
// - prometheus -> app: Prometheus scrapes the sidecar's merged metrics port (15020), which the
//   proxy serves itself, outside inbound interception and therefore outside any
//   AuthorizationPolicy; NetworkPolicies restrict that port to Prometheus. The app's own
//   metrics path on its API port is allowed to nobody (only API paths are allowed below).
// - backup -> postgres: the backup Job (like the bootstrap Job, which is not in the graph but
//   always runs when there is a database) has no sidecar, so it connects in plaintext and has no
//   principal or namespace Istio could match. One policy, `postgres-from-jobs`, allows 5432 only
//   to sources WITHOUT a principal (`notPrincipals: ["*"]`), i.e. plaintext connections, which
//   reach Postgres only through its port-level PERMISSIVE mTLS; which pods may open them is
//   decided by the NetworkPolicies (backup and bootstrap Job pods only). Sidecar-injected pods
//   always present a principal, so this rule never admits another app.
import type { Peer, TrafficEdge } from "../appGraph";
import { peerName, POSTGRES_PORT } from "../appGraph";
import { APP_NAMESPACE, DATA_NAMESPACE } from "../naming";
import { POSTGRES_POD_LABELS } from "../workloads/postgresSpec";
import { GATEWAY_PRINCIPAL } from "./istioValues";

export const ALLOW_NOTHING = "allow-nothing";
/** ALLOW policy for the sidecar-less Jobs (bootstrap, backup) that talk to Postgres. */
export const POSTGRES_JOBS_POLICY = "postgres-from-jobs";
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

/** SPIFFE identity of an app: the workloads name each app's ServiceAccount after the app. */
export function appPrincipal(app: string, namespace: string = APP_NAMESPACE): string {
    return `cluster.local/ns/${namespace}/sa/${app}`;
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

/** Edges from sidecar-less Jobs: one shared plaintext policy instead of an identity rule. */
function isJobEdge(edge: TrafficEdge): boolean {
    return edge.from.kind === "backup" && edge.to.kind === "postgres";
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
        if (unenforcedEdge(edge) || isJobEdge(edge)) continue;
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
    if (graph.some((e) => e.to.kind === "postgres")) {
        const backup = graph.find(isJobEdge);
        policies.push({
            name: POSTGRES_JOBS_POLICY,
            namespace: DATA_NAMESPACE,
            spec: {
                selector: { matchLabels: { ...POSTGRES_POD_LABELS } },
                action: "ALLOW",
                // Plaintext only: see the header comment.
                rules: [{ from: [{ source: { notPrincipals: ["*"] } }], to: [{ operation: { ports: [String(POSTGRES_PORT)] } }] }],
            },
            edge: backup,
            reason: backup ? `bootstrap Job and ${backup.reason} (plaintext, no sidecar)` : "bootstrap Job (plaintext, no sidecar)",
        });
    }
    return policies;
}
