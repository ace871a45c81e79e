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

export const stringList = (description: string, defaults: string[]): PolicyConfigJSONSchema => ({
    type: "array",
    items: { type: "string" },
    default: defaults,
    description,
});
