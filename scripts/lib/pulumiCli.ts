// Which Pulumi CLI the tools run: an installed `pulumi` on PATH wins; otherwise the npm `pulumi`
// package's wrapper (node_modules/.bin), which downloads a CLI on first use. When neither works,
// the error says what failed and how to install the CLI (the wrapper alone prints only
// "pulumi: fetch failed" without internet).
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const INSTALL_HINT = "install the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/) and put `pulumi` on PATH";

export class PulumiCliMissingError extends Error {
    override name = "PulumiCliMissingError";
}

export type PulumiCli =
    /** An installed CLI: `<root>/bin/pulumi` (what the Automation API's PulumiCommand expects). */
    | { kind: "installed"; bin: string; root: string }
    /** The npm wrapper; it has already fetched its CLI. */
    | { kind: "npm-wrapper"; bin: string };

const isNodeModulesBin = (dir: string) => /[\\/]node_modules[\\/]\.bin[\\/]?$/.test(dir);

/** First executable `pulumi` on PATH outside node_modules/.bin (npm run puts the wrapper first). */
export function installedPulumi(envPath: string = process.env.PATH ?? ""): string | undefined {
    for (const dir of envPath.split(path.delimiter).filter((d) => d && !isNodeModulesBin(d))) {
        const candidate = path.join(dir, "pulumi");
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            if (fs.statSync(candidate).isFile()) return fs.realpathSync(candidate);
        } catch {
            // not here
        }
    }
    return undefined;
}

/**
 * The CLI the npm wrapper has already fetched, if any: it keeps one per version under
 * $PULUMI_HOME/versions/<version>/bin (default ~/.pulumi), the Automation API's install layout.
 */
export function fetchedWrapperCli(projectDir: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
    const pkg = path.join(projectDir, "node_modules", "pulumi", "package.json");
    if (!fs.existsSync(pkg)) return undefined;
    const version = env.PULUMI_VERSION || (JSON.parse(fs.readFileSync(pkg, "utf8")) as { version?: string }).version;
    if (!version) return undefined;
    const home = env.PULUMI_HOME || path.join(env.HOME || os.homedir(), ".pulumi");
    const bin = path.join(home, "versions", version, "bin", "pulumi");
    try {
        fs.accessSync(bin, fs.constants.X_OK);
        return bin;
    } catch {
        return undefined;
    }
}

/** The CLI to run, checked to start; throws PulumiCliMissingError naming what failed. */
export function resolvePulumiCli(projectDir: string, envPath: string = process.env.PATH ?? ""): PulumiCli {
    const installed = installedPulumi(envPath);
    if (installed) return { kind: "installed", bin: installed, root: path.dirname(path.dirname(installed)) };

    const wrapper = path.join(projectDir, "node_modules", ".bin", "pulumi");
    if (!fs.existsSync(wrapper))
        throw new PulumiCliMissingError(
            `the Pulumi CLI is missing: no \`pulumi\` on PATH and no npm wrapper (run \`npm ci\`); ${INSTALL_HINT}`,
        );
    const probe = spawnSync(wrapper, ["version"], { encoding: "utf8", timeout: 300_000 });
    if (probe.status !== 0) {
        const why =
            `${probe.stderr ?? ""}${probe.stdout ?? ""}`.trim().split("\n").slice(-3).join(" ") ||
            probe.error?.message ||
            `exit ${probe.status}`;
        throw new PulumiCliMissingError(
            `the Pulumi CLI is missing: no \`pulumi\` on PATH, and the npm package "pulumi" could not fetch one (${why}); ${INSTALL_HINT}`,
        );
    }
    return { kind: "npm-wrapper", bin: wrapper };
}

// `tsx scripts/lib/pulumiCli.ts` prints the CLI path for the shell scripts (one resolution logic).
if (require.main === module) {
    try {
        process.stdout.write(`${resolvePulumiCli(path.resolve(__dirname, "..", "..")).bin}\n`);
    } catch (err) {
        process.stderr.write(`error: ${(err as Error).message}\n`);
        process.exitCode = 1;
    }
}
