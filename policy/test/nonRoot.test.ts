import { strict as assert } from "node:assert";
import { nonRoot } from "../policies";
import { appContainer, clone, deployment, podSpec, WORKLOAD_KINDS, withPod, workload } from "./fixtures";
import { violations } from "./helpers";

describe("k8s-non-root", () => {
    for (const kind of WORKLOAD_KINDS) {
        it(`passes a ${kind} with runAsNonRoot at pod level`, async () => {
            assert.deepEqual(await violations(nonRoot, workload(kind)), []);
        });

        it(`fails a ${kind} without runAsNonRoot anywhere`, async () => {
            const f = withPod(workload(kind), (spec) => {
                delete spec.securityContext.runAsNonRoot;
                delete spec.containers[0].securityContext.runAsNonRoot;
            });
            const v = await violations(nonRoot, f);
            assert.equal(v.length, 1, v.join("\n"));
            assert.match(v[0], new RegExp(`^container "app" of ${kind} orders-apps/users: runAsNonRoot is not set`));
            assert.match(v[0], /set .*securityContext\.runAsNonRoot: true/);
        });
    }

    it("passes runAsNonRoot set only at container level", async () => {
        const f = withPod(deployment(), (spec) => delete spec.securityContext.runAsNonRoot);
        assert.deepEqual(await violations(nonRoot, f), []);
    });

    it("passes runAsNonRoot only at pod level (containers inherit)", async () => {
        const f = withPod(deployment(), (spec) => delete spec.containers[0].securityContext.runAsNonRoot);
        assert.deepEqual(await violations(nonRoot, f), []);
    });

    it("fails when the pod level says true but a container overrides it to false", async () => {
        const f = withPod(deployment(), (spec) => (spec.containers[0].securityContext.runAsNonRoot = false));
        const v = await violations(nonRoot, f);
        assert.deepEqual(v, [
            'container "app" of Deployment orders-apps/users: securityContext.runAsNonRoot is false at container level (overrides the pod level); set it to true or remove the override',
        ]);
    });

    it("passes when the pod level says false but every container says true", async () => {
        const f = withPod(deployment(), (spec) => (spec.securityContext.runAsNonRoot = false));
        assert.deepEqual(await violations(nonRoot, f), []);
    });

    it("fails a pod-level false that a container does not override", async () => {
        const f = withPod(deployment(), (spec) => {
            spec.securityContext.runAsNonRoot = false;
            delete spec.containers[0].securityContext.runAsNonRoot;
        });
        const v = await violations(nonRoot, f);
        assert.equal(v.length, 1);
        assert.match(v[0], /spec\.template\.spec\.securityContext\.runAsNonRoot is false/);
    });

    it("fails runAsUser 0 at container level even with runAsNonRoot true", async () => {
        const f = withPod(deployment(), (spec) => (spec.containers[0].securityContext.runAsUser = 0));
        const v = await violations(nonRoot, f);
        assert.deepEqual(v, [
            'container "app" of Deployment orders-apps/users: securityContext.runAsUser is 0 (root); set it to a non-zero UID (e.g. 10001) or remove it',
        ]);
    });

    it("fails runAsUser 0 at pod level even when containers override it", async () => {
        const f = withPod(deployment(), (spec) => (spec.securityContext.runAsUser = 0));
        const v = await violations(nonRoot, f);
        assert.equal(v.length, 1);
        assert.match(v[0], /^Deployment orders-apps\/users: spec\.template\.spec\.securityContext\.runAsUser is 0/);
    });

    it("checks init containers", async () => {
        const init = clone(appContainer("migrate"));
        init.securityContext.runAsNonRoot = false;
        const f = deployment(podSpec([appContainer()], { initContainers: [init] }));
        const v = await violations(nonRoot, f);
        assert.equal(v.length, 1);
        assert.match(
            v[0],
            /^initContainer "migrate" of Deployment orders-apps\/users: securityContext\.runAsNonRoot is false at container level/,
        );
    });

    it("checks ephemeral containers", async () => {
        const f = withPod(workload("Pod"), (spec) => {
            spec.ephemeralContainers = [{ name: "debug", image: "busybox:1.36", securityContext: { runAsUser: 0 } }];
        });
        const v = await violations(nonRoot, f);
        assert.equal(v.length, 1);
        assert.match(v[0], /^ephemeralContainer "debug" of Pod orders-apps\/users: securityContext\.runAsUser is 0/);
    });

    it("reaches the pod spec of a CronJob through jobTemplate", async () => {
        const f = withPod(workload("CronJob"), (spec) => {
            delete spec.securityContext.runAsNonRoot;
            spec.containers[0].securityContext = {};
        });
        const v = await violations(nonRoot, f);
        assert.equal(v.length, 1);
        assert.match(
            v[0],
            /^container "app" of CronJob orders-apps\/users: .*spec\.jobTemplate\.spec\.template\.spec\.securityContext\.runAsNonRoot/,
        );
    });

    it("reports every offending container of a multi-container pod", async () => {
        const bad = appContainer("sidecar");
        bad.securityContext = { runAsNonRoot: false };
        const f = deployment(podSpec([appContainer(), bad, { ...appContainer("worker"), securityContext: { runAsUser: 0 } }]));
        const v = await violations(nonRoot, f);
        assert.equal(v.length, 2, v.join("\n"));
        assert.ok(v.some((m) => m.includes('container "sidecar"')));
        assert.ok(v.some((m) => m.includes('container "worker"') && m.includes("runAsUser is 0")));
    });

    it("fails a workload without any securityContext", async () => {
        const f = deployment({ containers: [{ name: "app", image: "x:1" }] });
        assert.equal((await violations(nonRoot, f)).length, 1);
    });

    it("skips namespaces excluded by config (third-party charts)", async () => {
        const f = withPod(workload("DaemonSet", podSpec(), { namespace: "monitoring" }), (spec) => {
            delete spec.securityContext;
            spec.containers[0].securityContext = { runAsUser: 0 };
        });
        assert.equal((await violations(nonRoot, f)).length, 2);
        assert.deepEqual(await violations(nonRoot, f, { excludedNamespaces: ["monitoring"] }), []);
        assert.deepEqual(await violations(nonRoot, f, { excludedNamespaces: ["monit*"] }), []);
    });

    it("uses the resource name when metadata.name is absent (auto-naming)", async () => {
        const f = withPod(deployment(), (spec) => (spec.containers[0].securityContext.runAsNonRoot = false));
        delete f.props.metadata.name;
        f.name = "users-stable";
        const v = await violations(nonRoot, f);
        assert.match(v[0], /of Deployment orders-apps\/users-stable:/);
    });

    it("ignores objects that carry no pods", async () => {
        for (const type of [
            "kubernetes:core/v1:Service",
            "kubernetes:core/v1:ConfigMap",
            "kubernetes:helm.sh/v4:Chart",
            "aws:ecr/repository:Repository",
        ]) {
            assert.deepEqual(await violations(nonRoot, { type, props: { spec: { containers: [{ name: "x" }] } } }), []);
        }
    });

    it("checks Helm- or YAML-rendered objects like any other (they carry their own type token)", async () => {
        const f = withPod(
            workload("StatefulSet", podSpec(), { namespace: "orders-data", name: "pg" }),
            (spec) => delete spec.securityContext.runAsNonRoot,
        );
        f.parent = "urn:pulumi:test::orders-platform::kubernetes:helm.sh/v4:Chart::postgres";
        f.props.spec.template.spec.containers[0].securityContext = {};
        assert.equal((await violations(nonRoot, f)).length, 1);
    });
});
