// Validates captured Kubernetes objects against the published schemas: Kubernetes itself
// (kubernetes-models), Istio and the Prometheus Operator CRDs (@kubernetes-models/*).
import type { CapturedResource } from "./types";

export interface SchemaProblem {
    resource: string;
    message: string;
}

/** Types that are Kubernetes-typed but are not single objects (rendered by the provider). */
const NOT_OBJECTS = [/^kubernetes:helm\.sh\//, /^kubernetes:yaml\//, /^kubernetes:kustomize\//, /^pulumi:providers:/];

/** Captured resources that are single Kubernetes objects. */
export function kubernetesObjects(resources: CapturedResource[]): CapturedResource[] {
    return resources.filter(
        (r) =>
            r.custom &&
            r.type.startsWith("kubernetes:") &&
            !NOT_OBJECTS.some((re) => re.test(r.type)) &&
            r.inputs.apiVersion &&
            r.inputs.kind,
    );
}

function modulePath(apiVersion: string, kind: string): string | undefined {
    const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
    if (group === "") return `kubernetes-models/${version}/${kind}`;
    if (group.endsWith(".istio.io")) return `@kubernetes-models/istio/${group}/${version}/${kind}`;
    if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`;
    if (group.endsWith(".k8s.io") || !group.includes(".")) return `kubernetes-models/${group}/${version}/${kind}`;
    return undefined;
}

// kubernetes-models is ESM-only; keep the dynamic import out of TypeScript's CJS transform.
const importEsm = new Function("specifier", "return import(specifier)") as (s: string) => Promise<Record<string, any>>;

/** Every schema violation of every Kubernetes object; objects of unknown groups are reported too. */
export async function validateKubernetesObjects(resources: CapturedResource[]): Promise<SchemaProblem[]> {
    const problems: SchemaProblem[] = [];
    for (const r of kubernetesObjects(resources)) {
        const { apiVersion, kind } = r.inputs;
        const specifier = modulePath(apiVersion, kind);
        const label = `${kind} ${r.inputs.metadata?.namespace ?? ""}/${r.inputs.metadata?.name ?? r.name} (${r.urn})`;
        if (!specifier) {
            problems.push({ resource: label, message: `no schema known for ${apiVersion}` });
            continue;
        }
        let Model: any;
        try {
            Model = (await importEsm(specifier))[kind];
        } catch {
            Model = undefined;
        }
        if (!Model) {
            problems.push({ resource: label, message: `no schema for ${apiVersion} ${kind}` });
            continue;
        }
        try {
            new Model(r.inputs).validate();
        } catch (err) {
            problems.push({ resource: label, message: (err as Error).message });
        }
    }
    return problems;
}
