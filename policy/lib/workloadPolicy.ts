// Shared shape of the per-workload policies: find the pod spec and containers of any
// pod-bearing kind, skip exempt namespaces (from config), and let the policy check the rest.
import type { EnforcementLevel, ResourceValidationArgs, ResourceValidationPolicy, Severity } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { configWithDefaults, excludedNamespacesSchema, excludedWorkloadsSchema, type WorkloadExemption } from "./config";
import { isExcludedNamespace, isObj, Obj } from "./k8s";
import { ContainerRef, Workload, workloadOf } from "./workloads";

export interface WorkloadConfig {
    excludedNamespaces: string[];
    excludedWorkloads: WorkloadExemption[];
}

/** Whether config exempts exactly this workload (namespace, kind and name all match). */
export function isExemptWorkload(w: Pick<Workload, "namespace" | "kind" | "name">, exemptions: readonly WorkloadExemption[]): boolean {
    return exemptions.some((e) => e.namespace === w.namespace && e.kind === w.kind && e.name === w.name);
}

export interface WorkloadPolicyDef<C extends object> {
    name: string;
    description: string;
    severity: Severity;
    enforcementLevel?: EnforcementLevel;
    remediationSteps?: string;
    /** Config properties besides `excludedNamespaces` and `excludedWorkloads`. */
    config?: Record<string, PolicyConfigJSONSchema>;
    /** Only these kinds (default: every pod-bearing kind). */
    kinds?: readonly string[];
    check(w: Workload, cfg: C & WorkloadConfig, report: (message: string) => void, args: ResourceValidationArgs): void;
}

export function workloadPolicy<C extends object = object>(def: WorkloadPolicyDef<C>): ResourceValidationPolicy {
    const configSchema = {
        properties: { excludedNamespaces: excludedNamespacesSchema, excludedWorkloads: excludedWorkloadsSchema, ...(def.config ?? {}) },
    };
    return {
        name: def.name,
        description: def.description,
        severity: def.severity,
        ...(def.enforcementLevel ? { enforcementLevel: def.enforcementLevel } : {}),
        ...(def.remediationSteps ? { remediationSteps: def.remediationSteps } : {}),
        configSchema,
        validateResource: (args, reportViolation) => {
            const w = workloadOf(args.type, args.props, args.name);
            if (!w) return;
            if (def.kinds && !def.kinds.includes(w.kind)) return;
            const cfg = configWithDefaults<C & WorkloadConfig>(configSchema, args);
            if (isExcludedNamespace(w.namespace, cfg.excludedNamespaces) || isExemptWorkload(w, cfg.excludedWorkloads)) return;
            def.check(w, cfg, (m) => reportViolation(m), args);
        },
    };
}

/** A container's securityContext (empty object when absent). */
export function sc(c: ContainerRef): Obj {
    return isObj(c.container.securityContext) ? c.container.securityContext : {};
}

/** The pod's securityContext (empty object when absent). */
export function podSc(w: Workload): Obj {
    return isObj(w.podSpec.securityContext) ? w.podSpec.securityContext : {};
}
