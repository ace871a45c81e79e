// The real index.ts, once per shipped stack (and the GKE variant), under Pulumi mocks.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { kubernetesObjects, ProgramRun, runStack, STACK_VARIANTS, validateKubernetesObjects } from "./harness";

const variants = STACK_VARIANTS;

describe("shipped stacks under mocks", function () {
    this.timeout(180_000);
    const runs = new Map<string, ProgramRun<Record<string, unknown>>>();

    before(async () => {
        for (const [label, stack, overrides] of variants) runs.set(label, await runStack(stack, overrides));
    });

    for (const [label] of variants) {
        describe(label, () => {
            it("registers Kubernetes objects that all pass schema validation", async () => {
                const run = runs.get(label)!;
                const objects = kubernetesObjects(run.resources);
                assert.ok(objects.length > 20, `only ${objects.length} Kubernetes objects`);
                const problems = await validateKubernetesObjects(run.resources);
                assert.deepEqual(problems, []);
            });

            it("gives every child resource a parent and every Kubernetes object the cluster's provider", () => {
                const run = runs.get(label)!;
                const orphans = run.resources.filter(
                    (r) => !r.parent && !r.type.startsWith("pulumi:providers:") && r.type !== "pulumi:pulumi:Stack",
                );
                const topLevel = new Set(orphans.map((r) => r.type.split(":").slice(0, 2).join(":")));
                for (const t of topLevel) assert.match(t, /^orders-platform:/, `top-level resource of type ${t} is not a component`);
                for (const obj of kubernetesObjects(run.resources)) {
                    assert.ok(obj.provider, `${obj.urn} has no explicit provider`);
                    assert.match(obj.provider!, /pulumi:providers:kubernetes/, `${obj.urn} uses ${obj.provider}`);
                }
            });

            it("exports the stack outputs, the kubeconfig as a secret", () => {
                const run = runs.get(label)!;
                for (const key of ["edgeUrl", "grafanaUrl", "jaegerUrl", "imageRefs", "kubeconfig", "appVersions"]) {
                    assert.ok(run.outputs[key] !== undefined, `output ${key} missing`);
                }
                assert.match(String(run.outputs.edgeUrl), /^https?:\/\//);
            });
        });
    }

    it("prod runs a users canary at 10% next to the stable version", () => {
        const versions = runs.get("prod")!.outputs.appVersions as Record<string, { stable: string; canary?: string; canaryWeight: number }>;
        assert.deepEqual(versions.users, { stable: "1.0.0", canary: "1.1.0", canaryWeight: 10 });
        assert.equal(versions.orders.canary, undefined);
    });

    it("prod protects its stateful and cluster resources; dev protects nothing", () => {
        const protectedTypes = (run: ProgramRun) => new Set(run.resources.filter((r) => r.protect).map((r) => r.type));
        const prod = protectedTypes(runs.get("prod")!);
        assert.ok(prod.has("aws:eks/cluster:Cluster"), `protected in prod: ${[...prod].join(", ")}`);
        assert.ok(prod.has("kubernetes:apps/v1:StatefulSet"), `protected in prod: ${[...prod].join(", ")}`);
        assert.deepEqual([...protectedTypes(runs.get("dev")!)], []);
    });
});

describe("bad stack config", () => {
    it("fails the program with one ConfigError naming the key, value and what is allowed", async () => {
        await assert.rejects(runStack("prod", { "apps.users.canary.weight": 130, "cluster.provider": "aks" }), (err: unknown) => {
            // index.ts loads its own copy of the config module, so compare by name.
            assert.ok(err instanceof pulumi.RunError && err.name === "ConfigError", String(err));
            assert.match(err.message, /orders-platform:apps\.users\.canary\.weight = 130: must be a whole number from 0 to 100/);
            assert.match(err.message, /orders-platform:cluster\.provider = "aks": must be one of kind \| eks \| gke \| existing/);
            assert.doesNotMatch(err.message, /\n\s+at /, "no stack trace in the message");
            return true;
        });
    });
});
