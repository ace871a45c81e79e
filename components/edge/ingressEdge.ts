// The north-south edge when the mesh is off: an Ingress per stack, and Traefik when asked to
// install a controller (ingress-nginx is retired; Traefik is maintained and needs no CRDs here).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartLocation } from "../chartSource";
import type { AppCatalog, AppConfig, EdgeConfig, Environment } from "../config";
import type { ChartPin } from "../versions";
import { APP_NAMESPACE, INGRESS_NAMESPACE, platformLabels, podSecurityLabels } from "../naming";
import type { MicroService } from "../workloads/microService";
import type { AppNamespaces } from "../namespaces/appNamespaces";
import { EdgeExposure, edgeUrl, INGRESS_NAME, ingressSpec, TRAEFIK_CHART, traefikValues } from "./ingressSpec";

export interface IngressEdgeArgs {
    environment: Environment;
    edge: EdgeConfig;
    apps: Record<string, AppConfig>;
    catalog: AppCatalog;
    namespaces: Pick<AppNamespaces, "appNamespace">;
    /** The Services the Ingress routes to (ordering only). */
    services: Record<string, MicroService>;
    /** Default: LoadBalancer. */
    exposure?: EdgeExposure;
    /** Pinned Traefik chart (components/versions.ts or the stack's `charts.traefik`). */
    chart: ChartPin;
}

export class IngressEdge extends pulumi.ComponentResource {
    /** Public base URL of the platform. */
    public readonly url: pulumi.Output<string>;
    /** The namespaces this component created (by name), for their NetworkPolicies. */
    public readonly namespaces: Record<string, pulumi.Output<string>> = {};

    constructor(name: string, args: IngressEdgeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:workloads:IngressEdge", name, {}, opts);
        const exposure = args.exposure ?? { type: "LoadBalancer" };
        const labels = platformLabels(args.environment, "edge");
        const dependsOn: pulumi.Resource[] = [];

        if (args.edge.installController) {
            const ns = new k8s.core.v1.Namespace(
                INGRESS_NAMESPACE,
                {
                    metadata: {
                        name: INGRESS_NAMESPACE,
                        labels: { ...labels, ...podSecurityLabels("restricted") },
                    },
                },
                { parent: this },
            );
            this.namespaces[INGRESS_NAMESPACE] = ns.metadata.name;
            dependsOn.push(
                new k8s.helm.v4.Chart(
                    "traefik",
                    {
                        ...chartLocation(args.chart, TRAEFIK_CHART),
                        namespace: ns.metadata.name,
                        // Only the Ingress provider is on; its CRDs are not needed.
                        skipCrds: true,
                        values: traefikValues(args.edge, exposure),
                    },
                    { parent: this },
                ),
            );
        }

        const ingress = new k8s.networking.v1.Ingress(
            INGRESS_NAME,
            {
                metadata: { name: INGRESS_NAME, namespace: args.namespaces.appNamespace ?? APP_NAMESPACE, labels },
                spec: ingressSpec(args.edge, [...args.catalog.values()]),
            },
            { parent: this, dependsOn: [...dependsOn, ...Object.values(args.services)] },
        );

        this.url = ingress.metadata.name.apply(() => edgeUrl(args.edge, exposure));
        this.registerOutputs({ url: this.url });
    }
}
