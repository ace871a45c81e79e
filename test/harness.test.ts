import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { runProgram, runStack, validateKubernetesObjects } from "./harness";

describe("test harness", () => {
    it("captures resources with parents and validates Kubernetes schemas", async () => {
        const run = await runProgram(() => {
            const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
            const ns = new k8s.core.v1.Namespace("ns", { metadata: { name: "demo" } }, { provider });
            new k8s.core.v1.ConfigMap("cm", { metadata: { namespace: "demo" }, data: { a: "b" } }, { provider, parent: ns, protect: true });
            new k8s.core.v1.Service(
                "bad",
                { metadata: { namespace: "demo" }, spec: { ports: [{ port: "x" as unknown as number }] } },
                { provider },
            );
            return { nsName: ns.metadata.name };
        });
        const cm = run.get("kubernetes:core/v1:ConfigMap", "cm");
        assert.equal(cm.parent, run.get("kubernetes:core/v1:Namespace", "ns").urn);
        assert.equal(cm.protect, true);
        assert.deepEqual(cm.inputs.data, { a: "b" });
        assert.equal(run.outputs.nsName, "demo");
        const problems = await validateKubernetesObjects(run.resources);
        assert.equal(problems.length, 1, JSON.stringify(problems));
        assert.match(problems[0].message, /port/);
    });

    it("runs each distinct stack input once and hands every caller the same frozen run", async function () {
        this.timeout(120_000);
        const first = await runStack("dev");
        assert.equal(await runStack("dev", {}), first);
        // Overrides that leave the config as it is are the same input.
        assert.equal(await runStack("dev", { environment: "dev" }), first);
        assert.notEqual(await runStack("dev", { "mesh.enabled": false }), first);
        const deployment = first.get("kubernetes:apps/v1:Deployment", "users");
        assert.ok(Object.isFrozen(first.resources) && Object.isFrozen(deployment.inputs.spec.template.spec.containers[0]));
        assert.throws(() => {
            deployment.inputs.spec.replicas = 99;
        }, TypeError);
    });

    it("records component outputs and the resource each warning was logged on", async () => {
        const run = await runProgram(() => {
            class Widget extends pulumi.ComponentResource {
                constructor(name: string) {
                    super("test:index:Widget", name, {});
                    this.registerOutputs({ size: 3 });
                    void pulumi.log.warn("widget warning", this);
                }
            }
            new Widget("w");
            void pulumi.log.warn("stack warning");
        });
        const widget = run.get("test:index:Widget", "w");
        assert.deepEqual(widget.componentOutputs, { size: 3 });
        assert.deepEqual(run.warningSources, [
            { message: "widget warning", urn: widget.urn },
            { message: "stack warning", urn: undefined },
        ]);
    });
});
