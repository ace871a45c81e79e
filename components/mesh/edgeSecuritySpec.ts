// The ingress gateway's own protections as pure functions of config: JWT authentication
// (RequestAuthentication + a DENY AuthorizationPolicy for /api) and a per-client rate limit
// (Envoy's local rate limit with one token bucket per client address, via an EnvoyFilter:
// Istio 1.31 has no rate-limit API of its own).
import type * as pulumi from "@pulumi/pulumi";
import type { TokenVerification } from "../auth/authSpec";
import type { RateLimitConfig } from "../config";
import { GATEWAY_SELECTOR } from "./istioValues";

export type Spec = Record<string, unknown>;

export const EDGE_JWT_NAME = "edge-jwt";
export const EDGE_REQUIRE_JWT_NAME = "edge-require-jwt";
export const EDGE_RATE_LIMIT_NAME = "edge-rate-limit";
/** Every request below this prefix needs a valid token. */
export const API_PATHS = ["/api", "/api/*"];
/** Response header set on answers the rate limit refused (429). */
export const RATE_LIMITED_HEADER = "x-rate-limited";

const gatewayWorkload = () => ({ matchLabels: { ...GATEWAY_SELECTOR } });

/** Validates tokens at the gateway and passes the original Authorization header on to the apps. */
export function requestAuthenticationSpec(v: TokenVerification): Spec {
    return {
        selector: gatewayWorkload(),
        jwtRules: [
            {
                issuer: v.issuer,
                audiences: [...v.audiences],
                ...(v.jwksUri !== undefined ? { jwksUri: v.jwksUri } : { jwks: v.jwks as pulumi.Input<string> }),
                // The apps verify the token again and authorize per user: keep the header.
                forwardOriginalToken: true,
                // Only the Authorization header: without fromHeaders Istio also reads ?access_token=,
                // which puts tokens into URLs (browser history, proxies, access logs).
                fromHeaders: [{ name: "Authorization", prefix: "Bearer " }],
            },
        ],
    };
}

/**
 * RequestAuthentication only rejects invalid tokens; this rejects API requests without one
 * (no request principal) or without the claim that names the user.
 */
export function edgeAuthorizationSpec(v: Pick<TokenVerification, "userClaim">): Spec {
    const to = [{ operation: { paths: [...API_PATHS] } }];
    return {
        selector: gatewayWorkload(),
        action: "DENY",
        rules: [
            { from: [{ source: { notRequestPrincipals: ["*"] } }], to },
            { to, when: [{ key: `request.auth.claims[${v.userClaim}]`, notValues: ["*"] }] },
        ],
    };
}

const LOCAL_RATE_LIMIT_FILTER = "envoy.filters.http.local_ratelimit";
const LOCAL_RATE_LIMIT_TYPE = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";
const STAT_PREFIX = "edge_rate_limit";
const ALL = { numerator: 100, denominator: "HUNDRED" };

function tokenBucket(r: RateLimitConfig): Spec {
    return { max_tokens: r.burst, tokens_per_fill: r.requestsPerSecond, fill_interval: "1s" };
}

/**
 * Envoy's local rate limit on the gateway: the filter goes first in the chain (floods are
 * refused before any token is verified), and the gateway's virtual hosts get one token bucket
 * per client address (a descriptor with an empty value is a wildcard: Envoy keeps a bucket per
 * value it sees, the `maxClients` most recent ones). Over the limit the gateway answers 429.
 */
export function rateLimitEnvoyFilterSpec(r: RateLimitConfig): Spec {
    return {
        workloadSelector: { labels: { ...GATEWAY_SELECTOR } },
        configPatches: [
            {
                applyTo: "HTTP_FILTER",
                match: {
                    context: "GATEWAY",
                    listener: { filterChain: { filter: { name: "envoy.filters.network.http_connection_manager" } } },
                },
                patch: {
                    operation: "INSERT_FIRST",
                    value: { name: LOCAL_RATE_LIMIT_FILTER, typed_config: { "@type": LOCAL_RATE_LIMIT_TYPE, stat_prefix: STAT_PREFIX } },
                },
            },
            {
                applyTo: "VIRTUAL_HOST",
                match: { context: "GATEWAY" },
                patch: {
                    operation: "MERGE",
                    value: {
                        rate_limits: [{ actions: [{ remote_address: {} }] }],
                        typed_per_filter_config: {
                            [LOCAL_RATE_LIMIT_FILTER]: {
                                "@type": LOCAL_RATE_LIMIT_TYPE,
                                stat_prefix: STAT_PREFIX,
                                status: { code: "TooManyRequests" },
                                // Only used for requests without a client address.
                                token_bucket: tokenBucket(r),
                                filter_enabled: { runtime_key: `${STAT_PREFIX}_enabled`, default_value: ALL },
                                filter_enforced: { runtime_key: `${STAT_PREFIX}_enforced`, default_value: ALL },
                                response_headers_to_add: [
                                    { append_action: "OVERWRITE_IF_EXISTS_OR_ADD", header: { key: RATE_LIMITED_HEADER, value: "edge" } },
                                ],
                                descriptors: [{ entries: [{ key: "remote_address", value: "" }], token_bucket: tokenBucket(r) }],
                                always_consume_default_token_bucket: false,
                                max_dynamic_descriptors: r.maxClients,
                            },
                        },
                    },
                },
            },
        ],
    };
}
