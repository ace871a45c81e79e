// The traffic graph of the platform, derived from the apps' static facts. NetworkPolicies and
// Istio AuthorizationPolicies are both generated from it, so the two can never disagree.
import type { AppCatalog } from "../config/appCatalog";
import { POSTGRES_PORT } from "../database/names";

export type Peer =
    | { kind: "app"; name: string }
    /** The north-south entry: Istio ingress gateway, or the Ingress controller with the mesh off. */
    | { kind: "edge" }
    | { kind: "prometheus" }
    | { kind: "postgres" }
    /** The Job that creates the apps' roles and databases. */
    | { kind: "bootstrap" }
    | { kind: "backup" };

export interface TrafficEdge {
    from: Peer;
    to: Peer;
    port: number;
    /** HTTP path prefixes allowed on this edge (L7 policies); undefined = any path. */
    paths?: string[];
    /** Why the edge exists, used in object descriptions. */
    reason: string;
}

export interface GraphOptions {
    /** Prometheus scrapes the apps' metrics port. */
    metricsScraping: boolean;
    /** A backup job connects to Postgres. */
    backups: boolean;
}

/** Every allowed connection; anything not listed is denied. */
export function trafficGraph(catalog: AppCatalog, options: GraphOptions): TrafficEdge[] {
    const edges: TrafficEdge[] = [];
    const apps = [...catalog.values()];
    for (const app of apps) {
        const self: Peer = { kind: "app", name: app.name };
        edges.push({
            from: { kind: "edge" },
            to: self,
            port: app.port,
            paths: [app.apiPrefix],
            reason: `public API ${app.apiPrefix}`,
        });
        for (const callee of app.calls) {
            const target = catalog.get(callee)!;
            edges.push({
                from: self,
                to: { kind: "app", name: callee },
                port: target.port,
                // A caller's readiness includes the callee's liveness (orders is not ready without users).
                paths: [target.apiPrefix, target.health.liveness],
                reason: `${app.name} calls ${callee}`,
            });
        }
        if (app.database) {
            edges.push({ from: self, to: { kind: "postgres" }, port: POSTGRES_PORT, reason: `${app.name} database` });
        }
        if (options.metricsScraping) {
            edges.push({
                from: { kind: "prometheus" },
                to: self,
                port: app.port,
                paths: [app.metricsPath],
                reason: `Prometheus scrapes ${app.metricsPath}`,
            });
        }
    }
    if (apps.some((a) => a.database)) {
        edges.push({
            from: { kind: "bootstrap" },
            to: { kind: "postgres" },
            port: POSTGRES_PORT,
            reason: "bootstrap Job creates roles and databases",
        });
    }
    if (options.backups) {
        edges.push({ from: { kind: "backup" }, to: { kind: "postgres" }, port: POSTGRES_PORT, reason: "pg_dump backups" });
    }
    return edges;
}

export function peerName(peer: Peer): string {
    return peer.kind === "app" ? peer.name : peer.kind;
}
