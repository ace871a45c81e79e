// Centralised logs: the logging namespace (Pod Security "restricted"), Loki and the Alloy
// collectors. Grafana gets the Loki data source from kube-prometheus-stack's values
// (prometheusStackSpec) and Prometheus scrapes both through the platform's monitors.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartLocation } from "../chartSource";
import type { ChartPins, Environment, ImageRefs, LogsConfig } from "../config";
import { LOGGING_NAMESPACE } from "../naming";
import {
    ALLOY_CHART,
    ALLOY_RELEASE,
    alloyConfig,
    alloyValues,
    LOKI_CHART,
    LOKI_PUSH_URL,
    LOKI_RELEASE,
    lokiValues,
    type LokiStore,
} from "./logsSpec";
import { observabilityNamespaceLabels } from "./namespaceSpec";

export interface LogsArgs {
    environment: Environment;
    config: LogsConfig;
    /** Where Loki keeps chunks and index (the cluster's logsStorage). */
    store: LokiStore;
    /** StorageClass of Loki's volume. */
    storageClassName: pulumi.Input<string>;
    images: Pick<ImageRefs, "loki" | "alloy">;
    charts: Pick<ChartPins, "loki" | "alloy">;
}

export class Logs extends pulumi.ComponentResource {
    /** The namespace this component created (by name), for its NetworkPolicies. */
    public readonly namespaces: Record<string, pulumi.Output<string>>;

    constructor(name: string, args: LogsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:observability:Logs", name, {}, opts);
        const namespace = new k8s.core.v1.Namespace(
            LOGGING_NAMESPACE,
            { metadata: { name: LOGGING_NAMESPACE, labels: observabilityNamespaceLabels(args.environment, LOGGING_NAMESPACE) } },
            { parent: this },
        );
        const loki = new k8s.helm.v4.Chart(
            LOKI_RELEASE,
            {
                name: LOKI_RELEASE,
                ...chartLocation(args.charts.loki, LOKI_CHART),
                namespace: namespace.metadata.name,
                values: lokiValues(args.config, args.store, args.images.loki, args.storageClassName),
            },
            { parent: this, dependsOn: [namespace] },
        );
        new k8s.helm.v4.Chart(
            ALLOY_RELEASE,
            {
                name: ALLOY_RELEASE,
                ...chartLocation(args.charts.alloy, ALLOY_CHART),
                namespace: namespace.metadata.name,
                values: alloyValues(args.config, args.images.alloy, alloyConfig({ pushUrl: LOKI_PUSH_URL })),
            },
            // Collectors retry pushes, but start once Loki is there.
            { parent: this, dependsOn: [namespace, loki] },
        );
        this.namespaces = { [LOGGING_NAMESPACE]: namespace.metadata.name };
        this.registerOutputs({ namespaces: this.namespaces });
    }
}
