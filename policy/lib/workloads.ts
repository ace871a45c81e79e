// Extracts the pod spec and every container from any pod-bearing Kubernetes kind.
import { asArray, describeObject, isObj, kubeType, labelsOf, namespaceOf, objectName, Obj } from "./k8s";

/** Kinds that carry a pod spec, with the path of that pod spec inside the object. */
export const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
    Pod: ["spec"],
    Deployment: ["spec", "template", "spec"],
    StatefulSet: ["spec", "template", "spec"],
    DaemonSet: ["spec", "template", "spec"],
    ReplicaSet: ["spec", "template", "spec"],
    ReplicationController: ["spec", "template", "spec"],
    Job: ["spec", "template", "spec"],
    CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
};

export const POD_BEARING_KINDS = Object.keys(POD_SPEC_PATHS);

/** Kinds whose pods are expected to run forever (probes make sense). */
export const LONG_RUNNING_KINDS = ["Deployment", "StatefulSet", "DaemonSet"];

export type ContainerKind = "container" | "initContainer" | "ephemeralContainer";

const LISTS: ReadonlyArray<[ContainerKind, string]> = [
    ["initContainer", "initContainers"],
    ["container", "containers"],
    ["ephemeralContainer", "ephemeralContainers"],
];

export interface ContainerRef {
    container: Obj;
    kind: ContainerKind;
    name: string;
    /** Field path of the container inside the object, e.g. `spec.template.spec.containers[0]`. */
    path: string;
    /** `container "app"`, `initContainer "migrate"`. */
    label: string;
    /** An init container with restartPolicy Always (a native sidecar) runs as long as the pod. */
    sidecar: boolean;
}

export interface Workload {
    kind: string;
    /** "Deployment orders-apps/users". */
    label: string;
    namespace: string;
    name: string;
    podSpec: Obj;
    /** Field path of the pod spec, e.g. `spec.template.spec`. */
    podSpecPath: string;
    /** Labels of the pods it creates (template labels; a Pod's own labels). */
    podLabels: Record<string, string>;
    containers: ContainerRef[];
}

/** The kind of a pod-bearing object, or undefined for anything else. */
export function podBearingKind(type: string): string | undefined {
    const t = kubeType(type);
    if (!t || !(t.kind in POD_SPEC_PATHS)) return undefined;
    // A custom resource of a foreign group that happens to share a built-in kind's name is not a workload.
    if (!["core", "apps", "batch", "extensions"].includes(t.group)) return undefined;
    return t.kind;
}

/** Pod spec, pod labels and all containers of a pod-bearing object; undefined for other kinds. */
export function workloadOf(type: string, props: Obj, resourceName: string): Workload | undefined {
    const kind = podBearingKind(type);
    if (!kind) return undefined;
    const path = POD_SPEC_PATHS[kind];
    let podSpec: unknown = props;
    for (const p of path) podSpec = isObj(podSpec) ? podSpec[p] : undefined;
    const templatePath = path.slice(0, -1);
    let template: unknown = props;
    for (const p of templatePath) template = isObj(template) ? template[p] : undefined;
    const podLabels = labelsOf(isObj(template) ? template.metadata?.labels : undefined);
    const spec = isObj(podSpec) ? podSpec : {};
    const podSpecPath = path.join(".");
    const containers: ContainerRef[] = [];
    for (const [ckind, field] of LISTS) {
        asArray(spec[field]).forEach((c: unknown, i) => {
            const container = isObj(c) ? c : {};
            const name = typeof container.name === "string" ? container.name : `#${i}`;
            containers.push({
                container,
                kind: ckind,
                name,
                path: `${podSpecPath}.${field}[${i}]`,
                label: `${ckind} "${name}"`,
                sidecar: ckind === "initContainer" && container.restartPolicy === "Always",
            });
        });
    }
    return {
        kind,
        label: describeObject(kind, props, resourceName),
        namespace: namespaceOf(props),
        name: objectName(props, resourceName),
        podSpec: spec,
        podSpecPath,
        podLabels,
        containers,
    };
}

/** `container "app" of Deployment orders-apps/users` */
export function where(c: ContainerRef, w: Workload): string {
    return `${c.label} of ${w.label}`;
}
