// GitOps: writes a stack's Kubernetes manifests to a directory for Argo CD or Flux to apply.
//   npm run render -- --stack prod --out ../orders-gitops/prod [--no-policy] [--state-dir .pulumi-render]
//
// Runs the real program (index.ts) with ORDERS_RENDER_DIR set: the cluster component then hands
// every component a Kubernetes provider in render mode (renderYamlToDirectory), so each object,
// the Helm charts' objects included (helm.v4.Chart renders client-side), becomes one YAML file:
// CustomResourceDefinitions under <out>/0-crd, everything else under <out>/1-manifest. No cluster,
// cloud account or image build is involved; the apps' images must be given by digest
// (apps.<name>.image), e.g. the ones CI pushed. The program still runs under the Pulumi engine,
// with the policy pack, in a render stack of its own whose state keeps generated passwords stable
// between renders (kept in --state-dir, encrypted with PULUMI_CONFIG_PASSPHRASE).
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { parse, stringify } from "yaml";
import { RENDER_DIR_ENV } from "../components/config/load";
import { resolvePulumiCli, type PulumiCli } from "./lib/pulumiCli";
import { parseCommandLine } from "./lib/cliArgs";
import { applyConfigOverrides, loadStackFileConfig, PROJECT_DIR, readStackFile } from "./lib/stackFile";

export const PROJECT = "orders-platform";
/** The provider's layout of a render directory. */
export const RENDER_SUBDIRS = ["0-crd", "1-manifest"] as const;
export const DEFAULT_STATE_DIR = path.join(PROJECT_DIR, ".pulumi-render");

export interface RenderOptions {
    /** Where the render stacks keep settings and state (one sub-directory per stack). */
    stateDir?: string;
    /** Extra config, `key.path` -> value (`orders-platform` unless namespaced), e.g. images by digest. */
    config?: Record<string, unknown>;
    /** Run the policy pack with the stack's policy config (default true). */
    policy?: boolean;
    /** The Pulumi CLI (default: resolvePulumiCli). */
    cli?: PulumiCli;
    onOutput?: (text: string) => void;
}

export interface RenderResult {
    /** Every rendered file, relative to the output directory, sorted. */
    files: string[];
    /** Files holding a Secret (base64, not encrypted). */
    secrets: string[];
}

/** Removes what an earlier render left in the provider's sub-directories, nothing else. */
export function clearRenderDirectory(outDir: string): void {
    for (const sub of RENDER_SUBDIRS) fs.rmSync(path.join(outDir, sub), { recursive: true, force: true });
    fs.mkdirSync(outDir, { recursive: true });
}

/** The rendered files, relative to `outDir`. */
export function renderedFiles(outDir: string): string[] {
    return RENDER_SUBDIRS.flatMap((sub) => {
        const dir = path.join(outDir, sub);
        return fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => `${sub}/${f}`) : [];
    }).sort();
}

/** The provider names a file `<apiVersion>-<kind>-<namespace|default>-<name>.yaml` ("/" in the apiVersion becomes "_"). */
export function renderedFileName(object: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): string {
    return `${object.apiVersion.replace(/[/:]/g, "_")}-${object.kind.toLowerCase()}-${object.metadata.namespace || "default"}-${object.metadata.name}.yaml`;
}

/** Where the provider writes an object: CustomResourceDefinitions apart, so they can be applied first. */
export function renderedPath(object: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): string {
    return `${object.kind === "CustomResourceDefinition" ? RENDER_SUBDIRS[0] : RENDER_SUBDIRS[1]}/${renderedFileName(object)}`;
}

interface DeploymentResource {
    type: string;
    custom?: boolean;
    outputs?: { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } };
}

/** Kubernetes objects of an exported deployment that have no file in `outDir`. */
export function missingManifests(deployment: { resources?: DeploymentResource[] }, outDir: string): string[] {
    const present = new Set(renderedFiles(outDir));
    return (deployment.resources ?? [])
        .filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.outputs?.kind && r.outputs.apiVersion && r.outputs.metadata?.name)
        .map((r) => renderedPath(r.outputs as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }))
        .filter((file) => !present.has(file));
}

/** Settings file of the render stack: the stack file's config, the render stack's own encryption salt. */
export function renderStackSettings(stackFileConfig: Record<string, unknown>, previous: string | undefined): string {
    const salt = previous ? (parse(previous) as { encryptionsalt?: string } | null)?.encryptionsalt : undefined;
    return stringify({ ...(salt ? { encryptionsalt: salt } : {}), config: stackFileConfig });
}

async function pulumiCommandFor(cli: PulumiCli): Promise<PulumiCommand> {
    if (cli.kind === "installed") return PulumiCommand.get({ root: cli.root, skipVersionCheck: true });
    process.env.PATH = `${path.dirname(cli.bin)}${path.delimiter}${process.env.PATH ?? ""}`;
    return PulumiCommand.get({ skipVersionCheck: true });
}

/** Drops the program's modules from the require cache, so each render runs index.ts afresh. */
function forgetProgramModules(): void {
    for (const key of Object.keys(require.cache)) {
        const inProject = key.startsWith(PROJECT_DIR + path.sep) && !key.includes(`${path.sep}node_modules${path.sep}`);
        if (inProject && (key.includes(`${path.sep}components${path.sep}`) || key === path.join(PROJECT_DIR, "index.ts")))
            delete require.cache[key];
    }
}

export async function renderStack(stack: string, outDir: string, options: RenderOptions = {}): Promise<RenderResult> {
    const out = path.resolve(outDir);
    const config = applyConfigOverrides(readStackFile(stack), options.config ?? {});
    // Fail on config before anything runs: the same check the program makes (images by digest).
    loadStackFileConfig(stack, PROJECT_DIR, { overrides: options.config ?? {}, render: true });
    if (process.env.PULUMI_CONFIG_PASSPHRASE === undefined && process.env.PULUMI_CONFIG_PASSPHRASE_FILE === undefined) {
        throw new Error(
            "set PULUMI_CONFIG_PASSPHRASE (or _FILE): it encrypts the render stack's state, which holds the generated passwords",
        );
    }

    const workDir = path.join(path.resolve(options.stateDir ?? DEFAULT_STATE_DIR), stack);
    fs.mkdirSync(path.join(workDir, "state"), { recursive: true });
    const settingsFile = path.join(workDir, `Pulumi.${stack}.yaml`);
    fs.writeFileSync(
        settingsFile,
        renderStackSettings(config, fs.existsSync(settingsFile) ? fs.readFileSync(settingsFile, "utf8") : undefined),
    );
    clearRenderDirectory(out);

    const pulumiCommand = await pulumiCommandFor(options.cli ?? resolvePulumiCli(PROJECT_DIR));
    // A render never talks to a cluster, whatever the caller's kubeconfig says: the provider gets an
    // empty one, and the program (which runs in this process) none, since the SDK would pass
    // $KUBECONFIG on and render mode refuses a kubeconfig.
    const noCluster = path.join(workDir, "no-cluster.kubeconfig");
    fs.writeFileSync(noCluster, "");
    const saved = { [RENDER_DIR_ENV]: process.env[RENDER_DIR_ENV], KUBECONFIG: process.env.KUBECONFIG };
    // The inline program runs in this process and reads the switch from here.
    process.env[RENDER_DIR_ENV] = out;
    delete process.env.KUBECONFIG;
    try {
        const workspaceStack = await LocalWorkspace.createOrSelectStack(
            {
                stackName: stack,
                projectName: PROJECT,
                program: async () => {
                    forgetProgramModules();
                    return { ...(require(path.join(PROJECT_DIR, "index.ts")) as Record<string, unknown>) };
                },
            },
            {
                workDir,
                pulumiCommand,
                secretsProvider: "passphrase",
                projectSettings: { name: PROJECT, runtime: "nodejs" },
                envVars: { PULUMI_BACKEND_URL: `file://${path.join(workDir, "state")}`, [RENDER_DIR_ENV]: out, KUBECONFIG: noCluster },
            },
        );
        const policyConfig = path.join(PROJECT_DIR, "policy", "config", `${stack}.json`);
        const policy =
            options.policy !== false && fs.existsSync(policyConfig)
                ? { policyPacks: [path.join(PROJECT_DIR, "policy")], policyPackConfigs: [policyConfig] }
                : {};
        await workspaceStack.up({ onOutput: options.onOutput, message: `render ${stack} to ${out}`, ...policy });
        const missing = missingManifests((await workspaceStack.exportStack()).deployment, out);
        if (missing.length > 0) {
            throw new Error(
                `${missing.length} objects of the stack have no manifest in ${out} (e.g. ${missing.slice(0, 3).join(", ")}): the Kubernetes ` +
                    "provider plugin did not rewrite unchanged objects; render mode needs its alwaysRender option (pulumi-kubernetes >= 4.26)",
            );
        }
    } finally {
        for (const [name, value] of Object.entries(saved)) {
            if (value === undefined) delete process.env[name];
            else process.env[name] = value;
        }
    }
    const files = renderedFiles(out);
    return { files, secrets: files.filter((f) => /^1-manifest\/v1-secret-/.test(f)) };
}

export interface CliArgs {
    stack: string;
    out: string;
    stateDir?: string;
    policy: boolean;
}

export const USAGE = "usage: npm run render -- --stack <name> --out <dir> [--no-policy] [--state-dir <dir>]";

export function parseRenderArgs(argv: string[]): CliArgs {
    const { values } = parseCommandLine(
        argv,
        { stack: { type: "string" }, out: { type: "string" }, "state-dir": { type: "string" }, "no-policy": { type: "boolean" } },
        USAGE,
    );
    const args: Partial<CliArgs> = { stack: values.stack, out: values.out, policy: !values["no-policy"] };
    if (values["state-dir"] !== undefined) args.stateDir = values["state-dir"];
    if (!args.stack || !args.out) throw new Error(USAGE);
    return args as CliArgs;
}

async function main(argv: string[]): Promise<void> {
    const args = parseRenderArgs(argv);
    const result = await renderStack(args.stack, args.out, {
        stateDir: args.stateDir,
        policy: args.policy,
        onOutput: (text) => process.stderr.write(text),
    });
    process.stdout.write(`${result.files.length} manifests in ${path.resolve(args.out)} (${RENDER_SUBDIRS.join(", ")})\n`);
    if (result.secrets.length > 0) {
        process.stdout.write(
            `warning: ${result.secrets.length} Secrets are in plain base64 (not encrypted); keep them out of Git ` +
                `(seal them, or let External Secrets create them):\n${result.secrets.map((f) => `  ${f}`).join("\n")}\n`,
        );
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((err: Error) => {
        process.stderr.write(`error: ${err.message}\n`);
        process.exitCode = 1;
    });
}
