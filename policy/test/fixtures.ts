// Kubernetes and cloud objects shaped like the resource inputs the program registers.
// The defaults comply with every policy; tests break one thing at a time.
import type { Fixture } from "./helpers";

export const DIGEST = "sha256:" + "a1".repeat(32);
export const APP_IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/users:1.0.0@${DIGEST}`;
export const APP_NS = "orders-apps";

export type Obj = Record<string, any>;

export function clone<T>(v: T): T {
    return structuredClone(v);
}

export function restrictedContainerSc(): Obj {
    return {
        runAsNonRoot: true,
        runAsUser: 10001,
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}

export function appContainer(name = "app", image = APP_IMAGE): Obj {
    return {
        name,
        image,
        ports: [{ name: "http", containerPort: 8080 }],
        readinessProbe: { httpGet: { path: "/readyz", port: "http" } },
        livenessProbe: { httpGet: { path: "/livez", port: "http" } },
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
        securityContext: restrictedContainerSc(),
    };
}

export function podSpec(containers: Obj[] = [appContainer()], extra: Obj = {}): Obj {
    return {
        serviceAccountName: "users",
        securityContext: { runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } },
        containers,
        volumes: [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }],
        ...extra,
    };
}

export const TYPES = {
    Pod: "kubernetes:core/v1:Pod",
    Deployment: "kubernetes:apps/v1:Deployment",
    StatefulSet: "kubernetes:apps/v1:StatefulSet",
    DaemonSet: "kubernetes:apps/v1:DaemonSet",
    ReplicaSet: "kubernetes:apps/v1:ReplicaSet",
    Job: "kubernetes:batch/v1:Job",
    CronJob: "kubernetes:batch/v1:CronJob",
} as const;
export type WorkloadKind = keyof typeof TYPES;
export const WORKLOAD_KINDS = Object.keys(TYPES) as WorkloadKind[];

const API_VERSION: Record<WorkloadKind, string> = {
    Pod: "v1",
    Deployment: "apps/v1",
    StatefulSet: "apps/v1",
    DaemonSet: "apps/v1",
    ReplicaSet: "apps/v1",
    Job: "batch/v1",
    CronJob: "batch/v1",
};

export interface WorkloadOptions {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    replicas?: number;
}

/** A workload of `kind` around `spec` (the pod spec), with the nesting each kind uses. */
export function workload(kind: WorkloadKind, spec: Obj = podSpec(), opts: WorkloadOptions = {}): Fixture {
    const name = opts.name ?? "users";
    const labels = opts.labels ?? { app: name };
    const metadata = { name, namespace: opts.namespace ?? APP_NS, labels };
    const template = { metadata: { labels }, spec };
    let body: Obj;
    switch (kind) {
        case "Pod":
            body = { metadata: { ...metadata }, spec };
            break;
        case "Deployment":
        case "ReplicaSet":
            body = { metadata, spec: { replicas: opts.replicas ?? 1, selector: { matchLabels: labels }, template } };
            break;
        case "StatefulSet":
            body = { metadata, spec: { replicas: opts.replicas ?? 1, serviceName: name, selector: { matchLabels: labels }, template } };
            break;
        case "DaemonSet":
            body = { metadata, spec: { selector: { matchLabels: labels }, template } };
            break;
        case "Job":
            body = { metadata, spec: { backoffLimit: 2, template: { ...template, spec: { restartPolicy: "OnFailure", ...spec } } } };
            break;
        case "CronJob":
            body = {
                metadata,
                spec: {
                    schedule: "0 2 * * *",
                    jobTemplate: { spec: { backoffLimit: 2, template: { ...template, spec: { restartPolicy: "OnFailure", ...spec } } } },
                },
            };
            break;
    }
    return { type: TYPES[kind], name, props: { apiVersion: API_VERSION[kind], kind, ...body } };
}

export const deployment = (spec: Obj = podSpec(), opts: WorkloadOptions = {}) => workload("Deployment", spec, opts);

/** The pod spec inside a workload fixture (for tests that mutate it). */
export function podSpecOf(f: Fixture): Obj {
    const p = f.props;
    switch (p.kind) {
        case "Pod":
            return p.spec;
        case "CronJob":
            return p.spec.jobTemplate.spec.template.spec;
        default:
            return p.spec.template.spec;
    }
}

/** A copy of `f` with `edit` applied to its pod spec. */
export function withPod(f: Fixture, edit: (spec: Obj) => void): Fixture {
    const copy = clone(f);
    edit(podSpecOf(copy));
    return copy;
}

export function service(name: string, namespace: string, type: string, extra: Obj = {}): Fixture {
    return {
        type: "kubernetes:core/v1:Service",
        name,
        props: {
            apiVersion: "v1",
            kind: "Service",
            metadata: { name, namespace, labels: extra.labels ?? {} },
            spec: { type, selector: extra.selector ?? { app: name }, ports: [{ port: 80 }] },
        },
    };
}

export function networkPolicy(name: string, namespace: string, spec: Obj): Fixture {
    return {
        type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        name,
        props: { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name, namespace }, spec },
    };
}

export const defaultDeny = (namespace: string) =>
    networkPolicy("default-deny", namespace, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });

export function pdb(name: string, namespace: string, spec: Obj): Fixture {
    return {
        type: "kubernetes:policy/v1:PodDisruptionBudget",
        name,
        props: { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: { name, namespace }, spec },
    };
}

export function hpa(name: string, namespace: string, target: { kind: string; name: string }, minReplicas?: number): Fixture {
    return {
        type: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        name,
        props: {
            apiVersion: "autoscaling/v2",
            kind: "HorizontalPodAutoscaler",
            metadata: { name, namespace },
            spec: {
                scaleTargetRef: { apiVersion: "apps/v1", ...target },
                ...(minReplicas !== undefined ? { minReplicas } : {}),
                maxReplicas: 10,
            },
        },
    };
}

export function peerAuthentication(name: string, namespace: string, spec: Obj, group = "security.istio.io"): Fixture {
    return {
        type: `kubernetes:${group}/v1:PeerAuthentication`,
        name,
        props: { apiVersion: `${group}/v1`, kind: "PeerAuthentication", metadata: { name, namespace }, spec },
    };
}

export function gateway(name: string, namespace: string, servers: Obj[]): Fixture {
    return {
        type: "kubernetes:networking.istio.io/v1:Gateway",
        name,
        props: {
            apiVersion: "networking.istio.io/v1",
            kind: "Gateway",
            metadata: { name, namespace },
            spec: { selector: { istio: "ingress" }, servers },
        },
    };
}

export function ingress(name: string, namespace: string, spec: Obj): Fixture {
    return {
        type: "kubernetes:networking.k8s.io/v1:Ingress",
        name,
        props: { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name, namespace }, spec },
    };
}

export function role(kind: "Role" | "ClusterRole", name: string, rules: Obj[], namespace?: string): Fixture {
    return {
        type: `kubernetes:rbac.authorization.k8s.io/v1:${kind}`,
        name,
        props: { apiVersion: "rbac.authorization.k8s.io/v1", kind, metadata: { name, ...(namespace ? { namespace } : {}) }, rules },
    };
}

export function binding(kind: "RoleBinding" | "ClusterRoleBinding", name: string, clusterRole: string, namespace?: string): Fixture {
    return {
        type: `kubernetes:rbac.authorization.k8s.io/v1:${kind}`,
        name,
        props: {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind,
            metadata: { name, ...(namespace ? { namespace } : {}) },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
            subjects: [{ kind: "ServiceAccount", name, namespace: namespace ?? "default" }],
        },
    };
}
