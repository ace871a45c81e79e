// Reads a shipped Pulumi.<stack>.yaml the way the Pulumi CLI hands it to the program.
import * as path from "node:path";
import { applyConfigOverrides, projectConfig, readStackFile } from "../../scripts/lib/stackFile";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
export const PROJECT = "orders-platform";
export const SHIPPED_STACKS = ["dev", "staging", "prod"] as const;
export type ShippedStack = (typeof SHIPPED_STACKS)[number];

export { readStackFile, applyConfigOverrides as applyOverrides } from "../../scripts/lib/stackFile";

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
    return projectConfig(applyConfigOverrides(readStackFile(stack), overrides));
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
