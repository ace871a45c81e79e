// The workloads inside the real index.ts (every component of the program), per shipped stack.
// Skipped until the other areas' components exist in the checkout.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { trafficGraph } from "../../components/network/appGraph";
import { PROJECT_ROOT, ProgramRun, runStack, SHIPPED_STACKS } from "../harness";
import { catalog, POD_KINDS, podTemplate, stackConfig } from "./fixtures";
import { allContainers, allowedFlows, containerProblems, expectedFlows } from "../harness/rules";
import { allEdges, networkPolicyOptions } from "../../components/network/networkPolicySpec";
import { clusterNetwork } from "../../components/cluster/network";

const OTHER_AREAS = ["cluster", "images", "mesh", "observability"];
const complete = () => OTHER_AREAS.every((area) => fs.existsSync(path.join(PROJECT_ROOT, "components", area, "index.ts")));

const variants: Array<[string, string, Record<string, unknown>]> = [
    ...SHIPPED_STACKS.map((s): [string, string, Record<string, unknown>] => [s, s, {}]),
    ["dev with the mesh off", "dev", { "mesh.enabled": false }],
];

describe("workloads in the full program (runStack)", function () {
    this.timeout(180_000);
    const runs = new Map<string, ProgramRun<Record<string, unknown>>>();

    before(async function () {
        if (!complete()) this.skip();
        for (const [label, stack, overrides] of variants) runs.set(label, await runStack(stack, overrides));
    });

    for (const [label, stack, overrides] of variants) {
        describe(label, () => {
            it("hardens every container of the workloads in orders-apps and orders-data", () => {
                const run = runs.get(label)!;
                const ours = run.resources.filter(
                    (r) => POD_KINDS.includes(r.type) && ["orders-apps", "orders-data"].includes(r.inputs.metadata?.namespace),
                );
                assert.ok(ours.length >= 5);
                const problems = ours.flatMap((w) => {
                    const pod = podTemplate(w).spec;
                    const longRunning = w.inputs.kind === "Deployment" || w.inputs.kind === "StatefulSet";
                    return allContainers(pod).flatMap(({ container }) =>
                        containerProblems(pod, container, longRunning).map((p) => `${w.inputs.metadata.name}: ${p}`),
                    );
                });
                assert.deepEqual(problems, []);
            });

            it("wires USERS_URL and DATABASE_URL into the apps", () => {
                const run = runs.get(label)!;
                const cm = run.get("kubernetes:core/v1:ConfigMap", "orders-config").inputs;
                assert.equal(cm.data.USERS_URL, `http://users.orders-apps.svc.cluster.local:${catalog.get("users")!.port}`);
                for (const d of run.byType("kubernetes:apps/v1:Deployment").filter((x) => x.inputs.metadata.namespace === "orders-apps")) {
                    const env = d.inputs.spec.template.spec.containers[0].env;
                    assert.ok(
                        env.find((e: any) => e.name === "DATABASE_URL").valueFrom.secretKeyRef,
                        `${d.name}: DATABASE_URL not from a Secret`,
                    );
                }
            });

            it("allows exactly the graph plus the infrastructure edges", () => {
                const run = runs.get(label)!;
                const config = stackConfig(stack, overrides);
                const graph = trafficGraph(catalog, {
                    metricsScraping: config.observability.prometheus.enabled,
                    backups: config.database.backup.enabled,
                });
                const backupTarget = config.cluster.provider === "eks" ? "s3" : config.cluster.provider === "gke" ? "gcs" : "volume";
                const policies = run
                    .byType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                    .map((r) => ({ namespace: r.inputs.metadata.namespace, spec: r.inputs.spec }));
                // Loki's bucket is in the same object storage as the backups.
                const options = networkPolicyOptions(config, clusterNetwork(config.cluster), backupTarget, backupTarget);
                const actual = allowedFlows(policies, catalog, options);
                const expected = expectedFlows(allEdges(graph, options), options);
                assert.deepEqual([...actual.ingress].sort(), [...expected.ingress].sort());
                assert.deepEqual([...actual.egress].sort(), [...expected.egress].sort());
            });
        });
    }

    it("mesh on: moving the users canary weight changes no Deployment", async function () {
        if (!complete()) this.skip();
        const a = await runStack("prod", { "apps.users.canary.weight": 10 });
        const b = await runStack("prod", { "apps.users.canary.weight": 60 });
        const deployments = (run: ProgramRun<unknown>) =>
            run
                .byType("kubernetes:apps/v1:Deployment")
                .filter((d) => d.inputs.metadata.namespace === "orders-apps")
                .map((d) => d.inputs);
        assert.deepEqual(deployments(a), deployments(b));
    });
});
