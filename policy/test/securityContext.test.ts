import { strict as assert } from "node:assert";
import {
    dropCapabilities,
    noHostAccess,
    noPrivileged,
    noPrivilegeEscalation,
    readOnlyRootFilesystem,
    resourceLimits,
    seccomp,
} from "../policies";
import { appContainer, deployment, podSpec, WORKLOAD_KINDS, withPod, workload } from "./fixtures";
import { violations } from "./helpers";

const ALL = [noPrivilegeEscalation, dropCapabilities, noPrivileged, noHostAccess, seccomp, readOnlyRootFilesystem, resourceLimits];

describe("restricted security context policies", () => {
    for (const policy of ALL) {
        it(`${policy.name}: passes the restricted fixture of every kind`, async () => {
            for (const kind of WORKLOAD_KINDS) assert.deepEqual(await violations(policy, workload(kind)), [], kind);
        });
        it(`${policy.name}: skips excluded namespaces`, async () => {
            const f = deployment(
                {
                    hostNetwork: true,
                    containers: [
                        {
                            name: "x",
                            image: "x:1",
                            securityContext: {
                                privileged: true,
                                capabilities: { add: ["SYS_ADMIN"] },
                                seccompProfile: { type: "Unconfined" },
                            },
                        },
                    ],
                    volumes: [{ name: "h", hostPath: { path: "/" } }],
                },
                { namespace: "kube-system" },
            );
            assert.ok((await violations(policy, f)).length > 0);
            assert.deepEqual(await violations(policy, f, { excludedNamespaces: ["kube-system"] }), []);
        });
    }

    describe("k8s-no-privilege-escalation", () => {
        it("fails when unset or true, in containers and init containers", async () => {
            const f = withPod(deployment(podSpec([appContainer()], { initContainers: [appContainer("init")] })), (spec) => {
                delete spec.containers[0].securityContext.allowPrivilegeEscalation;
                spec.initContainers[0].securityContext.allowPrivilegeEscalation = true;
            });
            const v = await violations(noPrivilegeEscalation, f);
            assert.deepEqual(v, [
                'initContainer "init" of Deployment orders-apps/users: securityContext.allowPrivilegeEscalation is true; set spec.template.spec.initContainers[0].securityContext.allowPrivilegeEscalation: false',
                'container "app" of Deployment orders-apps/users: securityContext.allowPrivilegeEscalation is not set (defaults to true); set spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation: false',
            ]);
        });
    });

    describe("k8s-drop-capabilities", () => {
        it("fails without drop ALL", async () => {
            const f = withPod(deployment(), (spec) => (spec.containers[0].securityContext.capabilities = { drop: ["NET_RAW"] }));
            const v = await violations(dropCapabilities, f);
            assert.equal(v.length, 1);
            assert.match(
                v[0],
                /capabilities\.drop does not include "ALL"; set spec\.template\.spec\.containers\[0\]\.securityContext\.capabilities\.drop: \["ALL"\]/,
            );
        });
        it("accepts lowercase all and NET_BIND_SERVICE added back", async () => {
            const f = withPod(
                deployment(),
                (spec) => (spec.containers[0].securityContext.capabilities = { drop: ["all"], add: ["CAP_NET_BIND_SERVICE"] }),
            );
            assert.deepEqual(await violations(dropCapabilities, f), []);
        });
        it("fails dangerous added capabilities", async () => {
            const f = withPod(
                deployment(),
                (spec) => (spec.containers[0].securityContext.capabilities = { drop: ["ALL"], add: ["SYS_ADMIN", "NET_ADMIN"] }),
            );
            const v = await violations(dropCapabilities, f);
            assert.equal(v.length, 1);
            assert.match(v[0], /capabilities\.add grants "SYS_ADMIN", "NET_ADMIN"; remove them \(allowed: NET_BIND_SERVICE\)/);
        });
        it("honours allowedAddedCapabilities", async () => {
            const f = withPod(
                deployment(),
                (spec) => (spec.containers[0].securityContext.capabilities = { drop: ["ALL"], add: ["NET_BIND_SERVICE"] }),
            );
            assert.equal((await violations(dropCapabilities, f, { allowedAddedCapabilities: [] })).length, 1);
        });
    });

    describe("k8s-no-privileged", () => {
        it("fails privileged containers, including ephemeral ones", async () => {
            const f = withPod(
                workload("Pod"),
                (spec) => (spec.ephemeralContainers = [{ name: "debug", image: "x:1", securityContext: { privileged: true } }]),
            );
            const v = await violations(noPrivileged, f);
            assert.deepEqual(v, [
                'ephemeralContainer "debug" of Pod orders-apps/users: securityContext.privileged is true; remove it or set spec.ephemeralContainers[0].securityContext.privileged: false',
            ]);
        });
    });

    describe("k8s-no-host-access", () => {
        it("fails host namespaces, hostPath volumes and host ports", async () => {
            const f = withPod(workload("DaemonSet"), (spec) => {
                spec.hostNetwork = true;
                spec.hostPID = true;
                spec.hostIPC = true;
                spec.volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } });
                spec.containers[0].ports = [{ containerPort: 8080, hostPort: 8080 }];
            });
            const v = await violations(noHostAccess, f);
            assert.equal(v.length, 5, v.join("\n"));
            assert.match(v[0], /^DaemonSet orders-apps\/users: spec\.template\.spec\.hostNetwork is true/);
            assert.ok(v.some((m) => m.includes('volume "docker" (spec.template.spec.volumes[1]) is a hostPath of "/var/run/docker.sock"')));
            assert.ok(v.some((m) => m.includes("ports[0].hostPort is 8080")));
        });
        it("allows host ports by config", async () => {
            const f = withPod(deployment(), (spec) => (spec.containers[0].ports = [{ containerPort: 80, hostPort: 80 }]));
            assert.deepEqual(await violations(noHostAccess, f, { allowHostPorts: true }), []);
        });
    });

    describe("k8s-seccomp", () => {
        it("passes a profile set only at container level", async () => {
            const f = withPod(deployment(), (spec) => delete spec.securityContext.seccompProfile);
            assert.deepEqual(await violations(seccomp, f), []);
        });
        it("fails no profile anywhere", async () => {
            const f = withPod(deployment(), (spec) => {
                delete spec.securityContext.seccompProfile;
                delete spec.containers[0].securityContext.seccompProfile;
            });
            assert.match(
                (await violations(seccomp, f))[0],
                /no seccomp profile at pod or container level; set spec\.template\.spec\.securityContext\.seccompProfile\.type: RuntimeDefault/,
            );
        });
        it("fails a container overriding the pod profile with Unconfined", async () => {
            const f = withPod(deployment(), (spec) => (spec.containers[0].securityContext.seccompProfile = { type: "Unconfined" }));
            assert.match(
                (await violations(seccomp, f))[0],
                /seccompProfile\.type is "Unconfined" at container level \(overrides the pod level\)/,
            );
        });
        it("fails an Unconfined pod profile the containers inherit", async () => {
            const f = withPod(deployment(), (spec) => {
                spec.securityContext.seccompProfile = { type: "Unconfined" };
                delete spec.containers[0].securityContext.seccompProfile;
            });
            assert.match(
                (await violations(seccomp, f))[0],
                /spec\.template\.spec\.securityContext\.seccompProfile\.type is "Unconfined"; set it to RuntimeDefault/,
            );
        });
    });

    describe("k8s-read-only-root-fs", () => {
        it("fails unset and false", async () => {
            const f = withPod(deployment(podSpec([appContainer(), appContainer("b")])), (spec) => {
                delete spec.containers[0].securityContext.readOnlyRootFilesystem;
                spec.containers[1].securityContext.readOnlyRootFilesystem = false;
            });
            const v = await violations(readOnlyRootFilesystem, f);
            assert.equal(v.length, 2);
            assert.match(
                v[0],
                /readOnlyRootFilesystem is not set; set spec\.template\.spec\.containers\[0\]\.securityContext\.readOnlyRootFilesystem: true and mount an emptyDir/,
            );
            assert.match(v[1], /container "b" .*readOnlyRootFilesystem is false/);
        });
    });

    describe("k8s-resources", () => {
        it("fails missing requests and limits", async () => {
            const f = withPod(deployment(), (spec) => (spec.containers[0].resources = { requests: { cpu: "100m" } }));
            const v = await violations(resourceLimits, f);
            assert.deepEqual(v, [
                'container "app" of Deployment orders-apps/users: resources.requests has no memory (spec.template.spec.containers[0].resources.requests); set memory requests',
                'container "app" of Deployment orders-apps/users: resources.limits has no cpu, memory (spec.template.spec.containers[0].resources.limits); set cpu and memory limits',
            ]);
        });
        it("fails requests above limits", async () => {
            const f = withPod(
                deployment(),
                (spec) =>
                    (spec.containers[0].resources = { requests: { cpu: "2", memory: "1Gi" }, limits: { cpu: "1500m", memory: "1024Mi" } }),
            );
            const v = await violations(resourceLimits, f);
            assert.equal(v.length, 1);
            assert.match(v[0], /resources\.requests\.cpu \(2\) exceeds resources\.limits\.cpu \(1500m\)/);
        });
        it("checks init containers of CronJobs, and lets config relax the cpu limit", async () => {
            const f = workload(
                "CronJob",
                podSpec([appContainer()], {
                    initContainers: [
                        { ...appContainer("dump"), resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } } },
                    ],
                }),
            );
            assert.equal((await violations(resourceLimits, f)).length, 1);
            assert.deepEqual(await violations(resourceLimits, f, { limits: ["memory"] }), []);
        });
    });
});
