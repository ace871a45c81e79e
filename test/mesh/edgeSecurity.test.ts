// The gateway's own protections: JWT authentication for /api and the per-client rate limit.
import { strict as assert } from "node:assert";
import {
    API_PATHS,
    edgeAuthorizationSpec,
    rateLimitEnvoyFilterSpec,
    requestAuthenticationSpec,
    RATE_LIMITED_HEADER,
} from "../../components/mesh/edgeSecuritySpec";
import { runProgram, testAuth } from "../harness";
import { meshProgram, stackConfig } from "./fixtures";

const prod = stackConfig("prod");
const GATEWAY = { matchLabels: { istio: "ingressgateway" } };

describe("mesh: authentication and rate limit at the edge", () => {
    it("validates tokens of the stack's issuer, keys and audiences at the gateway and forwards the Authorization header", () => {
        assert.deepEqual(requestAuthenticationSpec(testAuth(prod)), {
            selector: GATEWAY,
            jwtRules: [
                {
                    issuer: "https://auth.example.com/",
                    audiences: ["orders-api"],
                    jwksUri: "https://auth.example.com/.well-known/jwks.json",
                    forwardOriginalToken: true,
                    // The header only: never ?access_token= (Istio's default reads both).
                    fromHeaders: [{ name: "Authorization", prefix: "Bearer " }],
                },
            ],
        });
        // dev: the local issuer's public keys inline (the cluster needs no route to an issuer).
        const dev = requestAuthenticationSpec(testAuth(stackConfig("dev"))) as any;
        assert.equal(dev.jwtRules[0].jwksUri, undefined);
        assert.equal(JSON.parse(dev.jwtRules[0].jwks).keys[0].kty, "EC");
        // An inline JWKS from config is passed as it is.
        const inline = stackConfig("prod", {
            "auth.jwksUri": undefined,
            "auth.jwks": '{"keys":[{"kty":"EC","crv":"P-256","x":"eA","y":"eQ"}]}',
        });
        assert.equal((requestAuthenticationSpec(testAuth(inline)) as any).jwtRules[0].jwks, inline.auth.jwks);
    });

    it("denies /api requests without a verified token or without the claim that names the user", () => {
        assert.deepEqual(API_PATHS, ["/api", "/api/*"]);
        const spec = edgeAuthorizationSpec({ userClaim: "email" }) as any;
        assert.deepEqual(spec, {
            selector: GATEWAY,
            action: "DENY",
            rules: [
                { from: [{ source: { notRequestPrincipals: ["*"] } }], to: [{ operation: { paths: ["/api", "/api/*"] } }] },
                { to: [{ operation: { paths: ["/api", "/api/*"] } }], when: [{ key: "request.auth.claims[email]", notValues: ["*"] }] },
            ],
        });
    });

    it("limits each client address to the configured rate and burst, answering 429", () => {
        const limit = { enabled: true, requestsPerSecond: 50, burst: 120, maxClients: 20000, trustedProxies: 0 };
        const spec = rateLimitEnvoyFilterSpec(limit) as any;
        assert.deepEqual(spec.workloadSelector, { labels: { istio: "ingressgateway" } });
        const [filter, vhost] = spec.configPatches;
        assert.equal(filter.applyTo, "HTTP_FILTER");
        assert.equal(filter.patch.operation, "INSERT_FIRST", "floods are refused before any token is verified");
        assert.equal(filter.patch.value.name, "envoy.filters.http.local_ratelimit");
        assert.deepEqual(vhost.patch.value.rate_limits, [{ actions: [{ remote_address: {} }] }]);
        const perRoute = vhost.patch.value.typed_per_filter_config["envoy.filters.http.local_ratelimit"];
        const bucket = { max_tokens: 120, tokens_per_fill: 50, fill_interval: "1s" };
        // An empty descriptor value is a wildcard: one token bucket per client address.
        assert.deepEqual(perRoute.descriptors, [{ entries: [{ key: "remote_address", value: "" }], token_bucket: bucket }]);
        assert.equal(perRoute.max_dynamic_descriptors, 20000);
        assert.equal(perRoute.always_consume_default_token_bucket, false);
        assert.deepEqual(perRoute.status, { code: "TooManyRequests" });
        assert.deepEqual(perRoute.filter_enforced.default_value, { numerator: 100, denominator: "HUNDRED" });
        assert.equal(perRoute.response_headers_to_add[0].header.key, RATE_LIMITED_HEADER);
    });

    it("creates the objects in the gateway's namespace from the stack's config; no EnvoyFilter when the limit is off", async () => {
        const on = await runProgram(meshProgram(prod), { stack: "prod" });
        const inGateway = (kind: string) => on.find((r) => r.inputs.kind === kind && r.inputs.metadata.namespace === "istio-ingress");
        assert.equal(inGateway("RequestAuthentication").length, 1);
        assert.equal(inGateway("AuthorizationPolicy").length, 1);
        const filter = inGateway("EnvoyFilter")[0].inputs.spec;
        const perRoute = filter.configPatches[1].patch.value.typed_per_filter_config["envoy.filters.http.local_ratelimit"];
        assert.deepEqual(perRoute.token_bucket, { max_tokens: 40, tokens_per_fill: 20, fill_interval: "1s" }, "the defaults");
        const off = await runProgram(meshProgram(stackConfig("prod", { "edge.rateLimit.enabled": false })), { stack: "prod" });
        assert.equal(off.find((r) => r.inputs.kind === "EnvoyFilter").length, 0);
    });
});
