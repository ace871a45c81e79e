import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { actionProblems, admissionPolicies, exemptionVariable } from "../../admission/generate";
import { CEL_RULES } from "../../admission/rules";
import type { PolicyPackConfigFile } from "../../lib/runner";
import { workloadPolicies } from "../../policies";
import { appContainer, clone, deployment, podSpec, podSpecOf, workload } from "../fixtures";
import { admit, evaluate, policyOfFailure } from "./celEvaluator";

const config = (env: string) =>
    JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "config", `${env}.json`), "utf8")) as PolicyPackConfigFile;
// kubernetes-models is ESM-only; keep the dynamic import out of TypeScript's CJS transform.
const importEsm = new Function("specifier", "return import(specifier)") as (s: string) => Promise<Record<string, any>>;
const NAMESPACES = ["orders-apps", "orders-data", "monitoring", "istio-cni"];

describe("admission policy generator", () => {
    it("has a CEL rule for exactly the pack's workload policies", () => {
        assert.deepEqual(Object.keys(CEL_RULES).sort(), workloadPolicies.map((p) => p.name).sort());
    });

    it("staging and prod: one Deny policy holding every workload rule, bound in each namespace by name", () => {
        for (const env of ["staging", "prod"]) {
            const { policies, bindings } = admissionPolicies({ policyConfig: config(env), namespaces: NAMESPACES });
            assert.deepEqual(
                policies.map((p) => p.metadata.name),
                ["orders-platform-mandatory"],
            );
            const rules = new Set(policies[0].spec.validations.map((v: { message: string }) => v.message.split(":")[0]));
            assert.deepEqual([...rules].sort(), workloadPolicies.map((p) => p.name).sort());
            assert.deepEqual(
                bindings.map((b) => [
                    b.metadata.name,
                    b.spec.policyName,
                    b.spec.validationActions,
                    b.spec.matchResources.namespaceSelector,
                ]),
                NAMESPACES.map((ns) => [
                    `orders-platform-mandatory-${ns}`,
                    "orders-platform-mandatory",
                    ["Deny"],
                    { matchLabels: { "kubernetes.io/metadata.name": ns } },
                ]),
            );
            assert.equal(policies[0].spec.failurePolicy, "Fail");
        }
    });

    it("dev (advisory pack): Warn only, configurable to Audit", () => {
        const dev = admissionPolicies({ policyConfig: config("dev"), namespaces: ["orders-apps"] });
        assert.deepEqual(
            dev.policies.map((p) => p.metadata.name),
            ["orders-platform-advisory"],
        );
        assert.deepEqual(dev.bindings[0].spec.validationActions, ["Warn"]);
        const audited = admissionPolicies({
            policyConfig: config("dev"),
            namespaces: ["orders-apps"],
            actions: { advisory: ["Warn", "Audit"] },
        });
        assert.deepEqual(audited.bindings[0].spec.validationActions, ["Warn", "Audit"]);
    });

    it("refuses actions the API server or the pack's level would not allow", () => {
        assert.deepEqual(actionProblems("mandatory", ["Deny", "Audit"]), []);
        assert.match(actionProblems("mandatory", ["Warn"]).join(), /must include Deny/);
        assert.match(actionProblems("mandatory", ["Deny", "Warn"]).join(), /cannot be combined/);
        assert.match(actionProblems("advisory", ["Deny"]).join(), /must not include Deny/);
        assert.match(actionProblems("advisory", []).join(), /at least one/);
        assert.match(actionProblems("advisory", ["Block"]).join(), /Block: allowed are Deny, Warn, Audit/);
        assert.throws(
            () => admissionPolicies({ policyConfig: config("prod"), namespaces: [], actions: { mandatory: ["Audit"] } }),
            /must include Deny/,
        );
    });

    it("renders objects the Kubernetes schema accepts", async () => {
        const models = "kubernetes-models/admissionregistration.k8s.io/v1";
        const { ValidatingAdmissionPolicy } = await importEsm(`${models}/ValidatingAdmissionPolicy`);
        const { ValidatingAdmissionPolicyBinding } = await importEsm(`${models}/ValidatingAdmissionPolicyBinding`);
        for (const env of ["dev", "staging", "prod"]) {
            const { policies, bindings } = admissionPolicies({ policyConfig: config(env), namespaces: NAMESPACES });
            for (const p of policies) new ValidatingAdmissionPolicy(p).validate();
            for (const b of bindings) new ValidatingAdmissionPolicyBinding(b).validate();
        }
    });

    it("writes each exemption, with its reason, into the rule it belongs to and no other", () => {
        const { policies } = admissionPolicies({ policyConfig: config("prod"), namespaces: NAMESPACES });
        const vars = new Map<string, string>(
            policies[0].spec.variables.map((v: { name: string; expression: string }) => [v.name, v.expression]),
        );
        const cniReason = /\/\/ istio-cni\/DaemonSet\/istio-cni-node: Istio CNI node agent: writes the CNI plugin/;
        assert.match(vars.get(exemptionVariable("k8s-no-privileged")) ?? "", /^false$/, "no-privileged exempts nobody in prod");
        assert.match(vars.get(exemptionVariable("k8s-non-root"))!, cniReason);
        assert.match(vars.get(exemptionVariable("k8s-no-host-access"))!, /node-exporter reports the node itself/);
        assert.doesNotMatch(vars.get(exemptionVariable("k8s-seccomp"))!, /istio-cni/);
        for (const [name, expr] of vars)
            if (name.startsWith("exempt_"))
                assert.doesNotMatch(expr, /request\.namespace == '[^']+'\)?$/m, `${name}: never a whole namespace`);
    });

    it("denies with a message naming the rule, the object and the container", () => {
        const objects = admissionPolicies({ policyConfig: config("staging"), namespaces: ["orders-apps"] });
        const bad = clone(deployment());
        const c = podSpecOf(bad).containers[0];
        c.image = "nginx:latest";
        c.securityContext.capabilities.add = ["SYS_ADMIN"];
        const shown = admit(objects, { object: bad.props }).failures.map((f) => f.shown);
        assert.ok(
            shown.includes(
                'k8s-no-latest-image: Deployment orders-apps/users: image "nginx:latest" of "app" has no tag or a moving tag (latest); pin it as <repository>:<version> or <repository>@sha256:<digest>',
            ),
            shown.join("\n"),
        );
        assert.ok(
            shown.some((s) => /^k8s-no-latest-image: .*\(repository docker\.io\/library\/nginx\) is not from an allowed registry/.test(s)),
        );
        assert.ok(
            shown.includes(
                'k8s-drop-capabilities: Deployment orders-apps/users: container "app" adds a capability beyond the allowlist (allowed: NET_BIND_SERVICE)',
            ),
        );
    });

    it("skips what a checked controller created, but not a look-alike owner of another group", () => {
        const objects = admissionPolicies({ policyConfig: config("prod"), namespaces: ["orders-apps"] });
        const pod = workload("Pod", podSpec([appContainer("app", "nginx:latest")]));
        const owned = clone(pod.props);
        owned.metadata.ownerReferences = [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "users-5d9f", uid: "u", controller: true }];
        assert.equal(admit(objects, { object: owned }).failures.length, 0);
        const foreign = clone(owned);
        foreign.metadata.ownerReferences[0].apiVersion = "example.com/v1";
        assert.ok(admit(objects, { object: foreign }).failures.length > 0);
        const notController = clone(owned);
        notController.metadata.ownerReferences[0].controller = false;
        assert.ok(admit(objects, { object: notController }).failures.length > 0);
    });

    it("checks ephemeral containers (kubectl debug) on their subresource, even in a controller's pod", () => {
        const objects = admissionPolicies({ policyConfig: config("prod"), namespaces: ["orders-apps"] });
        const pod = clone(workload("Pod").props);
        pod.metadata.ownerReferences = [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "users-5d9f", uid: "u", controller: true }];
        // The injected sidecar of a running pod is not the debug request's business.
        pod.spec.initContainers = [{ name: "istio-proxy", image: "docker.io/istio/proxyv2:1.28.0", restartPolicy: "Always" }];
        assert.deepEqual(admit(objects, { object: pod, operation: "UPDATE", subResource: "ephemeralcontainers" }).failures, []);
        const allowed = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/prod/debug:1@sha256:${"b".repeat(64)}`;
        // runAsNonRoot comes from the pod level, as for any container.
        pod.spec.ephemeralContainers = [{ name: "debug", image: allowed, securityContext: { privileged: true } }];
        const rules = new Set(
            admit(objects, { object: pod, operation: "UPDATE", subResource: "ephemeralcontainers" }).failures.map(policyOfFailure),
        );
        assert.deepEqual([...rules].sort(), [
            "k8s-drop-capabilities",
            "k8s-no-privilege-escalation",
            "k8s-no-privileged",
            "k8s-read-only-root-fs",
        ]);
    });

    it("evaluates no variable or message into an error on the shipped objects' shapes", () => {
        const objects = admissionPolicies({ policyConfig: config("prod"), namespaces: ["orders-apps"] });
        for (const kind of ["Pod", "Deployment", "CronJob"] as const) {
            const f = workload(kind, podSpec([{ name: "bare" }]));
            for (const failure of admit(objects, { object: f.props }).failures)
                assert.equal(failure.error, undefined, `${kind}: ${failure.message}`);
        }
        assert.equal(evaluate("variables.x", { variables: {} }).error !== undefined, true, "the evaluator reports errors");
    });
});
