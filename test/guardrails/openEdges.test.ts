// The three edges a security review left open, each closed by config validation, the policy pack
// or the rendered objects, and each with a test that fails when it is reopened.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { ACCESS_LOG_FIELDS } from "../../components/mesh/istioValues";
import { alloyConfig, REDACT_EXPRESSIONS, REDACTED } from "../../components/observability/logsSpec";
import { chartImage, kubePrometheusStackValues } from "../../components/observability/prometheusStackSpec";
import { IMAGES } from "../../components/versions";
import { parseImage } from "../../policy/lib/images";
import { resolvePolicyConfig, runPolicies, type PolicyPackConfigFile } from "../../policy/lib/runner";
import { eksCluster, gkeCluster } from "../../policy/policies";
import { GKE_OVERRIDES, runStack, stackConfig, stackConfigProblems } from "../harness";

const policyConfig = (env: string) =>
    JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "policy", "config", `${env}.json`), "utf8")) as PolicyPackConfigFile;

describe("guardrails: the open edges stay closed", function () {
    this.timeout(300_000);

    describe("the Kubernetes API is never open to the whole internet in staging or prod", () => {
        it("config validation refuses 0.0.0.0/0 (and ::/0 is no IPv4 CIDR at all), naming the key", () => {
            for (const stack of ["staging", "prod"]) {
                const eks = stackConfigProblems(stack, { "cluster.eks.endpointPublicAccessCidrs": ["198.51.100.0/24", "0.0.0.0/0"] });
                assert.ok(
                    eks.some((p) =>
                        /^orders-platform:cluster\.eks\.endpointPublicAccessCidrs\.1 = "?0\.0\.0\.0\/0"?: opens the Kubernetes API to the whole internet/.test(
                            p,
                        ),
                    ),
                    eks.join("\n"),
                );
                const gke = stackConfigProblems(stack, {
                    ...GKE_OVERRIDES,
                    "cluster.gke": { ...(GKE_OVERRIDES["cluster.gke"] as object), masterAuthorizedCidrs: ["0.0.0.0/0"] },
                });
                assert.ok(
                    gke.some((p) => /^orders-platform:cluster\.gke\.masterAuthorizedCidrs\.0 .*opens the Kubernetes API/.test(p)),
                    gke.join("\n"),
                );
                assert.ok(
                    stackConfigProblems(stack, { "cluster.eks.endpointPublicAccessCidrs": ["::/0"] }).some((p) =>
                        /endpointPublicAccessCidrs/.test(p),
                    ),
                );
            }
            // dev runs on kind: no cloud endpoint to protect.
            assert.deepEqual(stackConfigProblems("dev", { "cluster.provider": "kind" }), []);
        });

        it("the pack refuses it in the rendered cluster, naming the key, at mandatory level in staging and prod", async () => {
            for (const env of ["staging", "prod"]) {
                const cluster = {
                    type: "aws:eks/cluster:Cluster",
                    name: "cluster",
                    urn: "urn:pulumi:prod::orders-platform::aws:eks/cluster:Cluster::cluster",
                    props: {
                        name: "orders",
                        enabledClusterLogTypes: ["api", "audit", "authenticator"],
                        vpcConfig: { endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ["0.0.0.0/0"] },
                    },
                };
                const gke = {
                    type: "gcp:container/cluster:Cluster",
                    name: "gke",
                    urn: "urn:pulumi:prod::orders-platform::gcp:container/cluster:Cluster::gke",
                    props: {
                        name: "orders",
                        privateClusterConfig: { enablePrivateNodes: true },
                        masterAuthorizedNetworksConfig: { cidrBlocks: [{ cidrBlock: "::/0" }] },
                    },
                };
                const v = (await runPolicies([cluster, gke], policyConfig(env))).filter((x) =>
                    [eksCluster.name, gkeCluster.name].includes(x.policyName),
                );
                assert.deepEqual(
                    v.map((x) => [x.policyName, x.enforcementLevel]),
                    [
                        ["eks-cluster-hardening", "mandatory"],
                        ["gke-cluster-hardening", "mandatory"],
                    ],
                );
                assert.match(v[0].message, /orders-platform:cluster\.eks\.endpointPublicAccessCidrs/);
                assert.match(v[1].message, /orders-platform:cluster\.gke\.masterAuthorizedCidrs/);
            }
        });
    });

    describe("every third-party image in prod by digest", () => {
        it("the chart images of kube-prometheus-stack (with Grafana and its sidecar) are set by digest from components/versions.ts", () => {
            const values = kubePrometheusStackValues(stackConfig("prod").observability, "gp3", stackConfig("prod").images) as any;
            const images: Array<[string, any]> = [
                ["operator", values.prometheusOperator.image],
                ["config reloader", values.prometheusOperator.prometheusConfigReloader.image],
                ["prometheus", values.prometheus.prometheusSpec.image],
                ["alertmanager", values.alertmanager.alertmanagerSpec.image],
                ["kube-state-metrics", values["kube-state-metrics"].image],
                ["grafana", values.grafana.image],
                ["grafana sidecar", values.grafana.sidecar.image],
                ["node-exporter", values["prometheus-node-exporter"].image],
            ];
            for (const [what, img] of images) {
                const digest = img.sha ? `sha256:${img.sha}` : img.digest;
                assert.match(digest ?? "", /^sha256:[a-f0-9]{64}$/, `${what}: by digest`);
                const pin = Object.values(IMAGES).find((p) => p.repository === `${img.registry}/${img.repository}`);
                assert.ok(pin, `${what}: ${img.registry}/${img.repository} is pinned in components/versions.ts`);
                assert.equal(digest, pin.digest, `${what}: the pinned digest`);
                assert.equal(img.tag, pin.tag);
            }
            assert.deepEqual(chartImage("quay.io/a/b:v1@sha256:" + "c".repeat(64), "digest"), {
                registry: "quay.io",
                repository: "a/b",
                tag: "v1",
                digest: "sha256:" + "c".repeat(64),
            });
            assert.throws(() => chartImage("quay.io/a/b:v1"), /expected <registry>\/<repository>:<tag>@sha256/);
        });

        it("prod's digest exemptions are exactly the repositories without a verified pin, each with its reason", () => {
            const cfg = resolvePolicyConfig(policyConfig("prod")).get("k8s-no-latest-image")!.properties;
            assert.equal(cfg.requireDigest, true);
            const exemptions = cfg.digestExemptions as Array<{ repository: string; reason: string }>;
            assert.deepEqual(
                exemptions.map((e) => e.repository),
                ["docker.io/istio/pilot", "docker.io/istio/install-cni", "docker.io/jaegertracing/jaeger"],
            );
            const pinned = new Set(Object.values(IMAGES).map((p) => p.repository));
            for (const e of exemptions) {
                assert.ok(!pinned.has(e.repository), `${e.repository} has a pin in versions.ts: remove its exemption`);
                assert.match(e.reason, /no digest .* could be verified/);
            }
            // Every allowed third-party repository of prod is pinned by digest or exempt with a reason.
            const allowed = (cfg.allowedRegistries as string[]).filter((r) => !r.endsWith("/"));
            for (const repo of allowed) {
                assert.ok(pinned.has(repo) || exemptions.some((e) => e.repository === repo), `${repo}: pinned or exempt`);
            }
            for (const pin of Object.values(IMAGES)) assert.ok(parseImage(`${pin.repository}@${pin.digest}`).ok, pin.repository);
        });
    });

    describe("tokens only from the Authorization header, and never in the logs", () => {
        it("the gateway's RequestAuthentication reads the Authorization header only (no ?access_token=)", async () => {
            for (const [stack, overrides] of [
                ["prod", {}],
                ["dev", {}],
            ] as const) {
                const run = await runStack(stack, overrides);
                const ra = run.find((r) => r.inputs?.kind === "RequestAuthentication");
                assert.equal(ra.length, 1);
                for (const rule of ra[0].inputs.spec.jwtRules) {
                    assert.deepEqual(rule.fromHeaders, [{ name: "Authorization", prefix: "Bearer " }]);
                    assert.equal(rule.fromParams, undefined, "no query parameter");
                    assert.equal(rule.fromCookies, undefined, "no cookie");
                }
            }
        });

        it("the proxies' access log records the path without its query string and no Authorization or cookie header", async () => {
            const run = await runStack("prod");
            const istiod = run.find((r) => r.type === "kubernetes:helm.sh/v4:Chart" && String(r.inputs.chart).includes("istiod"));
            assert.equal(istiod.length, 1);
            const mesh = istiod[0].inputs.values.meshConfig;
            assert.equal(mesh.accessLogEncoding, "JSON");
            const fields = JSON.parse(mesh.accessLogFormat) as Record<string, string>;
            assert.deepEqual(fields, ACCESS_LOG_FIELDS);
            assert.equal(fields.path, "%REQ_WITHOUT_QUERY(X-ENVOY-ORIGINAL-PATH?:PATH)%");
            for (const [key, op] of Object.entries(fields)) {
                assert.doesNotMatch(op, /AUTHORIZATION|COOKIE|%REQ\((X-ENVOY-ORIGINAL-PATH\?)?:PATH\)%|%PATH/i, `${key}: ${op}`);
            }
        });

        it("Alloy cuts tokens out of every line before it reaches Loki", () => {
            const config = alloyConfig({ pushUrl: "http://loki:3100/loki/api/v1/push" });
            for (const expression of Object.values(REDACT_EXPRESSIONS)) {
                assert.ok(config.includes(`stage.replace {\n    expression = "${expression}"\n    replace    = "${REDACTED}"`), expression);
            }
            // What the stages do to a line (RE2's (?i) is JavaScript's "i" flag).
            const redact = (line: string) =>
                Object.values(REDACT_EXPRESSIONS).reduce(
                    (l, e) => l.replace(new RegExp(e.replace("(?i)", ""), "gi"), (m, g: string) => m.replace(g, REDACTED)),
                    line,
                );
            assert.equal(
                redact('{"path":"/api/orders?access_token=eyJhbGciOi.x.y&page=2","authorization":"Bearer eyJhbGciOi.a.b"}'),
                '{"path":"/api/orders?access_token=<redacted>&page=2","authorization":"Bearer <redacted>"}',
            );
        });
    });
});
