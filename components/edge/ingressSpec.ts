// Pure builders for the mesh-off edge: the Ingress and the Traefik chart values.
import type * as k8s from "@pulumi/kubernetes";
import { EDGE_NODE_PORTS } from "../cluster/types";
import type { AppFacts, EdgeConfig, RateLimitConfig } from "../config";
import { APP_NAMESPACE } from "../naming";

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

/** Traefik's per-client rate limit, defined in its file provider (no Traefik CRDs needed). */
export const RATE_LIMIT_MIDDLEWARE = "edge-rate-limit";

/** Dynamic configuration of the file provider: the RateLimit middleware (answers 429 above the limit). */
export function traefikDynamicConfig(rateLimit: RateLimitConfig): Record<string, unknown> {
    return {
        http: {
            middlewares: {
                [RATE_LIMIT_MIDDLEWARE]: {
                    rateLimit: {
                        average: rateLimit.requestsPerSecond,
                        period: "1s",
                        burst: rateLimit.burst,
                        // Per client address; behind proxies, the address that many hops from the right of X-Forwarded-For.
                        ...(rateLimit.trustedProxies > 0 ? { sourceCriterion: { ipStrategy: { depth: rateLimit.trustedProxies } } } : {}),
                    },
                },
            },
        },
    };
}

/**
 * Values of the Traefik chart (keys of chart 41.x): Ingress provider only (watching the app
 * namespace), restricted pods, our IngressClass, and the rate limit on both entry points.
 */
export function traefikValues(edge: EdgeConfig, exposure: EdgeExposure, replicas = 1): Record<string, unknown> {
    const rateLimited = edge.rateLimit.enabled ? { http: { middlewares: [`${RATE_LIMIT_MIDDLEWARE}@file`] } } : {};
    const nodePort = (port: number) => (exposure.type === "NodePort" ? { nodePort: port } : {});
    return {
        deployment: { replicas },
        ingressClass: { enabled: true, isDefaultClass: false, name: edge.ingressClass },
        providers: {
            // Plain networking.k8s.io/v1 Ingress only: no Traefik CRDs, no Gateway API.
            kubernetesCRD: { enabled: false },
            kubernetesIngress: { enabled: true, allowEmptyServices: true, namespaces: [APP_NAMESPACE] },
            kubernetesGateway: { enabled: false },
            // The rate-limit middleware; a file provider needs neither CRDs nor RBAC.
            file: edge.rateLimit.enabled
                ? { enabled: true, watch: false, content: traefikDynamicConfig(edge.rateLimit) }
                : { enabled: false },
        },
        gateway: { enabled: false },
        gatewayClass: { enabled: false },
        api: { dashboard: false },
        // Chart >= 41: `log` and `accessLog` replace `logs`; the Service type lives under `service.spec`.
        log: { level: "INFO", format: "json" },
        accessLog: { enabled: true, format: "json" },
        service: { spec: { type: exposure.type } },
        ports: {
            web: { ...nodePort(EDGE_NODE_PORTS.http), ...rateLimited },
            websecure: { ...nodePort(EDGE_NODE_PORTS.https), ...rateLimited },
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
