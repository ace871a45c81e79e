// GitOps: writes a stack's Kubernetes manifests to a directory for Argo CD or Flux to apply.
//   npm run render -- --stack prod --out ../orders-gitops/prod --image users=<ref>@sha256:<digest> ...
//
// Runs the real program (index.ts) with ORDERS_RENDER_DIR set: the cluster component then hands
// every component a Kubernetes provider in render mode (renderYamlToDirectory), so each object,
// the Helm charts' objects included (helm.v4.Chart renders client-side), becomes one YAML file:
// CustomResourceDefinitions under <out>/0-crd, everything else under <out>/1-manifest. No cluster,
// cloud account or image build is involved; the apps' images must be given by digest
// (--image <app>=<ref>@sha256:<digest>, or apps.<name>.image in the stack file), e.g. the ones CI pushed. The program still runs under the Pulumi engine,
// with the policy pack, in a render stack of its own whose state keeps generated passwords stable
// between renders (kept in --state-dir, encrypted with PULUMI_CONFIG_PASSPHRASE).
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import { parse, stringify } from "yaml";
import { CONFIG_NAMESPACE, ConfigError, loadAppCatalog, RENDER_DIR_ENV } from "../components/config";
import { resolvePulumiCli, type PulumiCli } from "./lib/pulumiCli";
import { parseCommandLine, wantsHelp } from "./lib/cliArgs";
import { applyConfigOverrides, loadStackFileConfig, PROJECT_DIR, projectConfig, readStackFile } from "./lib/stackFile";

export const PROJECT = "orders-platform";
/** The provider's layout of a render directory. */
export const RENDER_SUBDIRS = ["0-crd", "1-manifest"] as const;
export const DEFAULT_STATE_DIR = path.join(PROJECT_DIR, ".pulumi-render");

export interface RenderOptions {
    /** Where the render stacks keep settings and state (one sub-directory per stack). */
    stateDir?: string;
    /** Extra config, `key.path` -> value (`orders-platform` unless namespaced). */
    config?: Record<string, unknown>;
    /** Images by digest (`--image`); they win over the stack file and `config`. */
    images?: ImageFlag[];
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

/** One `--image`: the stable image of an app (`users=<ref>`) or its canary's (`users:canary=<ref>`). */
export interface ImageFlag {
    app: string;
    canary: boolean;
    reference: string;
}

const DIGEST_SUFFIX = /@sha256:[a-f0-9]{64}$/;
const IMAGE_EXAMPLE = "users=registry.example.com/orders/users:1.2.0@sha256:<64 hex>";

/** The flag's target as written: `users` or `users:canary`. */
export const imageTarget = (flag: Pick<ImageFlag, "app" | "canary">) => `${flag.app}${flag.canary ? ":canary" : ""}`;

/** Parses `<app>[:canary]=<reference>@sha256:<digest>`; `apps` are the apps of this checkout. */
export function parseImageFlag(text: string, apps: readonly string[]): ImageFlag {
    const eq = text.indexOf("=");
    if (eq < 0) throw new Error(`--image ${text}: must be <app>=<reference>@sha256:<digest>, e.g. --image ${IMAGE_EXAMPLE}`);
    const target = text.slice(0, eq).trim();
    const reference = text.slice(eq + 1).trim();
    const [app, role, ...rest] = target.split(":");
    if (rest.length > 0 || (role !== undefined && role !== "canary"))
        throw new Error(`--image ${text}: "${target}" must be an app or <app>:canary (apps: ${apps.join(", ")})`);
    if (!apps.includes(app)) throw new Error(`--image ${text}: no app "${app}" in apps/ (apps: ${apps.join(", ")})`);
    if (!DIGEST_SUFFIX.test(reference) || reference.length <= "@sha256:".length + 64)
        throw new Error(
            `--image ${text}: the image must be pinned by digest, <reference>@sha256:<64 lowercase hex>, e.g. --image ${IMAGE_EXAMPLE}`,
        );
    return { app, canary: role === "canary", reference };
}

/** The stack config keys the flags set (`apps.users.image`, `apps.users.canary.image`). */
export function imageConfig(images: readonly ImageFlag[]): Record<string, string> {
    return Object.fromEntries(images.map((i) => [i.canary ? `apps.${i.app}.canary.image` : `apps.${i.app}.image`, i.reference]));
}

type RawApps = Record<string, { version?: unknown; image?: unknown; canary?: { version?: unknown; image?: unknown } } | undefined>;

const rawApps = (config: Record<string, unknown>): RawApps => (projectConfig(config).apps ?? {}) as RawApps;

/** Images the stack config lacks, as `--image` targets with their version: nothing is built when rendering. */
export function missingImages(config: Record<string, unknown>): Array<{ target: string; version?: string }> {
    return Object.entries(rawApps(config)).flatMap(([app, cfg]) => [
        ...(cfg && !cfg.image ? [{ target: app, version: cfg.version === undefined ? undefined : String(cfg.version) }] : []),
        ...(cfg?.canary && !cfg.canary.image
            ? [{ target: `${app}:canary`, version: cfg.canary.version === undefined ? undefined : String(cfg.canary.version) }]
            : []),
    ]);
}

/** Checks the flags against the stack: a canary image needs a canary, each target once. */
export function checkImageFlags(stack: string, config: Record<string, unknown>, images: readonly ImageFlag[]): void {
    const seen = new Set<string>();
    const apps = rawApps(config);
    for (const image of images) {
        const target = imageTarget(image);
        if (seen.has(target)) throw new Error(`--image ${target}= is given twice; give each app's image once`);
        seen.add(target);
        if (image.canary && !apps[image.app]?.canary)
            throw new Error(
                `--image ${target}=...: stack "${stack}" has no canary for ${image.app} (apps.${image.app}.canary); ` +
                    `drop the flag, or configure the canary's version and weight in Pulumi.${stack}.yaml`,
            );
    }
}

/** What to run when images are missing: every target, its version, and the flag to pass. */
export function missingImagesMessage(stack: string, missing: ReadonlyArray<{ target: string; version?: string }>): string {
    const flag = (m: { target: string; version?: string }) =>
        `--image ${m.target}=<registry>/${m.target.split(":")[0]}${m.version ? `:${m.version}` : ""}@sha256:<digest>`;
    return [
        `no image for ${missing.map((m) => m.target).join(", ")} in stack "${stack}": nothing is built when rendering, ` +
            "so every image is given by digest (e.g. the ones CI pushed). Pass them with --image:",
        `  npm run render -- --stack ${stack} --out <dir> \\`,
        ...missing.map((m, i) => `      ${flag(m)}${i < missing.length - 1 ? " \\" : ""}`),
        `or set apps.<app>.image (and apps.<app>.canary.image) in Pulumi.${stack}.yaml.`,
    ].join("\n");
}

export async function renderStack(stack: string, outDir: string, options: RenderOptions = {}): Promise<RenderResult> {
    const out = path.resolve(outDir);
    const images = options.images ?? [];
    const overrides = { ...(options.config ?? {}), ...imageConfig(images) };
    const stackFile = readStackFile(stack);
    // Fail on config before anything runs: images first (the flag to use), then the program's own check.
    checkImageFlags(stack, applyConfigOverrides(stackFile, options.config ?? {}), images);
    const config = applyConfigOverrides(stackFile, overrides);
    const missing = missingImages(config);
    if (missing.length > 0) throw new Error(missingImagesMessage(stack, missing));
    try {
        loadStackFileConfig(stack, PROJECT_DIR, { overrides, render: true });
    } catch (err) {
        if (err instanceof ConfigError && images.length > 0) {
            const keys = Object.keys(imageConfig(images)).map(
                (key, i) => `--image ${imageTarget(images[i])}= sets ${CONFIG_NAMESPACE}:${key}`,
            );
            err.message += `\n(${keys.join("; ")})`;
        }
        throw err;
    }
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
    images: ImageFlag[];
    stateDir?: string;
    policy: boolean;
}

export const USAGE = `usage: npm run render -- --stack <name> --out <dir> [--image <app>[:canary]=<ref>@sha256:<digest> ...]
                         [--no-policy] [--state-dir <dir>]

Writes the stack's Kubernetes manifests (CustomResourceDefinitions in <dir>/0-crd, everything else
in <dir>/1-manifest) for Argo CD or Flux, by running the program under the Pulumi engine with the
policy pack; no cluster, cloud account or image build is involved. Needs the Pulumi CLI and
PULUMI_CONFIG_PASSPHRASE (it encrypts the render stack's state, which keeps the generated passwords).

options:
  --stack <name>       stack whose Pulumi.<name>.yaml is rendered (dev, staging, prod)
  --out <dir>          output directory; only its 0-crd and 1-manifest are replaced
  --image <app>=<ref>@sha256:<digest>
                       an app's image by digest (nothing is built when rendering); repeat it for
                       every app, and use <app>:canary=... for a stack that runs a canary
                       (e.g. --image users:canary=<registry>/users:1.1.0@sha256:<digest>).
                       Wins over apps.<app>.image in the stack file.
  --no-policy          skip the policy pack
  --state-dir <dir>    where the render stacks keep their state (default .pulumi-render)
  -h, --help           this text

example:
  PULUMI_CONFIG_PASSPHRASE=... npm run render -- --stack staging --out ../orders-gitops/staging \\
      --image users=<registry>/users:1.1.0@sha256:<digest> --image orders=<registry>/orders:1.0.0@sha256:<digest>`;

/** The command line; `apps` are the apps of this checkout (--image names one of them). */
export function parseRenderArgs(argv: string[], apps: readonly string[] = [...loadAppCatalog().keys()]): CliArgs {
    const { values } = parseCommandLine(
        argv,
        {
            stack: { type: "string" },
            out: { type: "string" },
            image: { type: "string", multiple: true, default: [] },
            "state-dir": { type: "string" },
            "no-policy": { type: "boolean" },
        },
        USAGE,
    );
    if (!values.stack || !values.out) throw new Error(`${values.stack ? "--out <dir>" : "--stack <name>"} is required\n${USAGE}`);
    const args: CliArgs = {
        stack: values.stack,
        out: values.out,
        images: values.image.map((text) => parseImageFlag(text, apps)),
        policy: !values["no-policy"],
    };
    if (values["state-dir"] !== undefined) args.stateDir = values["state-dir"];
    return args;
}

async function main(argv: string[]): Promise<void> {
    if (wantsHelp(argv)) {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    const args = parseRenderArgs(argv);
    const result = await renderStack(args.stack, args.out, {
        images: args.images,
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
