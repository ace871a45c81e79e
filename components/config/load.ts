// Reads the `orders-platform:*` stack config once, applies per-environment defaults and
// validates it. Everything downstream receives typed, already-checked values.
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { AppCatalog, loadAppCatalog } from "./appCatalog";
import { ENVIRONMENT_DEFAULTS, ENVIRONMENT_REQUIRED } from "./defaults";
import { CONFIG_NAMESPACE, ConfigError, describeIssues, keyName } from "./errors";
import { Environment, ENVIRONMENTS, StackConfig, stackConfigSchema } from "./schema";

export type RawConfig = Record<string, unknown>;

/**
 * A check over the whole schema-valid config that lives above this module (the budgets in
 * components/budgets): the problems it finds, each naming the keys to change.
 */
export type ConfigCheck = (config: StackConfig, catalog: AppCatalog) => string[];

export interface ParseOptions {
    /** The program renders manifests (`npm run render`): every image must be given by digest. */
    render?: boolean;
    /** Run once the schema and the app list are clean; index.ts passes the budgets' checks. */
    checks?: ReadonlyArray<ConfigCheck>;
}

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

/** Keys that moved to the pinned-versions model; a stack still setting one is told where it went. */
const MOVED_KEYS: ReadonlyArray<{ path: string[]; to: string }> = [
    { path: ["mesh", "istioVersion"], to: "charts.istio.version" },
    { path: ["edge", "traefikChartVersion"], to: "charts.traefik.version" },
    { path: ["observability", "prometheus", "chartVersion"], to: "charts.kubePrometheusStack.version" },
    { path: ["observability", "jaeger", "chartVersion"], to: "charts.jaeger.version" },
    { path: ["database", "imageTag"], to: "images.postgres (a full reference with tag and digest)" },
    { path: ["cluster", "kind", "nodeImage"], to: "images.kindNode (a full reference with tag and digest)" },
];

/** Removes moved keys from `raw` (a deep copy is returned) and describes each one found. */
function takeMovedKeys(raw: RawConfig): { rest: RawConfig; problems: string[] } {
    const rest = structuredClone(raw);
    const problems: string[] = [];
    for (const { path, to } of MOVED_KEYS) {
        const parent = path.slice(0, -1).reduce<unknown>((o, k) => (isPlainObject(o) ? o[k] : undefined), rest);
        const leaf = path[path.length - 1];
        if (!isPlainObject(parent) || !(leaf in parent)) continue;
        problems.push(
            `${keyName(path)} = ${JSON.stringify(parent[leaf])}: moved to ${keyName([to])}; ` +
                "unset it to take the version pinned in components/versions.ts",
        );
        delete parent[leaf];
    }
    return { rest, problems };
}

/** Set by `npm run render`: the program writes its Kubernetes manifests to this directory instead of a cluster. */
export const RENDER_DIR_ENV = "ORDERS_RENDER_DIR";

/** Render mode: no cluster, no cloud resources, no image builds; manifests go to `directory`. */
export interface RenderMode {
    /** Absolute directory the Kubernetes provider renders into. */
    directory: string;
}

export function renderMode(env: NodeJS.ProcessEnv = process.env): RenderMode | undefined {
    const dir = env[RENDER_DIR_ENV]?.trim();
    if (!dir) return undefined;
    if (!path.isAbsolute(dir)) throw new Error(`${RENDER_DIR_ENV}=${dir}: must be an absolute directory`);
    return { directory: dir };
}

/** Nothing is built or looked up when rendering: every image must be given by digest. */
function renderProblems(config: StackConfig): string[] {
    const problems: string[] = [];
    for (const [name, app] of Object.entries(config.apps)) {
        if (!app.image) {
            problems.push(
                `${keyName(["apps", name, "image"])} = (not set): is required when rendering manifests (nothing is built); ` +
                    "give the image by digest, e.g. the one CI pushed",
            );
        }
        if (app.canary && !app.canary.image) {
            problems.push(
                `${keyName(["apps", name, "canary", "image"])} = (not set): is required when rendering manifests (nothing is built)`,
            );
        }
    }
    return problems;
}

function hasPath(root: unknown, path: string[]): boolean {
    let cur = root;
    for (const key of path) {
        if (!isPlainObject(cur) || !(key in cur)) return false;
        cur = cur[key];
    }
    return cur !== undefined && cur !== null;
}

/** Keys the environment requires that the stack itself does not set (defaults never count). */
export function missingRequiredKeys(raw: RawConfig, environment: Environment): string[] {
    return ENVIRONMENT_REQUIRED[environment]
        .filter((r) => (!r.onlyWith || hasPath(raw, r.onlyWith)) && !hasPath(raw, r.path))
        .map((r) => `${keyName(r.path)} = (not set): is required in ${environment} (${r.reason})`);
}

/** Validates raw config (key -> parsed value, without the namespace) for one stack. */
export function parseStackConfig(raw: RawConfig, stack: string, catalog: AppCatalog, options: ParseOptions = {}): StackConfig {
    const environment = raw.environment;
    const known = ENVIRONMENTS.includes(environment as Environment);
    const defaults = known ? ENVIRONMENT_DEFAULTS[environment as Environment] : {};
    const moved = takeMovedKeys(raw);
    const required = known ? missingRequiredKeys(moved.rest, environment as Environment) : [];
    const merged = deepMerge(defaults, moved.rest) as RawConfig;

    const parsed = stackConfigSchema.safeParse(merged, { reportInput: true });
    const schemaProblems = parsed.success ? [] : describeIssues(stackConfigSchema, merged, parsed.error.issues);
    // A key the environment requires is reported once, with the environment's reason.
    const requiredKeys = required.map((p) => p.slice(0, p.indexOf(" = ")));
    const problems = [...moved.problems, ...required, ...schemaProblems.filter((p) => !requiredKeys.some((k) => p.startsWith(`${k} = `)))];

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

    if (parsed.success && problems.length === 0) for (const check of options.checks ?? []) problems.push(...check(parsed.data, catalog));
    if (parsed.success && options.render) problems.push(...renderProblems(parsed.data));
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
    /** Set when the program renders manifests (`npm run render`) instead of deploying. */
    render?: RenderMode;
}

/** Loads and validates the running stack's config; fails the program with a ConfigError. */
export function loadStackConfig(options: Pick<ParseOptions, "checks"> = {}): LoadedConfig {
    const stack = pulumi.getStack();
    const catalog = loadAppCatalog();
    const render = renderMode();
    return { stack, config: parseStackConfig(readRawConfig(), stack, catalog, { ...options, render: !!render }), catalog, render };
}
