// The prerequisites of the dev stack (`npm run up`, `preview`, `destroy`), checked all at once
// before anything runs, so one run lists everything that is missing, each with how to get it.
// Nothing is installed or downloaded here. Tools are looked up on PATH, as the stack will run them.
//   tsx scripts/lib/prerequisites.ts     prints what is missing (exit 1) or nothing (exit 0)
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as semver from "semver";
import { TOOLS } from "../../components/versions";
import { fetchedWrapperCli, installedPulumi } from "./pulumiCli";

const PROJECT_DIR = path.resolve(__dirname, "..", "..");

export interface Missing {
    /** What is needed, e.g. "kind >= v0.33.0". */
    need: string;
    /** What was found instead. */
    found: string;
    /** How to get it. */
    fix: string;
}

interface Run {
    /** false when the command is not on PATH. */
    onPath: boolean;
    status: number | null;
    output: string;
}

type Runner = (command: string, args: string[]) => Run;

const spawnRunner =
    (env: NodeJS.ProcessEnv): Runner =>
    (command, args) => {
        const r = spawnSync(command, args, { encoding: "utf8", env, timeout: 30_000 });
        const notFound = (r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
        return { onPath: !notFound, status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}`.trim() };
    };

const lastLine = (text: string) => text.split("\n").filter(Boolean).pop()?.trim() ?? "";

/** The Node.js range of package.json's `engines.node`. */
export function requiredNode(projectDir = PROJECT_DIR): string {
    const pkg = JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as { engines?: { node?: string } };
    return pkg.engines?.node ?? ">=22";
}

export function checkNode(run: Runner, range: string): Missing | undefined {
    const need = `Node.js ${range.replace(/^>=\s*/, ">= ")}`;
    const fix = "install Node.js 22 or 24 (LTS): https://nodejs.org/en/download, or with nvm: `nvm install 22 && nvm use 22`";
    const r = run("node", ["--version"]);
    if (!r.onPath) return { need, found: "node is not on PATH", fix };
    const version = semver.coerce(r.output)?.version;
    if (!version || !semver.satisfies(version, range)) return { need, found: `node ${r.output || "(no version)"} on PATH`, fix };
    return undefined;
}

export function checkDocker(run: Runner): Missing | undefined {
    const need = "a running Docker engine";
    const install =
        "install Docker Engine (Linux: https://docs.docker.com/engine/install/) or Docker Desktop (macOS, Windows: https://docs.docker.com/desktop/), then start it";
    const r = run("docker", ["info", "--format", "{{.ServerVersion}}"]);
    if (!r.onPath) return { need, found: "docker is not on PATH", fix: install };
    if (r.status !== 0 || r.output === "")
        return {
            need,
            found: `the docker client is installed but no engine answers (${lastLine(r.output) || `docker info: exit ${r.status}`})`,
            fix: "start the engine: `sudo systemctl start docker` (Linux) or open Docker Desktop; `docker info` must work",
        };
    return undefined;
}

export function checkKind(run: Runner, pinned: string): Missing | undefined {
    const need = `kind >= ${pinned} (the release that published the pinned node image)`;
    const fix = `install kind ${pinned}: \`go install sigs.k8s.io/kind@${pinned}\`, or its release binary (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)`;
    const r = run("kind", ["version"]);
    if (!r.onPath) return { need, found: "kind is not on PATH", fix };
    const found = /v?\d+\.\d+\.\d+/.exec(r.output)?.[0];
    if (!found || !semver.valid(found) || semver.lt(found, pinned))
        return { need, found: found ? `kind ${found}` : `\`kind version\` printed "${lastLine(r.output)}"`, fix };
    return undefined;
}

export function checkKubectl(run: Runner, pinned: string): Missing | undefined {
    const r = run("kubectl", ["version", "--client"]);
    if (r.onPath && r.status === 0) return undefined;
    return {
        need: "kubectl",
        found: r.onPath ? `\`kubectl version --client\` failed (${lastLine(r.output)})` : "kubectl is not on PATH",
        fix: `install kubectl ${pinned} (https://kubernetes.io/docs/tasks/tools/)`,
    };
}

export function checkPulumi(env: NodeJS.ProcessEnv, projectDir = PROJECT_DIR): Missing | undefined {
    if (installedPulumi(env.PATH ?? "") || fetchedWrapperCli(projectDir, env)) return undefined;
    return {
        need: "the Pulumi CLI",
        found: "no `pulumi` on PATH, and the npm package's wrapper has not fetched one",
        fix:
            "install it (https://www.pulumi.com/docs/iac/download-install/, e.g. `curl -fsSL https://get.pulumi.com | sh`), " +
            "or let the npm wrapper download it once: `npx pulumi version`",
    };
}

/** Everything the dev stack needs that this machine lacks, in a fixed order. */
export function missingPrerequisites(env: NodeJS.ProcessEnv = process.env, run: Runner = spawnRunner(env)): Missing[] {
    return [
        checkDocker(run),
        checkKind(run, TOOLS.kind.version),
        checkKubectl(run, TOOLS.kubectl.version),
        checkPulumi(env),
        checkNode(run, requiredNode()),
    ].filter((m): m is Missing => m !== undefined);
}

export function missingReport(missing: readonly Missing[], command: string): string {
    return [
        `${command} needs ${missing.length === 1 ? "one more thing" : `${missing.length} more things`} on this machine (nothing was started):`,
        ...missing.flatMap((m) => [`  - ${m.need}: ${m.found}`, `      ${m.fix}`]),
        "Without Docker and a cluster, `npm run dev` runs both apps on this machine (Node.js only).",
    ].join("\n");
}

if (require.main === module) {
    const missing = missingPrerequisites();
    if (missing.length > 0) {
        process.stderr.write(`${missingReport(missing, process.argv[2] ?? "the dev stack")}\n`);
        process.exitCode = 1;
    }
}
