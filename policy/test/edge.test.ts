import { strict as assert } from "node:assert";
import { edgeTls, loadBalancerEdgeOnly } from "../policies";
import { gateway, ingress, service } from "./fixtures";
import { violations } from "./helpers";

const EDGE = { allowedLoadBalancers: [{ namespace: "istio-ingress" }, { namespace: "ingress-traefik", name: "traefik" }] };

describe("k8s-loadbalancer-edge-only", () => {
    it("passes ClusterIP and NodePort Services", async () => {
        assert.deepEqual(await violations(loadBalancerEdgeOnly, service("users", "orders-apps", "ClusterIP"), EDGE), []);
        assert.deepEqual(await violations(loadBalancerEdgeOnly, service("users", "orders-apps", "NodePort"), EDGE), []);
    });
    it("passes the edge gateway identified by namespace, name or selector", async () => {
        assert.deepEqual(
            await violations(loadBalancerEdgeOnly, service("istio-ingressgateway", "istio-ingress", "LoadBalancer"), EDGE),
            [],
        );
        assert.deepEqual(await violations(loadBalancerEdgeOnly, service("traefik", "ingress-traefik", "LoadBalancer"), EDGE), []);
        const bySelector = { allowedLoadBalancers: [{ namespace: "istio-ingress", selector: { istio: "ingress" } }] };
        assert.deepEqual(
            await violations(
                loadBalancerEdgeOnly,
                service("gw", "istio-ingress", "LoadBalancer", { selector: { istio: "ingress", app: "gw" } }),
                bySelector,
            ),
            [],
        );
        assert.equal(
            (
                await violations(
                    loadBalancerEdgeOnly,
                    service("gw", "istio-ingress", "LoadBalancer", { selector: { app: "gw" } }),
                    bySelector,
                )
            ).length,
            1,
        );
    });
    it("fails any other LoadBalancer", async () => {
        const v = await violations(loadBalancerEdgeOnly, service("users", "orders-apps", "LoadBalancer"), EDGE);
        assert.deepEqual(v, [
            "Service orders-apps/users: spec.type is LoadBalancer, which only the edge gateway may use (allowed: istio-ingress/*, ingress-traefik/traefik); use ClusterIP and route through the edge gateway",
        ]);
        assert.equal((await violations(loadBalancerEdgeOnly, service("other", "ingress-traefik", "LoadBalancer"), EDGE)).length, 1);
    });
    it("allows no LoadBalancer without config", async () => {
        assert.equal((await violations(loadBalancerEdgeOnly, service("istio-ingressgateway", "istio-ingress", "LoadBalancer"))).length, 1);
    });
});

const HTTPS = {
    port: { number: 443, name: "https", protocol: "HTTPS" },
    hosts: ["orders.example.com"],
    tls: { mode: "SIMPLE", credentialName: "orders-edge-tls" },
};
const REDIRECT = { port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["orders.example.com"], tls: { httpsRedirect: true } };

describe("edge-tls", () => {
    it("passes a Gateway with an HTTPS server and an HTTP redirect", async () => {
        assert.deepEqual(await violations(edgeTls, gateway("edge", "orders-apps", [REDIRECT, HTTPS])), []);
        assert.deepEqual(
            await violations(edgeTls, gateway("edge", "orders-apps", [{ ...HTTPS, tls: { mode: "MUTUAL", credentialName: "x" } }])),
            [],
        );
    });
    it("fails plain HTTP without a redirect, and a Gateway without HTTPS", async () => {
        const v = await violations(
            edgeTls,
            gateway("edge", "istio-ingress", [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }]),
        );
        assert.deepEqual(v, [
            "Gateway istio-ingress/edge: server 0 (spec.servers[0], port 80 HTTP): serves plain HTTP without redirecting; set tls.httpsRedirect: true (and serve the hosts on an HTTPS server)",
            "Gateway istio-ingress/edge: has no HTTPS server; add a port 443 HTTPS server with tls.mode SIMPLE and a credentialName",
        ]);
    });
    it("fails HTTPS without a mode or credential, and PASSTHROUGH", async () => {
        const v = await violations(edgeTls, gateway("edge", "orders-apps", [{ ...HTTPS, tls: {} }]));
        assert.equal(v.length, 2);
        assert.match(v[0], /tls\.mode is not set; set tls\.mode to SIMPLE or MUTUAL/);
        assert.match(v[1], /tls\.credentialName is not set/);
        assert.equal(
            (await violations(edgeTls, gateway("edge", "orders-apps", [{ ...HTTPS, tls: { mode: "PASSTHROUGH", credentialName: "x" } }])))
                .length,
            1,
        );
    });
    it("treats port 443 as HTTPS whatever its protocol says", async () => {
        const v = await violations(edgeTls, gateway("edge", "orders-apps", [{ port: { number: 443, protocol: "HTTP" }, hosts: ["*"] }]));
        assert.equal(v.length, 2);
    });
    it("passes an Ingress whose TLS covers every host, including wildcards", async () => {
        const spec = {
            ingressClassName: "traefik",
            tls: [{ hosts: ["orders.example.com", "*.example.net"], secretName: "edge-tls" }],
            rules: [{ host: "orders.example.com" }, { host: "api.example.net" }],
        };
        assert.deepEqual(await violations(edgeTls, ingress("edge", "orders-apps", spec)), []);
    });
    it("fails an Ingress without TLS, with an uncovered host or without a secret", async () => {
        assert.match(
            (await violations(edgeTls, ingress("edge", "orders-apps", { rules: [{ host: "orders.example.com" }] })))[0],
            /^Ingress orders-apps\/edge: spec\.tls is not set/,
        );
        const spec = { tls: [{ hosts: ["*.example.net"] }], rules: [{ host: "a.b.example.net" }, { host: "orders.example.com" }, {}] };
        const v = await violations(edgeTls, ingress("edge", "orders-apps", spec));
        assert.equal(v.length, 4, v.join("\n"));
        assert.match(v[0], /spec\.tls\[0\]\.secretName is not set/);
        assert.match(v[1], /host "a\.b\.example\.net" \(spec\.rules\[0\]\) is not listed in spec\.tls\[\]\.hosts/);
    });
    it("ignores other kinds and excluded namespaces", async () => {
        assert.deepEqual(await violations(edgeTls, service("x", "orders-apps", "ClusterIP")), []);
        const bad = gateway("edge", "tracing", [{ port: { number: 80, protocol: "HTTP" }, hosts: ["*"] }]);
        assert.deepEqual(await violations(edgeTls, bad, { excludedNamespaces: ["tracing"] }), []);
    });
});
