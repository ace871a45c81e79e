// The program deploys the policy pack's workload rules as ValidatingAdmissionPolicies (policy/admission),
// bound in every namespace it owns, with the actions of stack config; and its own workloads pass them.
import { strict as assert } from "node:assert";
import { admissionSpecs } from "../../components/guardrails";
import { managedNamespaces, networkPolicyOptions } from "../../components/network";
import { admit } from "../../policy/test/admission/celEvaluator";
import { kubernetesObjects, runStack, stackConfig, stackConfigProblems, STACK_VARIANTS } from "../harness";

const VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
const BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";
const POD_BEARING = new Set(["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"]);

describe("guardrails: admission policies in the cluster", function () {
    this.timeout(300_000);

    for (const [label, stack, overrides] of STACK_VARIANTS) {
        it(`${label}: one policy per enforcement level, bound by name in each namespace the program owns, and every workload of the program passes it`, async () => {
            const run = await runStack(stack, overrides);
            const config = stackConfig(stack, overrides);
            const policies = run.byType(VAP).map((r) => r.inputs);
            const bindings = run.byType(BINDING).map((r) => r.inputs);
            const expectedLevel = config.environment === "dev" ? "advisory" : "mandatory";
            assert.deepEqual(
                policies.map((p) => p.metadata.name),
                [`orders-platform-${expectedLevel}`],
            );
            assert.equal(policies[0].spec.failurePolicy, "Fail");
            // The same namespaces the default-deny NetworkPolicies cover, each by its name.
            const namespaces = new Set(
                kubernetesObjects(run.resources)
                    .filter((r) => r.inputs.kind === "NetworkPolicy" && r.inputs.metadata.name === "default-deny")
                    .map((r) => r.inputs.metadata.namespace as string),
            );
            assert.ok(namespaces.size >= 2);
            assert.deepEqual(
                bindings.map((b) => b.spec.matchResources.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]).sort(),
                [...namespaces].sort(),
            );
            for (const b of bindings) {
                assert.equal(b.spec.policyName, policies[0].metadata.name);
                assert.deepEqual(b.spec.validationActions, expectedLevel === "mandatory" ? ["Deny"] : ["Warn"]);
                assert.equal(b.metadata.labels["app.kubernetes.io/part-of"], "orders-platform");
            }
            // The program's own workloads, as the API server would see them: admitted.
            const objects = { policies, bindings };
            const refused: string[] = [];
            let checked = 0;
            for (const r of kubernetesObjects(run.resources)) {
                if (!POD_BEARING.has(r.inputs.kind)) continue;
                checked++;
                for (const f of admit(objects, { object: r.inputs }).failures)
                    refused.push(`${r.inputs.kind} ${r.inputs.metadata.namespace}/${r.inputs.metadata.name}: ${f.shown}`);
            }
            assert.deepEqual(refused, []);
            assert.ok(checked >= 4, `${checked} workloads checked`);
        });
    }

    it("Deny in staging and prod, Warn in dev; Audit can be added per stack; admission.enabled: false deploys none", async () => {
        const audited = await runStack("prod", { "admission.mandatoryActions": ["Deny", "Audit"] });
        assert.ok(audited.byType(BINDING).every((b) => JSON.stringify(b.inputs.spec.validationActions) === '["Deny","Audit"]'));
        const off = await runStack("dev", { "admission.enabled": false });
        assert.equal(off.byType(VAP).length + off.byType(BINDING).length, 0);
        const config = stackConfig("staging");
        const specs = admissionSpecs("staging", config.admission, managedNamespaces(networkPolicyOptions(config, undefined, "volume")));
        assert.deepEqual(
            specs.bindings.map((b) => b.metadata.name),
            ["orders-platform-mandatory-orders-apps", "orders-platform-mandatory-orders-data"],
        );
    });

    it("refuses actions that would weaken what the preview enforces, naming the key", () => {
        assert.deepEqual(stackConfigProblems("prod", { "admission.mandatoryActions": ["Deny", "Audit"] }), []);
        const noDeny = stackConfigProblems("prod", { "admission.mandatoryActions": ["Warn"] }).join("\n");
        assert.match(noDeny, /orders-platform:admission\.mandatoryActions = \["Warn"\]: must include Deny/);
        const both = stackConfigProblems("staging", { "admission.mandatoryActions": ["Deny", "Warn"] }).join("\n");
        assert.match(both, /admission\.mandatoryActions.*Deny and Warn cannot be combined/);
        assert.match(
            stackConfigProblems("dev", { "admission.advisoryActions": ["Deny"] }).join("\n"),
            /admission\.advisoryActions.*must not include Deny/,
        );
        assert.match(stackConfigProblems("dev", { "admission.advisoryActions": ["Block"] }).join("\n"), /admission\.advisoryActions/);
    });
});
