// Moving a canary weight in stack config must touch nothing but the VirtualService weights:
// no Deployment, ConfigMap or DestinationRule change, so no pod restarts.
import { strict as assert } from "node:assert";
import { CapturedResource, diffPaths, runStack } from "./harness";

const USERS_VS = "kubernetes:networking.istio.io/v1:VirtualService";

function byUrn(resources: CapturedResource[]): Map<string, CapturedResource> {
    return new Map(resources.map((r) => [r.urn, r]));
}

describe("mesh: canary weight change in the prod stack", () => {
    it("changes only the users VirtualService, and only its weights", async () => {
        const before = byUrn((await runStack("prod")).resources);
        const after = byUrn((await runStack("prod", { "apps.users.canary.weight": 50 })).resources);

        assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), "same resources");
        const changed = [...after.values()].filter((r) => JSON.stringify(r.inputs) !== JSON.stringify(before.get(r.urn)!.inputs));
        assert.deepEqual(
            changed.map((r) => `${r.type} ${r.inputs.metadata?.namespace}/${r.inputs.metadata?.name ?? r.name}`),
            [`${USERS_VS} orders-apps/users`],
        );
        const [vs] = changed;
        // The split route and its idempotent-methods twin (same routes, different retry policies).
        const splits = vs.inputs.spec.http.flatMap((r: { name: string }, i: number) => (r.name.startsWith("split") ? [i] : []));
        assert.equal(splits.length, 2);
        assert.deepEqual(
            diffPaths(before.get(vs.urn)!.inputs, vs.inputs),
            splits.flatMap((i: number) => [`.spec.http.${i}.route.0.weight`, `.spec.http.${i}.route.1.weight`]),
        );
        assert.deepEqual(
            vs.inputs.spec.http
                .find((r: { name: string }) => r.name === "split")
                .route.map((r: { destination: { subset: string }; weight: number }) => [r.destination.subset, r.weight]),
            [
                ["stable", 50],
                ["canary", 50],
            ],
        );
        // Options (dependsOn, protect, ...) stay the same too.
        for (const r of after.values()) {
            const old = before.get(r.urn)!;
            assert.deepEqual([r.dependsOn, r.protect, r.provider, r.parent], [old.dependsOn, old.protect, old.provider, old.parent], r.urn);
        }
    });
});
