// Pure helpers over Kubernetes objects as the policy engine hands them over: a Pulumi type
// token (`kubernetes:apps/v1:Deployment`) plus the object's properties.

export type Obj = Record<string, any>;

export interface KubeType {
    /** API group; "core" for the legacy group (`kubernetes:core/v1:Pod`). */
    group: string;
    version: string;
    kind: string;
}

const KUBE_TYPE = /^kubernetes:([^/:]+)\/([^/:]+):([A-Za-z0-9]+)$/;

/**
 * Group, version and kind of a Kubernetes object from its Pulumi type token. Objects created
 * through `apiextensions.CustomResource` carry the token of their own group and kind
 * (`kubernetes:security.istio.io/v1:PeerAuthentication`). Helm charts, YAML and
 * kustomize components (`kubernetes:helm.sh/v4:Chart`, `kubernetes:yaml/v2:ConfigGroup`) are
 * not single objects; their rendered objects are registered with their own tokens.
 */
export function kubeType(type: string): KubeType | undefined {
    const m = KUBE_TYPE.exec(type);
    if (!m) return undefined;
    const [, group, version, kind] = m;
    if (group === "helm.sh" || group === "yaml" || group === "kustomize") return undefined;
    return { group, version, kind };
}

export function isObj(v: unknown): v is Obj {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function asArray<T = any>(v: unknown): T[] {
    return Array.isArray(v) ? (v as T[]) : [];
}

/** Namespace of an object; objects without one land in the provider's namespace, usually "default". */
export function namespaceOf(props: Obj): string {
    const ns = props?.metadata?.namespace;
    return typeof ns === "string" && ns !== "" ? ns : "default";
}

/** The object's name: metadata.name, else the Pulumi resource name (auto-naming adds a suffix). */
export function objectName(props: Obj, resourceName: string): string {
    const n = props?.metadata?.name;
    return typeof n === "string" && n !== "" ? n : resourceName;
}

/** "Deployment orders-apps/users" — how messages name an object. */
export function describeObject(kind: string, props: Obj, resourceName: string, namespaced = true): string {
    const name = objectName(props, resourceName);
    return namespaced ? `${kind} ${namespaceOf(props)}/${name}` : `${kind} ${name}`;
}

/** Whether `namespace` is in the exemption list (entries may use a trailing `*`). */
export function isExcludedNamespace(namespace: string, excluded: readonly string[] | undefined): boolean {
    return (excluded ?? []).some((e) => (e.endsWith("*") ? namespace.startsWith(e.slice(0, -1)) : namespace === e));
}

export function labelsOf(v: unknown): Record<string, string> {
    return isObj(v) ? (v as Record<string, string>) : {};
}
