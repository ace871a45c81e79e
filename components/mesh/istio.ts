// Istio control plane and ingress gateway from the official Helm charts: base (CRDs) ->
// istiod -> gateway, strictly in that order. Charts, version and source: components/versions.ts
// (or the stack's `charts.istio` override).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterTopology } from "../cluster/types";
import { chartLocation } from "../chartSource";
import type { Environment, MeshConfig } from "../config";
import type { ChartPin } from "../versions";
import { GATEWAY_NAMESPACE, ISTIO_NAMESPACE, platformLabels } from "../naming";
import { baseValues, GATEWAY_RELEASE, gatewayValues, istiodValues } from "./istioValues";

export interface IstioArgs {
    environment: Environment;
    config: MeshConfig;
    topology: ClusterTopology;
    /** Version and source shared by the base, istiod and gateway charts. */
    chart: ChartPin;
}

export class Istio extends pulumi.ComponentResource {
    /** Depend on these before creating Istio custom resources or injected workloads. */
    public readonly ready: pulumi.Resource[];
    public readonly systemNamespace: pulumi.Output<string>;
    public readonly gatewayNamespace: pulumi.Output<string>;
    /** Release (and Service) name of the ingress gateway. */
    public readonly gatewayName: string = GATEWAY_RELEASE;
    public readonly version: string;

    constructor(name: string, args: IstioArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:mesh:Istio", name, {}, opts);
        const { environment, config, topology } = args;
        const labels = platformLabels(environment, "mesh");

        const system = new k8s.core.v1.Namespace(ISTIO_NAMESPACE, { metadata: { name: ISTIO_NAMESPACE, labels } }, { parent: this });
        const ingress = new k8s.core.v1.Namespace(
            GATEWAY_NAMESPACE,
            // The gateway chart's pods are completed by the injector ("gateway" template).
            { metadata: { name: GATEWAY_NAMESPACE, labels: { ...labels, "istio-injection": "enabled" } } },
            { parent: this },
        );

        const chart = (
            release: string,
            chartName: string,
            namespace: k8s.core.v1.Namespace,
            values: Record<string, unknown>,
            dependsOn: pulumi.Resource[],
        ) =>
            new k8s.helm.v4.Chart(
                release,
                {
                    name: release,
                    ...chartLocation(args.chart, chartName),
                    namespace: namespace.metadata.name,
                    values,
                },
                { parent: this, dependsOn },
            );

        // CRDs first: nothing that uses networking/security/telemetry.istio.io may precede them.
        const base = chart("istio-base", "base", system, baseValues(), [system]);
        const istiod = chart("istiod", "istiod", system, istiodValues(config, topology), [base]);
        // The injector (istiod) must run before gateway pods are created.
        const gateway = chart(GATEWAY_RELEASE, "gateway", ingress, gatewayValues(config, topology, environment), [istiod, ingress]);

        this.ready = [base, istiod, gateway];
        this.systemNamespace = system.metadata.name;
        this.gatewayNamespace = ingress.metadata.name;
        this.version = args.chart.version;
        this.registerOutputs({ systemNamespace: this.systemNamespace, gatewayNamespace: this.gatewayNamespace });
    }
}
