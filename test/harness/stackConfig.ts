// Reads a shipped Pulumi.<stack>.yaml the way the Pulumi CLI hands it to the program.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
export const PROJECT = "orders-platform";
export const SHIPPED_STACKS = ["dev", "staging", "prod"] as const;
export type ShippedStack = (typeof SHIPPED_STACKS)[number];

/** `orders-platform:<key>` -> value (objects as parsed YAML), from Pulumi.<stack>.yaml. */
export function readStackFile(stack: string): Record<string, unknown> {
    const file = path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
    const doc = parse(fs.readFileSync(file, "utf8")) ?? {};
    return { ...(doc.config ?? {}) };
}

/**
 * Applies overrides given as `key.path` -> value (value undefined deletes the key), e.g.
 * `{ "apps.users.canary.weight": 25, "cluster.provider": "gke" }`. Keys without a namespace
 * belong to `orders-platform`.
 */
export function applyOverrides(config: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
    const out = structuredClone(config);
    for (const [dotted, value] of Object.entries(overrides)) {
        const [first, ...rest] = dotted.split(".");
        const topKey = first.includes(":") ? first : `${PROJECT}:${first}`;
        if (rest.length === 0) {
            if (value === undefined) delete out[topKey];
            else out[topKey] = value;
            continue;
        }
        let cur = (out[topKey] ??= {}) as Record<string, unknown>;
        for (const part of rest.slice(0, -1)) cur = (cur[part] ??= {}) as Record<string, unknown>;
        const last = rest[rest.length - 1];
        if (value === undefined) delete cur[last];
        else cur[last] = value;
    }
    return out;
}

/** The string map Pulumi's runtime expects: plain strings as-is, everything else JSON. */
export function toRuntimeConfig(config: Record<string, unknown>): { values: Record<string, string>; secretKeys: string[] } {
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(config)) {
        if (value && typeof value === "object" && "secure" in (value as object)) {
            values[key] = `mock-secret-for-${key}`;
            secretKeys.push(key);
        } else {
            values[key] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    return { values, secretKeys };
}

/** A stack's `orders-platform:*` values without the namespace, overrides applied. */
export function rawStackConfig(stack: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const full = applyOverrides(readStackFile(stack), overrides);
    return Object.fromEntries(
        Object.entries(full)
            .filter(([k]) => k.startsWith(`${PROJECT}:`))
            .map(([k, v]) => [k.slice(PROJECT.length + 1), v]),
    );
}

/** Switches a shipped EKS stack to GKE (the one config change the README documents). */
export const GKE_OVERRIDES: Record<string, unknown> = {
    "cluster.provider": "gke",
    "cluster.eks": undefined,
    "cluster.gke": { project: "orders-staging-1234", region: "europe-west1", masterAuthorizedCidrs: ["198.51.100.0/24"] },
};

/** The shipped stacks plus the variants every suite checks: [label, stack, overrides]. */
export const STACK_VARIANTS: Array<[string, string, Record<string, unknown>]> = [
    ...SHIPPED_STACKS.map((s): [string, string, Record<string, unknown>] => [s, s, {}]),
    ["staging on GKE", "staging", GKE_OVERRIDES],
    ["dev with the mesh off", "dev", { "mesh.enabled": false }],
];
