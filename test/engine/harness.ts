// Helpers of the real-engine tests: the built Pulumi CLI and kubectl against the kwok cluster that
// scripts/engine/test.sh started (its environment: PATH, PULUMI_HOME, KUBECONFIG, backend, passphrase).
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";

export const REPO = path.resolve(__dirname, "..", "..");
export const PROJECT_DIR = path.join(__dirname, "project");
export const STACK = "engine";
/** The registry path the staging policy config allows: images are "promoted" from there by digest. */
export const PROMOTED_REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/staging";

export function requireEnv(name: string): string {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is not set: run the real-engine tests with \`npm run test:engine\``);
    return value;
}

const toolchain = () => requireEnv("ORDERS_ENGINE_ROOT");
const logFile = () => process.env.ENGINE_TEST_LOG ?? path.join(REPO, "logs", "engine-test.log");

export interface RunResult {
    status: number;
    stdout: string;
    stderr: string;
    /** stdout and stderr, for error messages and logs. */
    output: string;
}

function log(text: string): void {
    fs.mkdirSync(path.dirname(logFile()), { recursive: true });
    fs.appendFileSync(logFile(), text.endsWith("\n") ? text : `${text}\n`);
}

/** "any": the caller judges the exit status itself. */
export type Expect = "ok" | "fail" | "any";

/** Runs a command, logs it with its output, and fails unless its exit status is what was expected. */
export function run(bin: string, args: string[], opts: { cwd?: string; env?: Record<string, string>; expect?: Expect } = {}): RunResult {
    const started = Date.now();
    const r = spawnSync(bin, args, {
        cwd: opts.cwd ?? PROJECT_DIR,
        env: { ...process.env, ...opts.env },
        encoding: "utf8",
        maxBuffer: 256 * 1024 * 1024,
    });
    const result = { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "", output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
    const envText = opts.env
        ? `${Object.entries(opts.env)
              .map(([k, v]) => `${k}=${v}`)
              .join(" ")} `
        : "";
    log(
        `\n$ ${envText}${path.basename(bin)} ${args.join(" ")}   # exit ${result.status}, ${((Date.now() - started) / 1000).toFixed(1)}s\n${result.output}`,
    );
    const expect = opts.expect ?? "ok";
    if (expect !== "any" && (expect === "ok") !== (result.status === 0)) {
        const tail = result.output.split("\n").slice(-60).join("\n");
        throw new Error(`${path.basename(bin)} ${args.join(" ")} exited ${result.status} (expected ${expect}):\n${tail}`);
    }
    return result;
}

/** `run` without blocking this process (its event loop serves stand-ins, e.g. a fake Prometheus). */
export function runAsync(bin: string, args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
    const started = Date.now();
    return new Promise((resolve, reject) => {
        const child = spawn(bin, args, { cwd: opts.cwd ?? PROJECT_DIR, env: { ...process.env, ...opts.env } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => {
            const result = { status: code ?? -1, stdout, stderr, output: `${stdout}${stderr}` };
            log(
                `\n$ ${path.basename(bin)} ${args.join(" ")}   # exit ${result.status}, ${((Date.now() - started) / 1000).toFixed(1)}s\n${result.output}`,
            );
            if (result.status === 0) resolve(result);
            else
                reject(
                    new Error(
                        `${path.basename(bin)} ${args.join(" ")} exited ${result.status}:\n${result.output.split("\n").slice(-60).join("\n")}`,
                    ),
                );
        });
    });
}

export const pulumi = (args: string[], opts: { env?: Record<string, string>; expect?: Expect } = {}) =>
    run(path.join(toolchain(), "bin", "pulumi"), ["--non-interactive", ...args], opts);

export const kubectl = (args: string[], opts: { expect?: Expect } = {}) => run(path.join(toolchain(), "bin", "kubectl"), args, opts);

/** `pulumi ... --policy-pack` arguments with the config of an environment. */
export const policyArgs = (environment: string) => [
    "--policy-pack",
    path.join(REPO, "policy"),
    "--policy-pack-config",
    path.join(REPO, "policy", "config", `${environment}.json`),
];

/** A syntactically real, clearly made-up image digest (kwok never pulls). */
export function standInDigest(name: string): string {
    return `sha256:${createHash("sha256").update(`orders-platform engine harness ${name}`).digest("hex")}`;
}

export const promotedImage = (app: string, version: string) =>
    `${PROMOTED_REGISTRY}/${app}:${version}@${standInDigest(`${app}:${version}`)}`;

/** Writes the harness stack's config file next to test/engine/project/Pulumi.yaml. */
export function writeStackConfig(config: Record<string, unknown>): string {
    const file = path.join(PROJECT_DIR, `Pulumi.${STACK}.yaml`);
    fs.writeFileSync(file, stringify({ config }, { lineWidth: 0 }));
    return file;
}

export interface PreviewStep {
    op: string;
    urn: string;
    detailedDiff?: Record<string, { kind: string }>;
    diffReasons?: string[];
}

/** The changing steps of `pulumi preview --json` (everything but "same"). */
export function changingSteps(previewJson: string): PreviewStep[] {
    const doc = JSON.parse(previewJson) as { steps?: PreviewStep[] };
    return (doc.steps ?? []).filter((s) => s.op !== "same");
}

/** Resource counts by type of the stack's current state. */
export function stateCounts(): { total: number; byType: Record<string, number> } {
    const state = JSON.parse(pulumi(["stack", "export", "--stack", STACK]).stdout) as {
        deployment: { resources?: Array<{ type: string }> };
    };
    const byType: Record<string, number> = {};
    for (const r of state.deployment.resources ?? []) byType[r.type] = (byType[r.type] ?? 0) + 1;
    return { total: state.deployment.resources?.length ?? 0, byType };
}

/** The "resources:" summary lines of a CLI run, e.g. "+ 152 created". */
export const summary = (output: string) =>
    output
        .split("\n")
        .filter((l) => /^\s*[+~\-±]?\s*\d+ (created|updated|deleted|replaced|unchanged|to create|to update|to delete|to replace)/.test(l))
        .map((l) => l.trim());
