// StackDriver over the Pulumi Automation API (local workspace = this repository's program).
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand } from "@pulumi/pulumi/automation";
import type { PulumiCli } from "../lib/pulumiCli";
import { CONFIG_NAMESPACE, type StackDriver } from "./stackDriver";

export interface AutomationDriverOptions {
    stackName: string;
    /** Directory holding Pulumi.yaml. */
    workDir: string;
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
    // Same policy gate as every other deploy path.
    const policyConfig = path.join(opts.workDir, "policy", "config", `${opts.stackName}.json`);
    const policy = fs.existsSync(policyConfig)
        ? { policyPacks: [path.join(opts.workDir, "policy")], policyPackConfigs: [policyConfig] }
        : {};

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
