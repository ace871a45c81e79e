// Pure builders for the mesh-off edge: the Ingress and the Traefik chart values.
import type * as k8s from "@pulumi/kubernetes";
import { EDGE_NODE_PORTS } from "../cluster/types";
import type { AppFacts, EdgeConfig } from "../config";

export const TRAEFIK_CHART = "traefik";
export const INGRESS_NAME = "orders-platform";

/** How the controller's Service is reachable from outside the cluster. */
export type EdgeExposure =
    /** kind: fixed NodePorts, published on the host at these ports. */
    { type: "NodePort"; hostPorts: { http: number; https: number } } | { type: "LoadBalancer" };

export function ingressSpec(edge: EdgeConfig, apps: AppFacts[]): k8s.types.input.networking.v1.IngressSpec {
    return {
        ingressClassName: edge.ingressClass,
        rules: [
            {
                host: edge.host,
                http: {
                    paths: [...apps]
                        .sort((a, b) => a.apiPrefix.localeCompare(b.apiPrefix))
                        .map((app) => ({
                            path: app.apiPrefix,
                            pathType: "Prefix",
                            backend: { service: { name: app.name, port: { number: app.port } } },
                        })),
                },
            },
        ],
        ...(edge.tls.enabled ? { tls: [{ hosts: [edge.host], secretName: edge.tls.secretName! }] } : {}),
    };
}

export function edgeUrl(edge: EdgeConfig, exposure: EdgeExposure): string {
    const scheme = edge.tls.enabled ? "https" : "http";
    if (exposure.type === "LoadBalancer") return `${scheme}://${edge.host}`;
    const port = edge.tls.enabled ? exposure.hostPorts.https : exposure.hostPorts.http;
    const isDefault = (scheme === "http" && port === 80) || (scheme === "https" && port === 443);
    return `${scheme}://${edge.host}${isDefault ? "" : `:${port}`}`;
}

/** Values of the Traefik chart (keys of chart 41.x): Ingress provider only, restricted pods, our IngressClass. */
export function traefikValues(edge: EdgeConfig, exposure: EdgeExposure, replicas = 1): Record<string, unknown> {
    return {
        deployment: { replicas },
        ingressClass: { enabled: true, isDefaultClass: false, name: edge.ingressClass },
        providers: {
            // Plain networking.k8s.io/v1 Ingress only: no Traefik CRDs, no Gateway API.
            kubernetesCRD: { enabled: false },
            kubernetesIngress: { enabled: true, allowEmptyServices: true },
            kubernetesGateway: { enabled: false },
        },
        gateway: { enabled: false },
        gatewayClass: { enabled: false },
        api: { dashboard: false },
        // Chart >= 41: `log` and `accessLog` replace `logs`; the Service type lives under `service.spec`.
        log: { level: "INFO", format: "json" },
        accessLog: { enabled: true, format: "json" },
        service: { spec: { type: exposure.type } },
        ports: {
            web: exposure.type === "NodePort" ? { nodePort: EDGE_NODE_PORTS.http } : {},
            websecure: exposure.type === "NodePort" ? { nodePort: EDGE_NODE_PORTS.https } : {},
        },
        resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        podSecurityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
        securityContext: {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            readOnlyRootFilesystem: true,
            seccompProfile: { type: "RuntimeDefault" },
        },
        ...(replicas > 1 ? { podDisruptionBudget: { enabled: true, maxUnavailable: 1 } } : {}),
    };
}
