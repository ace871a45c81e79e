// North-south and east-west traffic through the mesh: the edge Gateway with JWT authentication
// and a per-client rate limit, per-app routing with the canary split, mesh-wide mTLS,
// AuthorizationPolicies from the app graph, and tracing.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { TrafficEdge } from "../network/appGraph";
import type { ExternalHost } from "../network/externalHosts";
import { serviceEntrySpecs } from "./egressSpec";
import type { TokenVerification } from "../auth/authSpec";
import type { AppCatalog, AppConfig, EdgeConfig, Environment, MeshConfig } from "../config";
import { DATA_NAMESPACE, platformLabels } from "../naming";
import { authorizationPolicies } from "./authorizationSpec";
import {
    EDGE_JWT_NAME,
    EDGE_RATE_LIMIT_NAME,
    EDGE_REQUIRE_JWT_NAME,
    edgeAuthorizationSpec,
    rateLimitEnvoyFilterSpec,
    requestAuthenticationSpec,
} from "./edgeSecuritySpec";
import type { Istio } from "./istio";
import { destinationRuleSpec, GATEWAY_NAME, gatewaySpec, peerAuthenticationSpec, telemetrySpec, virtualServiceSpec } from "./trafficSpec";

/** The part of the workloads' AppNamespaces this component needs. */
export interface MeshNamespaces {
    appNamespace: pulumi.Output<string>;
    dataNamespace: pulumi.Output<string>;
    appNamespaceName: string;
}

export interface MeshTrafficArgs {
    environment: Environment;
    mesh: MeshConfig;
    edge: EdgeConfig;
    apps: Record<string, AppConfig>;
    catalog: AppCatalog;
    graph: TrafficEdge[];
    namespaces: MeshNamespaces;
    istio: Istio;
    /** How the gateway verifies tokens (issuer, keys, audiences, claims). */
    auth: TokenVerification;
    /** Host ports in front of the gateway (kind's port mappings); default 80/443. */
    publicPorts?: { http: number; https: number };
    /** Send Istio spans to the tracing backend (Jaeger); default true. */
    tracing?: boolean;
    /** The hosts outside the cluster the platform reaches: the only ones sidecars may reach (REGISTRY_ONLY). */
    externalHosts?: ExternalHost[];
}

/** Public URL of the edge: https when TLS is on; non-default ports spelled out. */
export function edgeUrl(edge: EdgeConfig, publicPorts?: { http: number; https: number }): string {
    if (edge.tls.enabled) {
        const port = publicPorts?.https ?? 443;
        return `https://${edge.host}${port === 443 ? "" : `:${port}`}`;
    }
    const port = publicPorts?.http ?? 80;
    return `http://${edge.host}${port === 80 ? "" : `:${port}`}`;
}

export class MeshTraffic extends pulumi.ComponentResource {
    public readonly url: pulumi.Output<string>;

    constructor(name: string, args: MeshTrafficArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:mesh:MeshTraffic", name, {}, opts);
        const { environment, mesh, edge, apps, catalog, graph, namespaces, istio, auth } = args;
        const labels = platformLabels(environment, "mesh-traffic");
        // Every Istio object needs the CRDs and istiod's validation webhook.
        const after = { parent: this, dependsOn: istio.ready };
        const custom = (
            apiVersion: string,
            kind: string,
            objName: string,
            namespace: pulumi.Input<string>,
            spec: pulumi.Input<Record<string, unknown>>,
            urnName = objName,
        ) =>
            new k8s.apiextensions.CustomResource(
                urnName,
                { apiVersion, kind, metadata: { name: objName, namespace, labels }, spec },
                after,
            );

        custom("networking.istio.io/v1", "Gateway", GATEWAY_NAME, istio.gatewayNamespace, gatewaySpec(edge));
        // Egress: outbound traffic is REGISTRY_ONLY (istiod's mesh config); these are the registry's external hosts.
        for (const entry of serviceEntrySpecs(args.externalHosts ?? [])) {
            new k8s.apiextensions.CustomResource(
                `egress-${entry.name}`,
                {
                    apiVersion: "networking.istio.io/v1",
                    kind: "ServiceEntry",
                    metadata: {
                        name: `egress-${entry.name}`,
                        namespace: istio.systemNamespace,
                        labels,
                        annotations: { "orders-platform/reason": entry.why },
                    },
                    spec: entry.spec,
                },
                after,
            );
        }
        // Every /api request needs a valid token; the gateway passes the Authorization header on.
        custom("security.istio.io/v1", "RequestAuthentication", EDGE_JWT_NAME, istio.gatewayNamespace, requestAuthenticationSpec(auth));
        custom("security.istio.io/v1", "AuthorizationPolicy", EDGE_REQUIRE_JWT_NAME, istio.gatewayNamespace, edgeAuthorizationSpec(auth));
        if (edge.rateLimit.enabled) {
            custom(
                "networking.istio.io/v1alpha3",
                "EnvoyFilter",
                EDGE_RATE_LIMIT_NAME,
                istio.gatewayNamespace,
                rateLimitEnvoyFilterSpec(edge.rateLimit),
            );
        }

        for (const facts of catalog.values()) {
            const app = apps[facts.name];
            if (!app) throw new Error(`app ${facts.name} has no config`);
            custom("networking.istio.io/v1", "DestinationRule", facts.name, namespaces.appNamespace, destinationRuleSpec(facts, app, mesh));
            custom(
                "networking.istio.io/v1",
                "VirtualService",
                facts.name,
                namespaces.appNamespace,
                virtualServiceSpec(facts, app, mesh, edge, auth.canaryClaim),
            );
        }

        custom(
            "security.istio.io/v1",
            "PeerAuthentication",
            "default",
            istio.systemNamespace,
            peerAuthenticationSpec(mesh),
            "mesh-default",
        );
        for (const p of authorizationPolicies(graph)) {
            const namespace = p.namespace === DATA_NAMESPACE ? namespaces.dataNamespace : namespaces.appNamespace;
            custom("security.istio.io/v1", "AuthorizationPolicy", p.name, namespace, p.spec, `${p.namespace}-${p.name}`);
        }
        if (args.tracing ?? true) {
            custom("telemetry.istio.io/v1", "Telemetry", "mesh-default", istio.systemNamespace, telemetrySpec(mesh));
        }

        this.url = pulumi.output(edgeUrl(edge, args.publicPorts));
        this.registerOutputs({ url: this.url });
    }
}
