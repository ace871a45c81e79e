// `edge`: the public host, TLS, the ingress class and controller (mesh off) and the rate limit.
import { z } from "zod";
import { DNS_NAME, K8S_NAME, bool, int, pattern } from "./common";

const rateLimitSchema = z
    .strictObject({
        enabled: bool().default(true),
        /** Sustained requests per second and client at the edge; above it the edge answers 429. */
        requestsPerSecond: int(1, 100000).default(20),
        /** Requests a client may send at once before the sustained rate applies. */
        burst: int(1, 1000000).default(40),
        /** Clients remembered per edge pod (least recently seen are forgotten first). */
        maxClients: int(100, 1000000).default(10000),
        /** Proxies in front of the edge that append the client to X-Forwarded-For (0: the TCP peer is the client). */
        trustedProxies: int(0, 5).default(0),
    })
    .refine((r) => r.burst >= r.requestsPerSecond, { error: "burst must be >= requestsPerSecond", path: ["burst"] });
export type RateLimitConfig = z.infer<typeof rateLimitSchema>;

export const edgeSchema = z.strictObject({
    /** Public host name of the platform ("localhost" in dev). */
    host: pattern(DNS_NAME, 'a DNS host name like "orders.example.com"'),
    tls: z
        .strictObject({
            enabled: bool().default(false),
            /** kubernetes.io/tls Secret holding the certificate (e.g. managed by cert-manager). */
            secretName: pattern(K8S_NAME, "a Secret name").optional(),
        })
        .refine((t) => !t.enabled || !!t.secretName, { error: "secretName is required when tls.enabled is true", path: ["secretName"] })
        .prefault({}),
    /** IngressClass used when the mesh is off. */
    ingressClass: pattern(K8S_NAME, "an IngressClass name").default("traefik"),
    /** Install the Traefik ingress controller (mesh off) when the cluster has none. */
    installController: bool().default(false),
    /** Per-client rate limit at the edge (Istio gateway or Traefik). */
    rateLimit: rateLimitSchema.prefault({}),
});
export type EdgeConfig = z.infer<typeof edgeSchema>;
