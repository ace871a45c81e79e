// StackDriver over the Pulumi Automation API (local workspace = the project directory, by default this repository).
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import type { PulumiCli } from "../lib/pulumiCli";
import { CONFIG_NAMESPACE, type StackDriver } from "./stackDriver";

export interface AutomationDriverOptions {
    stackName: string;
    /** Directory holding Pulumi.yaml. */
    workDir: string;
    /** Directory holding the policy pack (policy/) and its per-environment configs. */
    policyDir: string;
    /** The CLI found by resolvePulumiCli. */
    cli: PulumiCli;
}

async function pulumiCommandFor(cli: PulumiCli): Promise<PulumiCommand> {
    if (cli.kind === "installed") return PulumiCommand.get({ root: cli.root, skipVersionCheck: true });
    // The npm wrapper is `pulumi` on PATH under `npm run`; make sure of it when run directly.
    process.env.PATH = `${path.dirname(cli.bin)}${path.delimiter}${process.env.PATH ?? ""}`;
    return PulumiCommand.get({ skipVersionCheck: true });
}

export async function automationStackDriver(opts: AutomationDriverOptions): Promise<StackDriver> {
    // Backend and secrets come from the caller's environment (pulumi login / PULUMI_BACKEND_URL,
    // PULUMI_CONFIG_PASSPHRASE), exactly as for the pulumi CLI.
    const pulumiCommand = await pulumiCommandFor(opts.cli);
    const stack = await LocalWorkspace.selectStack({ stackName: opts.stackName, workDir: opts.workDir }, { pulumiCommand });
    // Same policy gate as every other deploy path: the pack with the config of the stack's environment.
    const environment = (await stack.getConfig(`${CONFIG_NAMESPACE}:environment`)).value;
    const policyConfig = path.join(opts.policyDir, "policy", "config", `${environment}.json`);
    if (!fs.existsSync(policyConfig)) {
        throw new Error(`no policy config for environment "${environment}" of stack "${opts.stackName}" (${policyConfig})`);
    }
    const policy = { policyPacks: [path.join(opts.policyDir, "policy")], policyPackConfigs: [policyConfig] };

    return {
        stackName: opts.stackName,
        async readAppsConfig() {
            // `config get --json` of a structured value: `objectValue` (parsed) and `value` (JSON text).
            const cv = (await stack.getConfig(`${CONFIG_NAMESPACE}:apps`, true)) as { value: string; objectValue?: unknown };
            if (cv.objectValue !== undefined) return cv.objectValue;
            try {
                return JSON.parse(cv.value) as unknown;
            } catch {
                throw new Error(`${CONFIG_NAMESPACE}:apps of stack "${opts.stackName}" is not a structured object`);
            }
        },
        setConfig: (key, value) => stack.setConfig(key, { value }, true),
        removeConfig: (key) => stack.removeConfig(key, true),
        async up(message, onOutput) {
            const res = await stack.up({ message, onOutput, ...policy });
            const changes: Record<string, number> = {};
            for (const [op, n] of Object.entries(res.summary.resourceChanges ?? {})) {
                if (typeof n === "number") changes[op] = n;
            }
            return { result: res.summary.result, changes };
        },
    };
}
