import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import { runProgram, validateKubernetesObjects } from "./harness";

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
});
