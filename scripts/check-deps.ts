// npm run check:deps — checks every locked npm package against the registry (online):
//   - a locked @pulumi/* package (or the pulumi CLI package) newer than its `latest` tag, or on
//     another major line than `latest`, is refused: that is how a stray publication (e.g.
//     @pulumi/command 4.5.0 when the provider's line is 1.x) slipped into the lockfile;
//   - a locked version the registry marks deprecated is refused.
// Exit 0 clean, 1 problems found, 2 the registry could not be read.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as semver from "semver";
import { parseCommandLine, wantsHelp } from "./lib/cliArgs";

const ROOT = path.resolve(__dirname, "..");
const LOCKFILES = ["package-lock.json", "apps/image/package-lock.json"];
const CONCURRENCY = 12;

interface Locked {
    name: string;
    version: string;
    lockfile: string;
}

interface Packument {
    "dist-tags"?: Record<string, string>;
    versions?: Record<string, { deprecated?: string }>;
}

/** Every registry package of a lockfile (workspace links and local paths excluded). */
export function lockedPackages(
    lockfile: string,
    lock: { packages?: Record<string, { version?: string; link?: boolean; resolved?: string }> },
): Locked[] {
    const out: Locked[] = [];
    for (const [key, entry] of Object.entries(lock.packages ?? {})) {
        const at = key.lastIndexOf("node_modules/");
        if (at < 0 || entry.link || !entry.version || (entry.resolved && !/^https?:/.test(entry.resolved))) continue;
        out.push({ name: key.slice(at + "node_modules/".length), version: entry.version, lockfile });
    }
    return out;
}

/** Problems of one locked package given its registry document. */
export function packageProblems(pkg: Locked, doc: Packument): string[] {
    const problems: string[] = [];
    const where = `${pkg.name}@${pkg.version} (${pkg.lockfile})`;
    const deprecated = doc.versions?.[pkg.version]?.deprecated;
    if (deprecated) problems.push(`${where} is deprecated: ${deprecated}`);
    if (pkg.name.startsWith("@pulumi/") || pkg.name === "pulumi") {
        const latest = doc["dist-tags"]?.latest;
        if (!latest) problems.push(`${where}: the registry has no latest tag`);
        else if (!semver.valid(pkg.version) || !semver.valid(latest))
            problems.push(`${where}: "${semver.valid(pkg.version) ? latest : pkg.version}" is not a SemVer version`);
        else if (semver.major(pkg.version) !== semver.major(latest))
            problems.push(
                `${where} is on another major line than latest ${latest}: a stray publication? check \`npm view ${pkg.name} dist-tags\``,
            );
        else if (semver.gt(pkg.version, latest))
            problems.push(`${where} is newer than latest ${latest}: not a release of this line; check \`npm view ${pkg.name} dist-tags\``);
    }
    return problems;
}

function registryUrl(): string {
    try {
        return execFileSync("npm", ["config", "get", "registry"], { cwd: ROOT, encoding: "utf8" }).trim().replace(/\/?$/, "/");
    } catch {
        return "https://registry.npmjs.org/";
    }
}

async function fetchPackument(registry: string, name: string): Promise<Packument> {
    const url = registry + name.replace("/", "%2F");
    for (let attempt = 1; ; attempt++) {
        try {
            // The abbreviated document carries dist-tags and per-version deprecation notices.
            const res = await fetch(url, {
                headers: { accept: "application/vnd.npm.install-v1+json" },
                signal: AbortSignal.timeout(30_000),
            });
            if (!res.ok) throw new Error(`HTTP ${res.status}`);
            return (await res.json()) as Packument;
        } catch (err) {
            if (attempt >= 3) throw new Error(`${url}: ${(err as Error).message}`, { cause: err });
            await new Promise((r) => setTimeout(r, 500 * attempt));
        }
    }
}

async function main(): Promise<number> {
    const registry = registryUrl();
    const locked = LOCKFILES.filter((f) => fs.existsSync(path.join(ROOT, f))).flatMap((f) =>
        lockedPackages(f, JSON.parse(fs.readFileSync(path.join(ROOT, f), "utf8"))),
    );
    const names = [...new Set(locked.map((p) => p.name))];
    const docs = new Map<string, Packument>();
    let failed: string | undefined;
    const queue = [...names];
    await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
            for (let name = queue.shift(); name && !failed; name = queue.shift()) {
                try {
                    docs.set(name, await fetchPackument(registry, name));
                } catch (err) {
                    failed = (err as Error).message;
                }
            }
        }),
    );
    if (failed) {
        process.stderr.write(`check:deps: cannot read the npm registry (${registry}): ${failed}\n`);
        return 2;
    }
    const problems = locked.flatMap((p) => packageProblems(p, docs.get(p.name)!));
    for (const p of problems) process.stderr.write(`check:deps: ${p}\n`);
    const pulumi = locked.filter((p) => p.name.startsWith("@pulumi/") || p.name === "pulumi");
    process.stdout.write(
        `check:deps: ${locked.length} locked packages (${names.length} names) in ${LOCKFILES.join(", ")}; ` +
            `${pulumi.map((p) => `${p.name}@${p.version}`).join(", ")} checked against latest; ` +
            `${problems.length} problem(s)\n`,
    );
    return problems.length ? 1 : 0;
}

export const USAGE = `usage: npm run check:deps

Checks every package locked in ${LOCKFILES.join(" and ")} against the npm registry (needs the
network; the registry is \`npm config get registry\`):
  - a locked @pulumi/* package (or the pulumi CLI package) newer than its latest tag, or on
    another major line than latest, is refused (a stray publication);
  - a locked version the registry marks deprecated is refused.
Versions are compared by SemVer precedence (pre-releases before their release).

options:
  -h, --help   this text

exit codes: 0 clean, 1 problems found, 2 the registry could not be read or invalid usage`;

if (require.main === module) {
    const argv = process.argv.slice(2);
    if (wantsHelp(argv)) {
        process.stdout.write(`${USAGE}\n`);
    } else {
        try {
            parseCommandLine(argv, {}, USAGE);
            main().then(
                (code) => (process.exitCode = code),
                (err: unknown) => {
                    process.stderr.write(`check:deps: ${err instanceof Error ? err.message : String(err)}\n`);
                    process.exitCode = 2;
                },
            );
        } catch (err) {
            process.stderr.write(`check:deps: ${(err as Error).message}\n`);
            process.exitCode = 2;
        }
    }
}
