// Istio control plane, CNI node agent and ingress gateway from the official Helm charts: base
// (CRDs) -> istiod and cni -> gateway, strictly in that order. Charts, version and source:
// components/versions.ts (or the stack's `charts.istio` override).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterNetwork } from "../cluster/network";
import type { ClusterTopology } from "../cluster/types";
import { chartLocation } from "../chartSource";
import type { Environment, MeshConfig, RateLimitConfig } from "../config";
import type { ChartPin } from "../versions";
import { CNI_NAMESPACE, GATEWAY_NAMESPACE, ISTIO_NAMESPACE, platformLabels, podSecurityLabels } from "../naming";
import { baseValues, CNI_RELEASE, cniValues, GATEWAY_RELEASE, gatewayValues, istiodValues } from "./istioValues";

export interface IstioArgs {
    environment: Environment;
    config: MeshConfig;
    topology: ClusterTopology;
    /** The Istio platform profile (GKE) comes from here. */
    network: Pick<ClusterNetwork, "istioPlatform">;
    /** The gateway keys its rate limit on the client address (trusted proxies). */
    rateLimit: RateLimitConfig;
    /** Version and source shared by the base, istiod, cni and gateway charts. */
    chart: ChartPin;
}

export class Istio extends pulumi.ComponentResource {
    /** Depend on these before creating Istio custom resources or injected workloads. */
    public readonly ready: pulumi.Resource[];
    public readonly systemNamespace: pulumi.Output<string>;
    public readonly gatewayNamespace: pulumi.Output<string>;
    /** Namespace of the CNI node agent. */
    public readonly cniNamespace: pulumi.Output<string>;
    /** The namespaces this component created (by name), for their NetworkPolicies. */
    public readonly namespaces: Record<string, pulumi.Output<string>>;
    /** Release (and Service) name of the ingress gateway. */
    public readonly gatewayName: string = GATEWAY_RELEASE;
    public readonly version: string;

    constructor(name: string, args: IstioArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:mesh:Istio", name, {}, opts);
        const { environment, config, topology } = args;
        const labels = platformLabels(environment, "mesh");

        const namespace = (nsName: string, extra: Record<string, string>) =>
            new k8s.core.v1.Namespace(nsName, { metadata: { name: nsName, labels: { ...labels, ...extra } } }, { parent: this });
        const system = namespace(ISTIO_NAMESPACE, podSecurityLabels("restricted"));
        // The gateway chart's pods are completed by the injector ("gateway" template).
        const ingress = namespace(GATEWAY_NAMESPACE, { ...podSecurityLabels("restricted"), "istio-injection": "enabled" });
        const cni = namespace(CNI_NAMESPACE, podSecurityLabels("privileged"));

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
        const base = chart("istio-base", "base", system, baseValues(args.network), [system]);
        const istiod = chart("istiod", "istiod", system, istiodValues(config, topology, args.network), [base]);
        // Injected pods wait for the node agent (their istio-validation init container checks the redirection).
        const cniAgent = chart(CNI_RELEASE, "cni", cni, cniValues(args.network), [base, cni]);
        // The injector (istiod) must run before gateway pods are created.
        const gateway = chart(
            GATEWAY_RELEASE,
            "gateway",
            ingress,
            gatewayValues(config, topology, environment, { rateLimit: args.rateLimit, network: args.network }),
            [istiod, cniAgent, ingress],
        );

        this.ready = [base, istiod, cniAgent, gateway];
        this.systemNamespace = system.metadata.name;
        this.gatewayNamespace = ingress.metadata.name;
        this.cniNamespace = cni.metadata.name;
        this.namespaces = {
            [ISTIO_NAMESPACE]: system.metadata.name,
            [GATEWAY_NAMESPACE]: ingress.metadata.name,
            [CNI_NAMESPACE]: cni.metadata.name,
        };
        this.version = args.chart.version;
        this.registerOutputs({
            systemNamespace: this.systemNamespace,
            gatewayNamespace: this.gatewayNamespace,
            cniNamespace: this.cniNamespace,
        });
    }
}
