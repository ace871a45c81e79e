// Stack policies: they need to see several objects at once.
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { configWithDefaults, excludedNamespacesSchema, stringList } from "../lib/config";
import { asArray, describeObject, isExcludedNamespace, isObj, kubeType, namespaceOf, objectName } from "../lib/k8s";
import { isEmptySelector, selectorMatches } from "../lib/selectors";
import { Workload, workloadOf } from "../lib/workloads";

interface Found {
    resource: PolicyResource;
    workload: Workload;
}

function workloads(resources: PolicyResource[], excluded: string[]): Found[] {
    const out: Found[] = [];
    for (const r of resources) {
        const w = workloadOf(r.type, r.props, r.name);
        if (w && !isExcludedNamespace(w.namespace, excluded)) out.push({ resource: r, workload: w });
    }
    return out;
}

function objectsOf(resources: PolicyResource[], kind: string, group: (g: string) => boolean): PolicyResource[] {
    return resources.filter((r) => {
        const t = kubeType(r.type);
        return t !== undefined && t.kind === kind && group(t.group);
    });
}

const num = (v: unknown): number | undefined =>
    typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined;

// --- PodDisruptionBudgets ----------------------------------------------------------------------

interface PdbConfig {
    excludedNamespaces: string[];
    kinds: string[];
}

const pdbSchema = {
    properties: {
        excludedNamespaces: excludedNamespacesSchema,
        kinds: stringList("Workload kinds that need a PodDisruptionBudget when replicated.", ["Deployment", "StatefulSet"]),
    },
};

export const pdbForReplicated: StackValidationPolicy = {
    name: "k8s-pdb-for-replicated",
    description:
        "Every Deployment/StatefulSet with replicas > 1 (or an HPA with minReplicas > 1 targeting it) has a PodDisruptionBudget in its namespace whose selector matches its pod labels, and that budget allows at least one disruption.",
    severity: "medium",
    enforcementLevel: "mandatory",
    configSchema: pdbSchema,
    validateStack: (args, report) => {
        const cfg = configWithDefaults<PdbConfig>(pdbSchema, args);
        const hpas = objectsOf(args.resources, "HorizontalPodAutoscaler", (g) => g === "autoscaling");
        const pdbs = objectsOf(args.resources, "PodDisruptionBudget", (g) => g === "policy");
        for (const { resource, workload: w } of workloads(args.resources, cfg.excludedNamespaces)) {
            if (!cfg.kinds.includes(w.kind)) continue;
            const replicas = num(resource.props.spec?.replicas) ?? 1;
            const hpa = hpas.find((h) => {
                const ref = h.props.spec?.scaleTargetRef;
                return namespaceOf(h.props) === w.namespace && isObj(ref) && ref.kind === w.kind && ref.name === w.name;
            });
            const hpaMin = hpa ? (num(hpa.props.spec?.minReplicas) ?? 1) : undefined;
            if (replicas <= 1 && (hpaMin ?? 0) <= 1) continue;
            // With an HPA the replica count moves between minReplicas and maxReplicas.
            const minPods = hpaMin ?? replicas;
            const why = hpaMin !== undefined && hpaMin > 1 ? `HPA minReplicas ${hpaMin}` : `replicas ${replicas}`;
            const matching = pdbs.filter(
                (p) => namespaceOf(p.props) === w.namespace && selectorMatches(p.props.spec?.selector, w.podLabels),
            );
            if (matching.length === 0) {
                report(
                    `${w.label} runs more than one pod (${why}) but no PodDisruptionBudget in namespace ${w.namespace} selects its pod labels ${JSON.stringify(w.podLabels)}; add a PodDisruptionBudget with spec.selector.matchLabels matching them and maxUnavailable: 1`,
                    resource.urn,
                );
                continue;
            }
            for (const p of matching) {
                const spec = p.props.spec ?? {};
                const label = describeObject("PodDisruptionBudget", p.props, p.name);
                const minAvailable = spec.minAvailable;
                const blocks =
                    spec.maxUnavailable === 0 ||
                    spec.maxUnavailable === "0%" ||
                    minAvailable === "100%" ||
                    (num(minAvailable) !== undefined && num(minAvailable)! >= minPods);
                if (blocks) {
                    report(
                        `${label} for ${w.label} allows no voluntary disruption (minAvailable ${JSON.stringify(minAvailable)}, maxUnavailable ${JSON.stringify(spec.maxUnavailable)}, ${minPods} pods), which blocks node drains; use maxUnavailable: 1`,
                        p.urn,
                    );
                }
            }
        }
    },
};

// --- default-deny NetworkPolicy ----------------------------------------------------------------

interface DenyConfig {
    excludedNamespaces: string[];
}

const denySchema = { properties: { excludedNamespaces: excludedNamespacesSchema } };

/** A NetworkPolicy that selects every pod and allows nothing in either direction. */
export function isDefaultDeny(props: Record<string, any>): boolean {
    const spec = isObj(props.spec) ? props.spec : {};
    const types = asArray<string>(spec.policyTypes);
    return (
        isEmptySelector(spec.podSelector) &&
        types.includes("Ingress") &&
        types.includes("Egress") &&
        asArray(spec.ingress).length === 0 &&
        asArray(spec.egress).length === 0
    );
}

export const namespaceDefaultDeny: StackValidationPolicy = {
    name: "k8s-namespace-default-deny",
    description:
        "Every namespace holding a workload has a default-deny NetworkPolicy: empty podSelector, policyTypes Ingress and Egress, and no rules.",
    severity: "high",
    enforcementLevel: "mandatory",
    configSchema: denySchema,
    validateStack: (args, report) => {
        const cfg = configWithDefaults<DenyConfig>(denySchema, args);
        const byNamespace = new Map<string, Found[]>();
        for (const f of workloads(args.resources, cfg.excludedNamespaces)) {
            byNamespace.set(f.workload.namespace, [...(byNamespace.get(f.workload.namespace) ?? []), f]);
        }
        const policies = objectsOf(args.resources, "NetworkPolicy", (g) => g === "networking.k8s.io");
        for (const [ns, found] of byNamespace) {
            const inNs = policies.filter((p) => namespaceOf(p.props) === ns);
            if (inNs.some((p) => isDefaultDeny(p.props))) continue;
            const names = found.map((f) => f.workload.label);
            const near = inNs.filter((p) => isEmptySelector(p.props.spec?.podSelector));
            const hint = near.length
                ? ` (NetworkPolicy ${near.map((p) => objectName(p.props, p.name)).join(", ")} selects all pods but does not deny both directions: it needs policyTypes [Ingress, Egress] and no ingress/egress rules)`
                : "";
            report(
                `namespace ${ns} holds ${names.slice(0, 3).join(", ")}${names.length > 3 ? ` and ${names.length - 3} more` : ""} but has no default-deny NetworkPolicy${hint}; add one with podSelector: {}, policyTypes: [Ingress, Egress] and no rules, then allow the needed traffic with further NetworkPolicies`,
                found[0].resource.urn,
            );
        }
    },
};

// --- Istio mTLS --------------------------------------------------------------------------------

interface MtlsConfig {
    rootNamespace: string;
    requireMeshWide: boolean;
    allowedPermissivePorts: Array<number | string>;
}

const mtlsSchema = {
    properties: {
        rootNamespace: {
            type: "string" as const,
            default: "istio-system",
            description: "Istio root namespace: a PeerAuthentication there without selector applies mesh-wide.",
        },
        requireMeshWide: {
            type: "boolean" as const,
            default: true,
            description: "Require a mesh-wide STRICT PeerAuthentication in the root namespace.",
        },
        allowedPermissivePorts: {
            type: "array" as const,
            items: { type: ["integer" as const, "string" as const] },
            default: [],
            description:
                'Ports that portLevelMtls may set to PERMISSIVE: a port number (any namespace) or "<namespace>/<port>", e.g. "orders-data/5432" for clients outside the mesh.',
        },
    },
};

const isIstio = (group: string) => group === "istio.io" || group.endsWith(".istio.io");

export const istioMtlsStrict: StackValidationPolicy = {
    name: "istio-mtls-strict",
    description:
        "With Istio installed, a mesh-wide PeerAuthentication in the root namespace sets mTLS STRICT and no PeerAuthentication weakens it to PERMISSIVE or DISABLE.",
    severity: "high",
    enforcementLevel: "advisory",
    configSchema: mtlsSchema,
    validateStack: (args, report) => {
        const cfg = configWithDefaults<MtlsConfig>(mtlsSchema, args);
        const pas = objectsOf(args.resources, "PeerAuthentication", isIstio);
        const anyIstio = args.resources.some((r) => {
            const t = kubeType(r.type);
            return t !== undefined && isIstio(t.group);
        });
        if (pas.length === 0 && !anyIstio) args.notApplicable("no Istio resources in this stack");
        const modeOf = (p: PolicyResource) => (isObj(p.props.spec?.mtls) ? p.props.spec.mtls.mode : undefined);
        if (cfg.requireMeshWide) {
            const meshWide = pas.filter((p) => {
                const selector = p.props.spec?.selector;
                return (
                    namespaceOf(p.props) === cfg.rootNamespace && (selector === undefined || selector === null || isEmptySelector(selector))
                );
            });
            if (!meshWide.some((p) => modeOf(p) === "STRICT")) {
                report(
                    meshWide.length > 0
                        ? `${describeObject("PeerAuthentication", meshWide[0].props, meshWide[0].name)} is the mesh-wide policy but spec.mtls.mode is ${JSON.stringify(modeOf(meshWide[0]))}; set spec.mtls.mode: STRICT`
                        : `no mesh-wide PeerAuthentication in ${cfg.rootNamespace} (no selector, spec.mtls.mode STRICT); add one so every workload requires mTLS`,
                    meshWide[0]?.urn,
                );
            }
        }
        for (const p of pas) {
            const label = describeObject("PeerAuthentication", p.props, p.name);
            const mode = modeOf(p);
            if (mode === "PERMISSIVE" || mode === "DISABLE") {
                report(`${label}: spec.mtls.mode is ${mode}; set it to STRICT (or UNSET to inherit the mesh-wide STRICT)`, p.urn);
            }
            const ports = isObj(p.props.spec?.portLevelMtls) ? p.props.spec.portLevelMtls : {};
            for (const [port, v] of Object.entries(ports)) {
                const m = isObj(v) ? v.mode : undefined;
                const ns = namespaceOf(p.props);
                const allowed = cfg.allowedPermissivePorts.some((a) => a === Number(port) || a === `${ns}/${port}`);
                if ((m === "PERMISSIVE" || m === "DISABLE") && !allowed) {
                    report(
                        `${label}: spec.portLevelMtls[${port}].mode is ${m}; set it to STRICT, or list "${ns}/${port}" in allowedPermissivePorts if clients outside the mesh must reach it`,
                        p.urn,
                    );
                }
            }
        }
    },
};
