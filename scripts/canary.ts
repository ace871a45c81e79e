// npm run canary -- <app> --stack <stack> [--steps 10,25,50,100] [--window 5m] ...
// Steps a canary through its weights, checks Prometheus after each step, promotes or rolls back.
import * as path from "node:path";
import { loadAppCatalog } from "../components/config/appCatalog";
import { automationStackDriver } from "./canary/automationDriver";
import { systemClock } from "./canary/clock";
import { createOperationsLogger } from "./canary/logger";
import { parseCanaryArgs, USAGE, UsageError } from "./canary/options";
import { httpPrometheusClient } from "./canary/prometheus";
import { runCanary } from "./canary/run";
import { PulumiCliMissingError, resolvePulumiCli } from "./lib/pulumiCli";

const repoRoot = path.resolve(__dirname, "..");

async function main(argv: string[]): Promise<number> {
    let opts;
    try {
        opts = parseCanaryArgs(argv);
    } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
        return 2;
    }
    if (opts === "help") {
        process.stdout.write(`${USAGE}\n`);
        return 0;
    }

    const log = createOperationsLogger({
        file: path.resolve(repoRoot, opts.logFile ?? path.join("logs", "operations.log")),
        clock: systemClock,
        scope: `canary ${opts.app}@${opts.stack}`,
    });
    // Cheap checks first: an unknown app or a missing CLI is said before any stack work.
    const apps = [...loadAppCatalog().keys()];
    if (!apps.includes(opts.app)) {
        log.error(`unknown app "${opts.app}"; apps in this checkout: ${apps.join(", ")}`);
        return 2;
    }
    let cli;
    try {
        cli = resolvePulumiCli(repoRoot);
    } catch (err) {
        if (!(err instanceof PulumiCliMissingError)) throw err;
        log.error(err.message);
        return 2;
    }
    let driver;
    try {
        driver = await automationStackDriver({
            stackName: opts.stack,
            workDir: path.resolve(opts.cwd ?? repoRoot),
            policyDir: repoRoot,
            cli,
        });
    } catch (err) {
        log.error(`cannot select stack "${opts.stack}" with ${cli.bin}: ${(err as Error).message.split("\n").slice(0, 3).join(" ")}`);
        return 2;
    }
    const result = await runCanary(opts, {
        driver,
        prometheus: httpPrometheusClient(opts.prometheusUrl),
        clock: systemClock,
        log,
    });
    log.info(`result: ${result.outcome} (exit ${result.exitCode})`);
    return result.exitCode;
}

main(process.argv.slice(2)).then(
    (code) => {
        process.exitCode = code;
    },
    (err: unknown) => {
        process.stderr.write(`canary: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exitCode = 3;
    },
);
