// Runs the whole pack over a set of resources without the Pulumi engine, honouring a policy
// config file (`policy/config/<stack>.json`) the way `--policy-pack-config` does:
//   1. each policy starts at its own enforcement level (or the pack's) and its schema defaults;
//   2. "all" sets the enforcement level of every policy;
//   3. a policy's own entry sets its level and/or overrides individual config properties.
import type { EnforcementLevel, Policies, PolicyConfigSchema, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { allPolicies, PACK_ENFORCEMENT_LEVEL } from "../policies";
import { schemaDefaults } from "./config";
import { makeResourceArgs, makeStackArgs, ResourceInput, runResourcePolicy, runStackPolicy } from "./engine";

export type { ResourceInput } from "./engine";

/** Parsed `policy/config/<stack>.json`. */
export type PolicyPackConfigFile = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

export interface Violation {
    policyName: string;
    /** Level the violation is reported at ("remediate" is reported as "mandatory", like the engine). */
    enforcementLevel: "advisory" | "mandatory";
    message: string;
    /** Resource in violation; stack policies may report against the stack as a whole. */
    urn?: string;
}

export interface ResolvedPolicyConfig {
    enforcementLevel: EnforcementLevel;
    properties: Record<string, unknown>;
}

const LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

function isStackPolicy(p: Policies[number]): p is StackValidationPolicy {
    return typeof (p as StackValidationPolicy).validateStack === "function";
}

/** Problems in a policy config file: unknown policies or keys, bad levels, values of the wrong type. */
export function validateConfigFile(file: PolicyPackConfigFile, policies: Policies = allPolicies): string[] {
    const problems: string[] = [];
    const byName = new Map(policies.map((p) => [p.name, p]));
    for (const [name, entry] of Object.entries(file)) {
        if (name !== "all" && !byName.has(name)) {
            problems.push(`"${name}": no such policy (known: ${[...byName.keys()].join(", ")})`);
            continue;
        }
        if (typeof entry === "string") {
            if (!LEVELS.includes(entry)) problems.push(`"${name}": enforcement level "${entry}" is not one of ${LEVELS.join(" | ")}`);
            continue;
        }
        if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
            problems.push(`"${name}": must be an enforcement level or an object`);
            continue;
        }
        for (const [key, value] of Object.entries(entry)) {
            if (key === "enforcementLevel") {
                if (!LEVELS.includes(value as EnforcementLevel))
                    problems.push(`"${name}".enforcementLevel: "${String(value)}" is not one of ${LEVELS.join(" | ")}`);
                continue;
            }
            if (name === "all") {
                problems.push(`"all".${key}: only enforcementLevel can be set for all policies`);
                continue;
            }
            const schema = byName.get(name)!.configSchema?.properties?.[key];
            if (!schema) {
                problems.push(
                    `"${name}".${key}: unknown config key (known: ${Object.keys(byName.get(name)!.configSchema?.properties ?? {}).join(", ") || "none"})`,
                );
                continue;
            }
            problems.push(...checkValue(`"${name}".${key}`, value, schema));
        }
    }
    return problems;
}

function typeOfJson(v: unknown): string {
    if (v === null) return "null";
    if (Array.isArray(v)) return "array";
    if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
    return typeof v;
}

function checkValue(path: string, value: unknown, schema: PolicyConfigJSONSchema | boolean): string[] {
    if (typeof schema === "boolean") return schema ? [] : [`${path}: not allowed`];
    const problems: string[] = [];
    if (schema.type) {
        const types = Array.isArray(schema.type) ? schema.type : [schema.type];
        const actual = typeOfJson(value);
        const ok = types.some((t) => t === actual || (t === "number" && actual === "integer"));
        if (!ok) return [`${path}: expected ${types.join(" | ")}, got ${actual}`];
    }
    if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
        problems.push(`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.map((e) => JSON.stringify(e)).join(" | ")}`);
    }
    if (typeof value === "number") {
        if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${path}: must be >= ${schema.minimum}`);
        if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${path}: must be <= ${schema.maximum}`);
    }
    if (Array.isArray(value) && schema.items && !Array.isArray(schema.items)) {
        value.forEach((v, i) => problems.push(...checkValue(`${path}[${i}]`, v, schema.items as PolicyConfigJSONSchema)));
    }
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
        for (const req of schema.required ?? []) if (!(req in value)) problems.push(`${path}: ${req} is required`);
        for (const [k, v] of Object.entries(value)) {
            const sub = schema.properties?.[k] ?? schema.additionalProperties;
            if (sub === undefined) continue;
            problems.push(...checkValue(`${path}.${k}`, v, sub));
        }
    }
    return problems;
}

/** Enforcement level and config of every policy after applying a config file. */
export function resolvePolicyConfig(
    file: PolicyPackConfigFile,
    policies: Policies = allPolicies,
    packLevel: EnforcementLevel = PACK_ENFORCEMENT_LEVEL,
): Map<string, ResolvedPolicyConfig> {
    const out = new Map<string, ResolvedPolicyConfig>();
    for (const p of policies) {
        out.set(p.name, {
            enforcementLevel: p.enforcementLevel ?? packLevel,
            properties: schemaDefaults(p.configSchema as PolicyConfigSchema | undefined),
        });
    }
    const all = file.all;
    const allLevel = typeof all === "string" ? all : all?.enforcementLevel;
    if (allLevel) for (const c of out.values()) c.enforcementLevel = allLevel;
    for (const [name, entry] of Object.entries(file)) {
        const c = out.get(name);
        if (!c || name === "all") continue;
        if (typeof entry === "string") {
            c.enforcementLevel = entry;
            continue;
        }
        const { enforcementLevel, ...props } = entry;
        if (enforcementLevel) c.enforcementLevel = enforcementLevel;
        Object.assign(c.properties, props);
    }
    return out;
}

export interface RunOptions {
    /** Default: every policy of the pack. */
    policies?: Policies;
    stackTags?: ReadonlyMap<string, string>;
}

/**
 * Runs every resource policy over every resource and every stack policy over the whole set.
 * Policies at level "disabled" do not run. Throws when the config file names unknown
 * policies or keys, or gives values of the wrong type.
 */
export async function runPolicies(
    resources: ResourceInput[],
    config: PolicyPackConfigFile,
    options: RunOptions = {},
): Promise<Violation[]> {
    const policies = options.policies ?? allPolicies;
    const problems = validateConfigFile(config, policies);
    if (problems.length > 0) throw new Error(`invalid policy config:\n  ${problems.join("\n  ")}`);
    const resolved = resolvePolicyConfig(config, policies);
    const violations: Violation[] = [];
    for (const policy of policies) {
        const { enforcementLevel, properties } = resolved.get(policy.name)!;
        if (enforcementLevel === "disabled") continue;
        const level = enforcementLevel === "advisory" ? "advisory" : "mandatory";
        if (isStackPolicy(policy)) {
            const outcome = await runStackPolicy(policy, makeStackArgs(resources, properties, options.stackTags));
            for (const r of outcome.reported)
                violations.push({ policyName: policy.name, enforcementLevel: level, message: r.message, urn: r.urn });
        } else {
            for (const resource of resources) {
                const outcome = await runResourcePolicy(
                    policy as ResourceValidationPolicy,
                    makeResourceArgs(resource, properties, options.stackTags),
                );
                for (const r of outcome.reported)
                    violations.push({ policyName: policy.name, enforcementLevel: level, message: r.message, urn: r.urn });
            }
        }
    }
    return violations;
}

/** One line per violation, for assertion messages and logs. */
export function formatViolations(violations: readonly Violation[]): string {
    return violations.map((v) => `[${v.enforcementLevel}] ${v.policyName}: ${v.message}${v.urn ? ` (${v.urn})` : ""}`).join("\n");
}
