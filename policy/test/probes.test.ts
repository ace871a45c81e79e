import { strict as assert } from "node:assert";
import { probes } from "../policies";
import { appContainer, deployment, podSpec, withPod, workload } from "./fixtures";
import { violations } from "./helpers";

describe("k8s-probes", () => {
    for (const kind of ["Deployment", "StatefulSet", "DaemonSet"] as const) {
        it(`passes a ${kind} with readiness and liveness probes`, async () => {
            assert.deepEqual(await violations(probes, workload(kind)), []);
        });
        it(`fails a ${kind} without probes`, async () => {
            const f = withPod(workload(kind), (spec) => {
                delete spec.containers[0].readinessProbe;
                delete spec.containers[0].livenessProbe;
            });
            const v = await violations(probes, f);
            assert.deepEqual(v, [
                `container "app" of ${kind} orders-apps/users: has no readinessProbe (spec.template.spec.containers[0].readinessProbe); add an httpGet, tcpSocket, exec or grpc probe`,
                `container "app" of ${kind} orders-apps/users: has no livenessProbe (spec.template.spec.containers[0].livenessProbe); add an httpGet, tcpSocket, exec or grpc probe`,
            ]);
        });
    }

    for (const kind of ["Job", "CronJob", "Pod", "ReplicaSet"] as const) {
        it(`exempts a ${kind}`, async () => {
            const f = withPod(workload(kind), (spec) => {
                delete spec.containers[0].readinessProbe;
                delete spec.containers[0].livenessProbe;
            });
            assert.deepEqual(await violations(probes, f), []);
        });
    }

    it("fails a missing liveness probe only", async () => {
        const f = withPod(deployment(), (spec) => delete spec.containers[0].livenessProbe);
        const v = await violations(probes, f);
        assert.equal(v.length, 1);
        assert.match(v[0], /has no livenessProbe/);
    });

    it("fails a probe without a handler", async () => {
        const f = withPod(deployment(), (spec) => (spec.containers[0].readinessProbe = { periodSeconds: 5 }));
        const v = await violations(probes, f);
        assert.equal(v.length, 1);
        assert.match(v[0], /readinessProbe has no handler/);
    });

    it("accepts tcpSocket, exec and grpc probes", async () => {
        const f = withPod(deployment(), (spec) => {
            spec.containers[0].readinessProbe = { exec: { command: ["pg_isready"] } };
            spec.containers[0].livenessProbe = { tcpSocket: { port: 5432 } };
        });
        assert.deepEqual(await violations(probes, f), []);
        const g = withPod(deployment(), (spec) => (spec.containers[0].livenessProbe = { grpc: { port: 9090 } }));
        assert.deepEqual(await violations(probes, g), []);
    });

    it("checks every container but not run-to-completion init containers", async () => {
        const sidecar = { ...appContainer("proxy") };
        delete sidecar.readinessProbe;
        const init = { name: "migrate", image: "x:1" };
        const f = deployment(podSpec([appContainer(), sidecar], { initContainers: [init] }));
        const v = await violations(probes, f);
        assert.equal(v.length, 1);
        assert.match(v[0], /^container "proxy" of Deployment/);
    });

    it("checks native sidecars (init containers with restartPolicy Always)", async () => {
        const f = deployment(
            podSpec([appContainer()], { initContainers: [{ name: "log-shipper", image: "x:1", restartPolicy: "Always" }] }),
        );
        const v = await violations(probes, f);
        assert.equal(v.length, 2);
        assert.match(v[0], /^initContainer "log-shipper"/);
    });

    it("can require startup probes and other kinds by config", async () => {
        assert.equal((await violations(probes, deployment(), { requireStartupProbe: true })).length, 1);
        const rs = withPod(workload("ReplicaSet"), (spec) => delete spec.containers[0].livenessProbe);
        assert.equal((await violations(probes, rs, { kinds: ["ReplicaSet"] })).length, 1);
    });

    it("skips excluded namespaces", async () => {
        const f = withPod(
            workload("Deployment", podSpec(), { namespace: "istio-system" }),
            (spec) => delete spec.containers[0].livenessProbe,
        );
        assert.deepEqual(await violations(probes, f, { excludedNamespaces: ["istio-system"] }), []);
    });
});
