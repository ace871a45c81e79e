// Shared inputs of the mesh tests: real stack config and app catalog, plain topologies.
import * as pulumi from "@pulumi/pulumi";
import { trafficGraph } from "../../components/network/appGraph";
import { clusterNetwork } from "../../components/cluster/network";
import type { ClusterTopology } from "../../components/cluster/types";
import type { AppCatalog, StackConfig } from "../../components/config";
import { Istio, MeshTraffic } from "../../components/mesh";
import { APP_NAMESPACE, DATA_NAMESPACE } from "../../components/naming";
import { appCatalog, stackConfig, testAuth } from "../harness";

export { stackConfig };
export const catalog: AppCatalog = appCatalog;

export const SINGLE_NODE: ClusterTopology = { multiNode: false, multiZone: false };
export const MULTI_ZONE: ClusterTopology = { multiNode: true, multiZone: true };
/** What each shipped stack's cluster reports (kind: one node; EKS: several zones). */
export const STACK_TOPOLOGY: Record<string, ClusterTopology> = { dev: SINGLE_NODE, staging: MULTI_ZONE, prod: MULTI_ZONE };

export function graphOf(config: StackConfig) {
    return trafficGraph(catalog, { metricsScraping: config.observability.prometheus.enabled, backups: config.database.backup.enabled });
}

/** Istio plus MeshTraffic for one config, as index.ts wires them. */
export function meshProgram(config: StackConfig, topology: ClusterTopology = MULTI_ZONE) {
    return () => {
        const istio = new Istio("istio", {
            environment: config.environment,
            config: config.mesh,
            topology,
            network: clusterNetwork(config.cluster),
            rateLimit: config.edge.rateLimit,
            chart: config.charts.istio,
        });
        const traffic = new MeshTraffic("mesh-traffic", {
            environment: config.environment,
            mesh: config.mesh,
            edge: config.edge,
            apps: config.apps,
            catalog,
            graph: graphOf(config),
            namespaces: {
                appNamespace: pulumi.output(APP_NAMESPACE),
                dataNamespace: pulumi.output(DATA_NAMESPACE),
                appNamespaceName: APP_NAMESPACE,
            },
            istio,
            auth: testAuth(config),
            publicPorts: config.cluster.kind ? { http: config.cluster.kind.httpPort, https: config.cluster.kind.httpsPort } : undefined,
            tracing: config.observability.jaeger.enabled,
        });
        return { url: traffic.url, ready: istio.ready.length };
    };
}
