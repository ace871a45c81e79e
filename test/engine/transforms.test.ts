// The real-engine harness's resource transforms (the harness itself runs in npm run test:engine).
import { strict as assert } from "node:assert";
import { harnessTransform, skipServiceAwait, violate } from "./project/transforms";

const deployment = (name: string) => ({
    metadata: { name, namespace: "orders-apps" },
    spec: {
        template: {
            spec: {
                containers: [{ name, image: `r.example/${name}:1.1.0@sha256:${"a".repeat(64)}`, securityContext: { runAsNonRoot: true } }],
            },
        },
    },
});

describe("real-engine harness transforms", () => {
    it("marks Services, and only Services, as not awaited", () => {
        const svc = skipServiceAwait("kubernetes:core/v1:Service", { metadata: { name: "users", annotations: { a: "b" } }, spec: {} });
        assert.deepEqual(svc?.metadata.annotations, { a: "b", "pulumi.com/skipAwait": "true" });
        assert.equal(skipServiceAwait("kubernetes:apps/v1:Deployment", deployment("users")), undefined);
    });

    it("breaks the users Deployments (stable and canary) as a variant asks, nothing else", () => {
        const latest = violate("latest-image", "kubernetes:apps/v1:Deployment", deployment("users-canary"));
        assert.equal(latest?.spec.template.spec.containers[0].image, "r.example/users-canary:latest");
        const root = violate("root-container", "kubernetes:apps/v1:Deployment", deployment("users"));
        assert.deepEqual(root?.spec.template.spec.containers[0].securityContext, { runAsNonRoot: false, runAsUser: 0 });
        assert.equal(violate("root-container", "kubernetes:apps/v1:Deployment", deployment("orders")), undefined);
    });

    it("refuses an unknown variant and leaves resources alone without one", () => {
        assert.throws(() => harnessTransform("chaos"), /ENGINE_HARNESS_VARIANT=chaos: must be one of latest-image, root-container/);
        const t = harnessTransform(undefined);
        assert.equal(
            t({ type: "kubernetes:apps/v1:Deployment", name: "users", custom: true, props: deployment("users"), opts: {} } as any),
            undefined,
        );
    });
});
