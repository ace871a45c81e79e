// Runs Pulumi programs under `pulumi.runtime.setMocks` and returns what they registered.
//
//   const run = await runStack("prod", { "apps.users.canary.weight": 25 });
//   run.byType("kubernetes:apps/v1:Deployment")
//
// No CLI, engine, cluster or cloud is involved: every resource registration is answered
// by the mocks below, with provider-computed outputs from test/harness/mocks/*.ts.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { callResult, outputsFor } from "./mockRegistry";
import { applyOverrides, PROJECT, PROJECT_ROOT, readStackFile, toRuntimeConfig } from "./stackConfig";
import type { CapturedResource, ProgramRun, RunOptions } from "./types";

export * from "./stackConfig";
export { diffPaths } from "./diff";
export { appCatalog, stackConfig, stackConfigProblems } from "./parsedConfig";
export { validateKubernetesObjects, kubernetesObjects } from "./schemas";
export { testAuth, testSigningKey } from "./auth";
export type { SchemaProblem } from "./schemas";
export type { CapturedResource, ProgramRun, RunOptions } from "./types";

// Load every area's provider mocks once.
for (const file of fs.readdirSync(path.join(__dirname, "mocks")).sort()) {
    if (/\.ts$/.test(file) && !file.endsWith(".d.ts")) require(path.join(__dirname, "mocks", file));
}

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

async function resolveDeep(value: unknown): Promise<unknown> {
    if (pulumi.Output.isInstance(value)) {
        return resolveDeep(await new Promise((resolve) => (value as pulumi.Output<unknown>).apply(resolve)));
    }
    if (pulumi.Resource.isInstance(value)) return value;
    if (value instanceof Promise) return resolveDeep(await value);
    if (Array.isArray(value)) return Promise.all(value.map(resolveDeep));
    if (value && typeof value === "object") {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) out[k] = await resolveDeep(v);
        return out;
    }
    return value;
}

let running = Promise.resolve();

/** Runs `program` under mocks; runs are serialized because Pulumi's runtime state is global. */
export function runProgram<T>(program: () => T | Promise<T>, options: RunOptions = {}): Promise<ProgramRun<Awaited<T>>> {
    const result = running.then(() => runProgramNow(program, options));
    running = result.then(
        () => undefined,
        () => undefined,
    );
    return result;
}

async function runProgramNow<T>(program: () => T | Promise<T>, options: RunOptions): Promise<ProgramRun<Awaited<T>>> {
    const stack = options.stack ?? "test";
    const { values, secretKeys } = toRuntimeConfig(options.config ?? {});
    const resources: CapturedResource[] = [];
    const warnings: string[] = [];

    await pulumi.runtime.setMocks(
        {
            newResource: (args) => ({
                id: args.custom ? `${args.name}-id` : undefined,
                state: { ...args.inputs, ...outputsFor(args.type, args.name, args.inputs) },
            }),
            call: (args) => callResult(args.token, args.inputs),
        },
        PROJECT,
        stack,
        options.preview ?? false,
    );
    pulumi.runtime.setAllConfig(values, secretKeys);

    // Wrap the mock monitor so we also see parent, protect, dependencies and providers.
    const settings = require("@pulumi/pulumi/runtime/settings");
    const monitor = settings.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: any, res: any) => void) =>
        register(req, (err: any, res: any) => {
            if (!err) {
                const wire = req.getObject()?.toJavaScript() ?? {};
                resources.push({
                    type: req.getType(),
                    name: req.getName(),
                    urn: res.getUrn(),
                    inputs: unwrapSecrets(wire) as Record<string, any>,
                    wireInputs: wire,
                    parent: req.getParent() || undefined,
                    custom: req.getCustom(),
                    protect: req.getProtect() === true,
                    retainOnDelete: req.getRetainondelete() === true,
                    provider: req.getProvider() || undefined,
                    dependsOn: req.getDependenciesList(),
                    ignoreChanges: req.getIgnorechangesList(),
                });
            }
            callback(err, res);
        });

    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req: any, callback: (err: any, res: any) => void) => {
        const owner = resources.find((r) => r.urn === req.getUrn());
        if (owner) owner.componentOutputs = unwrapSecrets(req.getOutputs()?.toJavaScript() ?? {}) as Record<string, any>;
        return registerOutputs(req, callback);
    };

    const logWarn = pulumi.log.warn;
    const warnedOn: Array<pulumi.Resource | undefined> = [];
    (pulumi.log as { warn: typeof logWarn }).warn = async (msg: string, resource?: pulumi.Resource) => {
        warnings.push(msg);
        warnedOn.push(resource);
    };
    const prepareStackTrace = Error.prepareStackTrace;
    const stackTraceLimit = Error.stackTraceLimit;
    Error.prepareStackTrace = plainStackTrace;
    if (!process.env[FULL_STACKS_ENV]) Error.stackTraceLimit = 0;
    try {
        const returned = await program();
        const outputs = (await resolveDeep(returned)) as Awaited<T>;
        await settings.waitForRPCs();
        const urns = await Promise.all(warnedOn.map((r) => (r ? (resolveDeep(r.urn) as Promise<string>) : undefined)));
        const warningSources = warnings.map((message, i) => ({ message, urn: urns[i] }));
        return makeRun(resources, outputs, warnings, warningSources);
    } finally {
        Error.prepareStackTrace = prepareStackTrace;
        Error.stackTraceLimit = stackTraceLimit;
        (pulumi.log as { warn: typeof logWarn }).warn = logWarn;
    }
}

/**
 * Set to keep stack frames in errors raised while a program runs. By default a run captures none:
 * Pulumi's SDK makes an Error for every promise it creates (to report leaks at exit, which a test
 * never does), and capturing their frames was the largest cost left in a run. Its per-resource
 * source positions are unaffected (it lifts the limit for those itself).
 */
export const FULL_STACKS_ENV = "ORDERS_TEST_FULL_STACKS";

/** Frames kept per stack while a program runs: enough for Pulumi's source position (the caller of the resource). */
const RUN_STACK_FRAMES = 20;

/**
 * V8's own stack format, without looking each frame up in a source map and at most
 * RUN_STACK_FRAMES deep. Pulumi's SDK reads a stack of unlimited depth for every resource and one
 * for every promise it makes; mapping those through the TypeScript loader's source maps took a
 * third of every program run. Errors formatted after the run (a failing test's) are mapped as usual.
 */
function plainStackTrace(error: Error, frames: NodeJS.CallSite[]): string {
    // Kept by the SDK only to report leaked promises at exit, which a test run never does.
    if (frames[0]?.getFunctionName() === "debuggablePromise") return String(error);
    return [String(error), ...frames.slice(0, RUN_STACK_FRAMES).map((frame) => `    at ${frame}`)].join("\n");
}

function unwrapSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(unwrapSecrets);
    if (value && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (Object.values(obj).includes(SECRET_SIG) && "value" in obj) return unwrapSecrets(obj.value);
        return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

/** A ProgramRun over the given captures (e.g. the part of a run below some components). */
export function makeRun<T>(
    resources: CapturedResource[],
    outputs: T,
    warnings: string[],
    warningSources: ProgramRun["warningSources"],
): ProgramRun<T> {
    return {
        resources,
        outputs,
        warnings,
        warningSources,
        byType: (type) => resources.filter((r) => r.type === type),
        find: (predicate) => resources.filter(predicate),
        get(type, name) {
            const hits = resources.filter((r) => r.type === type && r.name === name);
            if (hits.length !== 1) {
                throw new Error(
                    `expected one ${type} named ${name}, found ${hits.length} (of: ${resources
                        .filter((r) => r.type === type)
                        .map((r) => r.name)
                        .join(", ")})`,
                );
            }
            return hits[0];
        },
    };
}

const INDEX = path.join(PROJECT_ROOT, "index.ts");
/** Environment variables the program reads (render mode, the existing cluster's kubeconfig): part of a run's input. */
const PROGRAM_ENV = ["ORDERS_RENDER_DIR", "KUBECONFIG"];
const stackRuns = new Map<string, Promise<ProgramRun<Record<string, unknown>>>>();

/**
 * Runs the real index.ts with the config of Pulumi.<stack>.yaml, plus overrides
 * (`"apps.users.canary.weight": 25`; undefined deletes a key).
 *
 * A program run is a pure function of its input (stack, resulting config, preview, PROGRAM_ENV), so
 * each distinct input runs once per process and every caller gets the same run, frozen so that no
 * test can change what another one sees.
 */
export function runStack(
    stack: string,
    overrides: Record<string, unknown> = {},
    options: { preview?: boolean } = {},
): Promise<ProgramRun<Record<string, unknown>>> {
    const config = applyOverrides(readStackFile(stack), overrides);
    const preview = options.preview ?? false;
    const key = JSON.stringify({ stack, config, preview, env: PROGRAM_ENV.map((name) => process.env[name] ?? null) });
    let run = stackRuns.get(key);
    if (!run) {
        run = runProgram(
            () => {
                // index.ts runs afresh; the modules it calls stay loaded (they keep no state between runs).
                delete require.cache[INDEX];
                return { ...require(INDEX) } as Record<string, unknown>;
            },
            { stack, config, preview },
        ).then(freezeDeep);
        stackRuns.set(key, run);
    }
    return run;
}

/** Freezes plain objects and arrays all the way down (Pulumi resources and other class instances stay as they are). */
function freezeDeep<T>(value: T): T {
    if (Array.isArray(value)) {
        value.forEach(freezeDeep);
        return Object.freeze(value);
    }
    if (value && typeof value === "object") {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) return value;
        Object.values(value).forEach(freezeDeep);
        return Object.freeze(value);
    }
    return value;
}
