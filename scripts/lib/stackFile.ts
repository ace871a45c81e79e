// A shipped stack's config as the program would see it: Pulumi.<stack>.yaml, validated.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { BUDGET_CHECKS } from "../../components/budgets";
import { CONFIG_NAMESPACE, loadAppCatalog, parseStackConfig, type StackConfig } from "../../components/config";

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/** Every key of Pulumi.<stack>.yaml (`namespace:key` -> value as parsed YAML). */
export function readStackFile(stack: string, projectDir: string = PROJECT_DIR): Record<string, unknown> {
    const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) throw new Error(`no stack file ${path.relative(process.cwd(), file) || file} (stacks: dev, staging, prod)`);
    const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    return { ...(doc.config ?? {}) };
}

/**
 * Applies overrides given as `key.path` -> value (value undefined deletes the key), e.g.
 * `{ "apps.users.canary.weight": 25, "cluster.provider": "gke" }`. Keys without a namespace
 * belong to `orders-platform`.
 */
export function applyConfigOverrides(config: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
    const out = structuredClone(config);
    for (const [dotted, given] of Object.entries(overrides)) {
        // A copy: a later, deeper override must not change the caller's object.
        const value = structuredClone(given);
        const [first, ...rest] = dotted.split(".");
        const topKey = first.includes(":") ? first : `${CONFIG_NAMESPACE}:${first}`;
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

/** The `orders-platform:*` keys of a stack file's config, without the namespace. */
export function projectConfig(config: Record<string, unknown>): Record<string, unknown> {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return Object.fromEntries(
        Object.entries(config)
            .filter(([k]) => k.startsWith(prefix))
            .map(([k, v]) => [k.slice(prefix.length), v]),
    );
}

/** The stack's `orders-platform` config, defaults applied and validated (a ConfigError names bad keys). */
export function loadStackFileConfig(
    stack: string,
    projectDir: string = PROJECT_DIR,
    options: { overrides?: Record<string, unknown>; render?: boolean } = {},
): StackConfig {
    const raw = projectConfig(applyConfigOverrides(readStackFile(stack, projectDir), options.overrides ?? {}));
    return parseStackConfig(raw, stack, loadAppCatalog(path.join(projectDir, "apps")), { render: options.render, checks: BUDGET_CHECKS });
}
