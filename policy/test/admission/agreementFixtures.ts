// The corpus the agreement test runs through both the pack and the generated CEL rules: the
// compliant fixtures of every kind (../fixtures.ts), one break of every rule in every way the
// pack's own tests break it, a set of image references that probes the reference grammar and
// the registry normalization, and the exempt workloads of the shipped configs.
import {
    APP_NS,
    appContainer,
    clone,
    DIGEST,
    deployment,
    podSpec,
    podSpecOf,
    WORKLOAD_KINDS,
    withPod,
    workload,
    type Obj,
} from "../fixtures";
import type { Fixture } from "../helpers";

export interface Case {
    name: string;
    fixture: Fixture;
}

const c0 = (spec: Obj) => spec.containers[0];
const sc0 = (spec: Obj) => c0(spec).securityContext;

/** Edits of a compliant pod spec, each breaking (or deliberately not breaking) one rule. */
export const EDITS: Record<string, (spec: Obj) => void> = {
    "pod runAsUser 0": (s) => (s.securityContext.runAsUser = 0),
    "container runAsNonRoot false": (s) => (sc0(s).runAsNonRoot = false),
    "container runAsNonRoot false, pod unset": (s) => {
        delete s.securityContext.runAsNonRoot;
        sc0(s).runAsNonRoot = false;
    },
    "runAsNonRoot only at pod level": (s) => delete sc0(s).runAsNonRoot,
    "runAsNonRoot only at container level": (s) => delete s.securityContext.runAsNonRoot,
    "runAsNonRoot nowhere": (s) => {
        delete s.securityContext.runAsNonRoot;
        delete sc0(s).runAsNonRoot;
    },
    "pod runAsNonRoot false, container true": (s) => (s.securityContext.runAsNonRoot = false),
    "container runAsUser 0": (s) => (sc0(s).runAsUser = 0),
    "no securityContext at all": (s) => {
        delete s.securityContext;
        delete c0(s).securityContext;
    },
    "init container runs as root": (s) =>
        (s.initContainers = [{ ...appContainer("init"), securityContext: { ...appContainer().securityContext, runAsUser: 0 } }]),
    "allowPrivilegeEscalation unset": (s) => delete sc0(s).allowPrivilegeEscalation,
    "allowPrivilegeEscalation true": (s) => (sc0(s).allowPrivilegeEscalation = true),
    "capabilities unset": (s) => delete sc0(s).capabilities,
    "drop NET_RAW only": (s) => (sc0(s).capabilities = { drop: ["NET_RAW"] }),
    "drop all (lowercase)": (s) => (sc0(s).capabilities = { drop: ["all"] }),
    "drop CAP_ALL": (s) => (sc0(s).capabilities = { drop: ["CAP_ALL"] }),
    "add SYS_ADMIN": (s) => (sc0(s).capabilities = { drop: ["ALL"], add: ["SYS_ADMIN"] }),
    "add CAP_NET_BIND_SERVICE": (s) => (sc0(s).capabilities = { drop: ["ALL"], add: ["CAP_NET_BIND_SERVICE"] }),
    "add net_bind_service": (s) => (sc0(s).capabilities = { drop: ["ALL"], add: ["net_bind_service"] }),
    "add NET_ADMIN and NET_BIND_SERVICE": (s) => (sc0(s).capabilities = { drop: ["ALL"], add: ["NET_BIND_SERVICE", "NET_ADMIN"] }),
    "privileged true": (s) => (sc0(s).privileged = true),
    "privileged unset": (s) => delete sc0(s).privileged,
    hostNetwork: (s) => (s.hostNetwork = true),
    hostPID: (s) => (s.hostPID = true),
    hostIPC: (s) => (s.hostIPC = true),
    "hostNetwork false": (s) => (s.hostNetwork = false),
    "hostPath volume": (s) => s.volumes.push({ name: "host", hostPath: { path: "/var/run" } }),
    "hostPort 8080": (s) => (c0(s).ports = [{ containerPort: 8080, hostPort: 8080 }]),
    "hostPort 0": (s) => (c0(s).ports = [{ containerPort: 8080, hostPort: 0 }]),
    "seccomp only at container level": (s) => delete s.securityContext.seccompProfile,
    "seccomp only at pod level": (s) => delete sc0(s).seccompProfile,
    "seccomp nowhere": (s) => {
        delete s.securityContext.seccompProfile;
        delete sc0(s).seccompProfile;
    },
    "seccomp pod Unconfined, container RuntimeDefault": (s) => (s.securityContext.seccompProfile = { type: "Unconfined" }),
    "seccomp container Unconfined": (s) => (sc0(s).seccompProfile = { type: "Unconfined" }),
    "seccomp container Localhost": (s) => (sc0(s).seccompProfile = { type: "Localhost", localhostProfile: "p.json" }),
    "seccomp container profile without type, pod Unconfined": (s) => {
        s.securityContext.seccompProfile = { type: "Unconfined" };
        sc0(s).seccompProfile = {};
    },
    "readOnlyRootFilesystem false": (s) => (sc0(s).readOnlyRootFilesystem = false),
    "readOnlyRootFilesystem unset": (s) => delete sc0(s).readOnlyRootFilesystem,
    "no livenessProbe": (s) => delete c0(s).livenessProbe,
    "no readinessProbe": (s) => delete c0(s).readinessProbe,
    "readinessProbe without handler": (s) => (c0(s).readinessProbe = { periodSeconds: 5 }),
    "grpc and tcp probes": (s) => {
        c0(s).readinessProbe = { grpc: { port: 9000 } };
        c0(s).livenessProbe = { tcpSocket: { port: 8080 } };
    },
    "exec probes": (s) => {
        c0(s).readinessProbe = { exec: { command: ["true"] } };
        c0(s).livenessProbe = { exec: { command: ["true"] } };
    },
    "init container without probes": (s) => {
        const init = appContainer("migrate");
        delete init.readinessProbe;
        delete init.livenessProbe;
        s.initContainers = [init];
    },
    "native sidecar without liveness": (s) => {
        const side: Obj = { ...appContainer("proxy"), restartPolicy: "Always" };
        delete side.livenessProbe;
        s.initContainers = [side];
    },
    "native sidecar with probes": (s) => (s.initContainers = [{ ...appContainer("proxy"), restartPolicy: "Always" }]),
    "ephemeral container (restricted, no probes, no resources)": (s) =>
        (s.ephemeralContainers = [{ name: "debug", image: c0(s).image, securityContext: appContainer().securityContext }]),
    "ephemeral container privileged": (s) =>
        (s.ephemeralContainers = [
            { name: "debug", image: c0(s).image, securityContext: { ...appContainer().securityContext, privileged: true } },
        ]),
    "no resources": (s) => delete c0(s).resources,
    "no cpu limit": (s) => delete c0(s).resources.limits.cpu,
    "no memory request": (s) => delete c0(s).resources.requests.memory,
    "empty cpu request": (s) => (c0(s).resources.requests.cpu = ""),
    "numeric cpu request": (s) => {
        c0(s).resources.requests.cpu = 1;
        c0(s).resources.limits.cpu = 2;
    },
    "requests > limits": (s) => (c0(s).resources.requests.cpu = "2"),
    "init container without resources": (s) => {
        const init = appContainer("migrate");
        delete init.resources;
        s.initContainers = [init];
    },
    "extra resource (ephemeral-storage) only requested": (s) => (c0(s).resources.requests["ephemeral-storage"] = "1Gi"),
    "second container breaks everything": (s) =>
        s.containers.push({
            name: "bad",
            image: "nginx",
            securityContext: { privileged: true, runAsUser: 0, capabilities: { add: ["SYS_ADMIN"] } },
        }),
    "no image": (s) => delete c0(s).image,
    "empty image": (s) => (c0(s).image = ""),
};

/**
 * Image references: the pack's parser and the CEL regexes must agree on every one of them
 * (valid or not, tagged, moving, digest, registry normalization, allowlists).
 */
export const IMAGES = [
    "nginx",
    "nginx:latest",
    "nginx:LATEST",
    "nginx:Latest@" + DIGEST,
    "nginx:1.27",
    "nginx:edge",
    `nginx@${DIGEST}`,
    "library/nginx:1.27",
    "postgres:17",
    "postgres:17.6-bookworm@" + DIGEST,
    "docker.io/library/postgres:17",
    "docker.io/postgres:17",
    "index.docker.io/library/postgres:17",
    "registry-1.docker.io/postgres:17@" + DIGEST,
    "docker.io/library/postgresql:17",
    "postgres/extra:1",
    "grafana/grafana:12.0.0",
    "docker.io/grafana/grafana:12.0.0@" + DIGEST,
    "quay.io/prometheus/node-exporter:v1.9.1",
    "quay.io/prometheus/node-exporter@" + DIGEST,
    "quay.io/prometheus/node-exporter-evil:v1",
    "quay.io/kiwigrid/k8s-sidecar:1.30.0",
    "public.ecr.aws/aws-cli/aws-cli:2.27.0@" + DIGEST,
    "localhost:5001/users:1.0.0",
    "localhost:5001/users",
    "localhost:5001/users:latest",
    "localhost:50011/users:1.0.0",
    "localhost/users:1",
    "repo:5000/app",
    "repo:5000/app:1",
    "localhost:5000",
    `123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/prod/users:1.0.0@${DIGEST}`,
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/prod/users:1.0.0",
    `123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/staging/users:1.0.0@${DIGEST}`,
    `210987654321.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/prod/users:1.0.0@${DIGEST}`,
    `evil.com/123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/prod/users:1.0.0@${DIGEST}`,
    `europe-west1-docker.pkg.dev/orders-staging-1234/orders-staging/users:1.0.0@${DIGEST}`,
    "gcr.io/google.com/cloudsdktool/google-cloud-cli:530.0.0-stable",
    "Foo/bar:1",
    "Foo:1",
    "UPPER.example.com/app:1",
    "foo_bar.com/app:1",
    "foo_bar/app:1",
    "a.b:1",
    "a.b/c:1",
    "[::1]:5000/app:1",
    "nginx@sha256:abc",
    "nginx@sha256:" + "A".repeat(64),
    "nginx@sha512:" + "ab".repeat(64),
    "nginx@md5:" + "ab".repeat(16),
    "nginx:",
    ":1",
    "nginx:-bad",
    "nginx:" + "a".repeat(129),
    "NGINX:1",
    "ngi--nx:1",
    "ngi__nx:1",
    "ngi___nx:1",
    "-nginx:1",
    "a//b:1",
    "nginx:1@sha256:" + "a".repeat(64) + "@x",
    "auto",
];

function withImage(image: string | undefined): Fixture {
    return withPod(deployment(), (s) => {
        if (image === undefined) delete c0(s).image;
        else c0(s).image = image;
    });
}

/** Every case, each as a full object of a pod-bearing kind. */
export function agreementCases(): Case[] {
    const cases: Case[] = [];
    for (const kind of WORKLOAD_KINDS) {
        cases.push({ name: `${kind}: compliant`, fixture: workload(kind) });
        for (const [edit, apply] of Object.entries(EDITS)) {
            cases.push({ name: `${kind}: ${edit}`, fixture: withPod(workload(kind), apply) });
        }
    }
    for (const image of IMAGES) cases.push({ name: `image ${JSON.stringify(image)}`, fixture: withImage(image) });
    // The exempt workloads of the shipped configs, broken the way they really are, and the same
    // objects under another name, kind or namespace (where the exemption must not reach).
    const cni = () => {
        const f = workload("DaemonSet", podSpec([{ ...appContainer("install-cni", "docker.io/istio/install-cni:1.28.0") }]), {
            name: "istio-cni-node",
            namespace: "istio-cni",
        });
        const s = podSpecOf(f);
        s.securityContext = {};
        c0(s).securityContext = { privileged: true, runAsUser: 0, runAsNonRoot: false, capabilities: { add: ["NET_ADMIN", "SYS_ADMIN"] } };
        s.volumes.push({ name: "cni-bin", hostPath: { path: "/opt/cni/bin" } });
        delete c0(s).livenessProbe;
        return f;
    };
    const nodeExporter = () => {
        const f = workload("DaemonSet", podSpec([appContainer("node-exporter", "quay.io/prometheus/node-exporter:v1.9.1")]), {
            name: "kube-prometheus-stack-prometheus-node-exporter",
            namespace: "monitoring",
        });
        const s = podSpecOf(f);
        s.hostNetwork = true;
        s.hostPID = true;
        s.volumes.push({ name: "root", hostPath: { path: "/" } });
        return f;
    };
    const gatewayAuto = () =>
        withPod(
            deployment(podSpec([appContainer("istio-proxy", "auto")]), { name: "istio-ingressgateway", namespace: "istio-ingress" }),
            (s) => {
                delete c0(s).livenessProbe;
                delete c0(s).readinessProbe;
            },
        );
    const moved = (f: Fixture, edit: (p: Obj) => void): Fixture => {
        const copy = clone(f);
        edit(copy.props);
        return copy;
    };
    for (const [name, make] of Object.entries({ cni, nodeExporter, gatewayAuto })) {
        cases.push({ name: `exempt ${name}`, fixture: make() });
        cases.push({ name: `exempt ${name}, other namespace`, fixture: moved(make(), (p) => (p.metadata.namespace = APP_NS)) });
        cases.push({ name: `exempt ${name}, other name`, fixture: moved(make(), (p) => (p.metadata.name = `${p.metadata.name}-2`)) });
    }
    cases.push({
        name: "exempt cni as a Deployment (other kind)",
        fixture: withPod(
            deployment(podSpec([appContainer()]), { name: "istio-cni-node", namespace: "istio-cni" }),
            (s) => (sc0(s).privileged = true),
        ),
    });
    return cases;
}
