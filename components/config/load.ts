// Reads the `orders-platform:*` stack config once, applies per-environment defaults and
// validates it. Everything downstream receives typed, already-checked values.
import * as pulumi from "@pulumi/pulumi";
import { AppCatalog, loadAppCatalog } from "./appCatalog";
import { ENVIRONMENT_DEFAULTS } from "./defaults";
import { CONFIG_NAMESPACE, ConfigError, describeIssues, keyName } from "./errors";
import { Environment, ENVIRONMENTS, StackConfig, stackConfigSchema } from "./schema";

export type RawConfig = Record<string, unknown>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Stack values win over defaults; objects merge key by key, everything else is replaced. */
export function deepMerge(base: unknown, override: unknown): unknown {
    if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
    const out: Record<string, unknown> = { ...base };
    for (const [k, v] of Object.entries(override)) out[k] = deepMerge(base[k], v);
    return out;
}

/** Validates raw config (key -> parsed value, without the namespace) for one stack. */
export function parseStackConfig(raw: RawConfig, stack: string, catalog: AppCatalog): StackConfig {
    const environment = raw.environment;
    const defaults = ENVIRONMENTS.includes(environment as Environment) ? ENVIRONMENT_DEFAULTS[environment as Environment] : {};
    const merged = deepMerge(defaults, raw) as RawConfig;

    const parsed = stackConfigSchema.safeParse(merged, { reportInput: true });
    const problems = parsed.success ? [] : describeIssues(stackConfigSchema, merged, parsed.error.issues);

    // The apps in config must be exactly the apps in the checkout.
    const configured = isPlainObject(merged.apps) ? Object.keys(merged.apps) : [];
    for (const name of configured) {
        if (!catalog.has(name)) {
            problems.push(`${keyName(["apps", name])}: unknown app; apps in this checkout: ${[...catalog.keys()].join(", ")}`);
        }
    }
    for (const name of catalog.keys()) {
        if (!configured.includes(name)) problems.push(`${keyName(["apps", name])} = (not set): is required (at least a version)`);
    }

    if (problems.length > 0 || !parsed.success) throw new ConfigError(stack, problems);
    return parsed.data;
}

/** Every `orders-platform:*` key of the running stack, JSON values decoded. */
export function readRawConfig(): RawConfig {
    const raw: RawConfig = {};
    for (const [fullKey, text] of Object.entries(pulumi.runtime.allConfig())) {
        const [namespace, key] = fullKey.split(/:(.*)/s);
        if (namespace !== CONFIG_NAMESPACE) continue;
        try {
            raw[key] = JSON.parse(text);
        } catch {
            raw[key] = text; // plain strings such as `environment: dev`
        }
    }
    return raw;
}

export interface LoadedConfig {
    stack: string;
    config: StackConfig;
    catalog: AppCatalog;
}

/** Loads and validates the running stack's config; fails the program with a ConfigError. */
export function loadStackConfig(): LoadedConfig {
    const stack = pulumi.getStack();
    const catalog = loadAppCatalog();
    return { stack, config: parseStackConfig(readRawConfig(), stack, catalog), catalog };
}
