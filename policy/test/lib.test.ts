import { strict as assert } from "node:assert";
import { kubeType } from "../lib/k8s";
import { parseQuantity } from "../lib/quantity";
import { isEmptySelector, selectorMatches } from "../lib/selectors";
import { podBearingKind, workloadOf } from "../lib/workloads";
import { appContainer, podSpec, workload } from "./fixtures";

describe("policy helpers", () => {
    it("parses Kubernetes type tokens", () => {
        assert.deepEqual(kubeType("kubernetes:apps/v1:Deployment"), { group: "apps", version: "v1", kind: "Deployment" });
        assert.deepEqual(kubeType("kubernetes:security.istio.io/v1:PeerAuthentication"), {
            group: "security.istio.io",
            version: "v1",
            kind: "PeerAuthentication",
        });
        assert.equal(kubeType("kubernetes:helm.sh/v4:Chart"), undefined);
        assert.equal(kubeType("kubernetes:yaml/v2:ConfigGroup"), undefined);
        assert.equal(kubeType("aws:eks/cluster:Cluster"), undefined);
    });

    it("recognises pod-bearing kinds only in the built-in groups", () => {
        assert.equal(podBearingKind("kubernetes:batch/v1:CronJob"), "CronJob");
        assert.equal(podBearingKind("kubernetes:core/v1:Pod"), "Pod");
        assert.equal(podBearingKind("kubernetes:argoproj.io/v1alpha1:Deployment"), undefined);
        assert.equal(podBearingKind("kubernetes:apps/v1:DeploymentPatch"), undefined);
    });

    it("extracts containers of every list with paths and labels", () => {
        const spec = podSpec([appContainer("a"), appContainer("b")], {
            initContainers: [{ name: "i" }],
            ephemeralContainers: [{ name: "e" }],
        });
        const w = workloadOf("kubernetes:batch/v1:CronJob", workload("CronJob", spec).props, "res")!;
        assert.equal(w.label, "CronJob orders-apps/users");
        assert.equal(w.podSpecPath, "spec.jobTemplate.spec.template.spec");
        assert.deepEqual(
            w.containers.map((c) => [c.label, c.path]),
            [
                ['initContainer "i"', "spec.jobTemplate.spec.template.spec.initContainers[0]"],
                ['container "a"', "spec.jobTemplate.spec.template.spec.containers[0]"],
                ['container "b"', "spec.jobTemplate.spec.template.spec.containers[1]"],
                ['ephemeralContainer "e"', "spec.jobTemplate.spec.template.spec.ephemeralContainers[0]"],
            ],
        );
        assert.deepEqual(w.podLabels, { app: "users" });
    });

    it("survives objects without a spec", () => {
        const w = workloadOf("kubernetes:apps/v1:Deployment", { metadata: {} }, "bare")!;
        assert.equal(w.label, "Deployment default/bare");
        assert.deepEqual(w.containers, []);
    });

    it("evaluates label selectors", () => {
        const labels = { app: "users", track: "stable" };
        assert.ok(selectorMatches({}, labels));
        assert.ok(!selectorMatches(undefined, labels));
        assert.ok(selectorMatches({ matchLabels: { app: "users" } }, labels));
        assert.ok(!selectorMatches({ matchLabels: { app: "orders" } }, labels));
        assert.ok(
            selectorMatches(
                {
                    matchExpressions: [
                        { key: "track", operator: "NotIn", values: ["canary"] },
                        { key: "app", operator: "Exists" },
                    ],
                },
                labels,
            ),
        );
        assert.ok(!selectorMatches({ matchExpressions: [{ key: "app", operator: "DoesNotExist" }] }, labels));
        assert.ok(!selectorMatches({ matchExpressions: [{ key: "app", operator: "Bogus" }] }, labels));
        assert.ok(
            isEmptySelector({}) &&
                isEmptySelector({ matchLabels: {} }) &&
                !isEmptySelector(undefined) &&
                !isEmptySelector({ matchLabels: { a: "b" } }),
        );
    });

    it("parses quantities", () => {
        assert.equal(parseQuantity("250m"), 0.25);
        assert.equal(parseQuantity("1"), 1);
        assert.equal(parseQuantity("256Mi"), 256 * 2 ** 20);
        assert.equal(parseQuantity("1G"), 1e9);
        assert.equal(parseQuantity("1e3"), 1000);
        assert.equal(parseQuantity(2), 2);
        assert.equal(parseQuantity("lots"), undefined);
    });
});
