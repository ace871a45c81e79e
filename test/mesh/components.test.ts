import { strict as assert } from "node:assert";
import { CapturedResource, diffPaths, ProgramRun, runProgram, SHIPPED_STACKS, validateKubernetesObjects } from "../harness";
import { meshProgram, STACK_TOPOLOGY, stackConfig } from "./fixtures";

const VS = "kubernetes:networking.istio.io/v1:VirtualService";
const DR = "kubernetes:networking.istio.io/v1:DestinationRule";
const istioObjects = (run: ProgramRun) => run.resources.filter((r) => /^kubernetes:[a-z]+\.istio\.io\//.test(r.type));
const where = (r: CapturedResource) => `${r.inputs.kind} ${r.inputs.metadata.namespace}/${r.inputs.metadata.name}`;

describe("mesh: Istio and MeshTraffic components", () => {
    for (const stack of SHIPPED_STACKS) {
        it(`${stack}: every Istio object is valid against the Istio schemas`, async () => {
            const run = await runProgram(meshProgram(stackConfig(stack), STACK_TOPOLOGY[stack]), { stack });
            const objects = istioObjects(run);
            // Gateway, RequestAuthentication, edge AuthorizationPolicy, rate-limit EnvoyFilter, a DestinationRule
            // and VirtualService per app, PeerAuthentication, 9 AuthorizationPolicies from the graph, Telemetry.
            assert.equal(objects.length, 4 + 2 * 2 + 1 + 9 + 1, objects.map(where).join(", "));
            assert.deepEqual(await validateKubernetesObjects(run.resources), []);
        });
    }

    it("the schema check is not vacuous: a malformed VirtualService and AuthorizationPolicy are reported", async () => {
        const run = await runProgram(meshProgram(stackConfig("prod")), { stack: "prod" });
        const vs = structuredClone(run.get(VS, "users"));
        vs.inputs.spec.http[1].route[0].weight = "ninety";
        const ap = structuredClone(
            run.find((r) => r.inputs.kind === "AuthorizationPolicy" && r.inputs.metadata.name === "users-from-orders")[0],
        );
        ap.inputs.spec.action = "PERMIT";
        const problems = await validateKubernetesObjects([vs, ap]);
        assert.equal(problems.length, 2, JSON.stringify(problems));
    });

    it("creates the expected objects in the expected namespaces, after Istio is ready", async () => {
        const run = await runProgram(meshProgram(stackConfig("prod")), { stack: "prod" });
        const charts = run.byType("kubernetes:helm.sh/v4:Chart").map((c) => c.urn);
        const objects = istioObjects(run);
        assert.deepEqual(objects.map(where).sort(), [
            "AuthorizationPolicy istio-ingress/edge-require-jwt",
            "AuthorizationPolicy orders-apps/allow-nothing",
            "AuthorizationPolicy orders-apps/orders-from-edge",
            "AuthorizationPolicy orders-apps/users-from-edge",
            "AuthorizationPolicy orders-apps/users-from-orders",
            "AuthorizationPolicy orders-data/allow-nothing",
            "AuthorizationPolicy orders-data/postgres-from-backup",
            "AuthorizationPolicy orders-data/postgres-from-bootstrap",
            "AuthorizationPolicy orders-data/postgres-from-orders",
            "AuthorizationPolicy orders-data/postgres-from-users",
            "DestinationRule orders-apps/orders",
            "DestinationRule orders-apps/users",
            "EnvoyFilter istio-ingress/edge-rate-limit",
            "Gateway istio-ingress/orders-gateway",
            "PeerAuthentication istio-system/default",
            "RequestAuthentication istio-ingress/edge-jwt",
            "Telemetry istio-system/mesh-default",
            "VirtualService orders-apps/orders",
            "VirtualService orders-apps/users",
        ]);
        for (const o of objects) {
            for (const chart of charts) assert.ok(o.dependsOn.includes(chart), `${where(o)} waits for ${chart}`);
        }
        const users = run.get(VS, "users").inputs.spec;
        assert.deepEqual(
            users.http.find((r: any) => r.name === "split").route.map((r: any) => [r.destination.subset, r.weight]),
            [
                ["stable", 90],
                ["canary", 10],
            ],
        );
        assert.deepEqual(run.get(DR, "orders").inputs.spec.subsets, [{ name: "stable", labels: { version: "1.0.0" } }]);
        assert.equal(run.outputs.url, "https://orders.example.com");
    });

    it("exposes the kind host port in dev's URL and skips the Telemetry without Jaeger", async () => {
        const dev = await runProgram(meshProgram(stackConfig("dev")), { stack: "dev" });
        assert.equal(dev.outputs.url, "http://localhost:8080");
        assert.equal(dev.byType("kubernetes:security.istio.io/v1:PeerAuthentication").length, 1, "one mesh-wide policy, no exceptions");
        const noJaeger = await runProgram(meshProgram(stackConfig("dev", { "observability.jaeger": { enabled: false } })), {
            stack: "dev",
        });
        assert.equal(noJaeger.byType("kubernetes:telemetry.istio.io/v1:Telemetry").length, 0);
    });

    it("a new canary weight changes only the app's VirtualService weights", async () => {
        const before = await runProgram(meshProgram(stackConfig("prod")), { stack: "prod" });
        const after = await runProgram(meshProgram(stackConfig("prod", { "apps.users.canary.weight": 50 })), { stack: "prod" });
        assert.deepEqual(after.resources.map((r) => r.urn).sort(), before.resources.map((r) => r.urn).sort());
        const changed = after.resources.filter((r) => {
            const old = before.resources.find((b) => b.urn === r.urn)!;
            return JSON.stringify(old.inputs) !== JSON.stringify(r.inputs);
        });
        assert.deepEqual(
            changed.map((r) => `${r.type}::${r.name}`),
            [`${VS}::users`],
        );
        const old = before.resources.find((b) => b.urn === changed[0].urn)!;
        const splits = changed[0].inputs.spec.http.flatMap((r: any, i: number) => (r.name.startsWith("split") ? [i] : []));
        assert.deepEqual(
            diffPaths(old.inputs, changed[0].inputs),
            splits.flatMap((i: number) => [`.spec.http.${i}.route.0.weight`, `.spec.http.${i}.route.1.weight`]),
        );
        assert.deepEqual(
            changed[0].inputs.spec.http.find((r: any) => r.name === "split").route.map((r: any) => r.weight),
            [50, 50],
        );
    });
});
