// Policy config: defaults from each policy's configSchema merged under what the config file sets
// (the Pulumi CLI does the same before it hands config to the pack; doing it here as well keeps
// the policies correct when called directly, e.g. from tests).
import type { PolicyConfigSchema } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";

export function schemaDefaults(schema: PolicyConfigSchema | undefined): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, prop] of Object.entries(schema?.properties ?? {})) {
        if (prop.default !== undefined) out[key] = structuredClone(prop.default);
    }
    return out;
}

export function configWithDefaults<T extends object>(
    schema: PolicyConfigSchema | undefined,
    args: { getConfig<C extends object>(): C },
): T {
    const given = (args.getConfig<Record<string, unknown>>() ?? {}) as Record<string, unknown>;
    const out = schemaDefaults(schema);
    for (const [k, v] of Object.entries(given)) if (v !== undefined && k !== "enforcementLevel") out[k] = v;
    return out as T;
}

/** Schema of the `excludedNamespaces` key every workload policy understands. */
export const excludedNamespacesSchema: PolicyConfigJSONSchema = {
    type: "array",
    items: { type: "string" },
    default: [],
    description: "Namespaces this policy skips (third-party charts). A trailing * matches a prefix.",
};

/** One workload a policy skips, named exactly, with the reason it cannot comply. */
export interface WorkloadExemption {
    namespace: string;
    kind: string;
    name: string;
    reason: string;
}

/** Schema of the `excludedWorkloads` key every workload policy understands. */
export const excludedWorkloadsSchema: PolicyConfigJSONSchema = {
    type: "array",
    default: [],
    description:
        "Single workloads this policy skips, each with the reason it cannot comply (e.g. node-exporter needs the host's network): { namespace, kind, name, reason }.",
    items: {
        type: "object",
        required: ["namespace", "kind", "name", "reason"],
        properties: {
            namespace: { type: "string" },
            kind: { type: "string" },
            name: { type: "string" },
            reason: { type: "string" },
        },
    },
};

export const stringList = (description: string, defaults: string[]): PolicyConfigJSONSchema => ({
    type: "array",
    items: { type: "string" },
    default: defaults,
    description,
});
