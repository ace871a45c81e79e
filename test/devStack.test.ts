// `npm run up` (scripts/dev-stack.sh) checks every prerequisite before anything runs and lists all
// that are missing in one run. The script runs for real, with a PATH of stand-in tools only.
import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TOOLS } from "../components/versions";

const SCRIPT = path.join(__dirname, "..", "scripts", "dev-stack.sh");

/** The `- need: found` lines of the report, and the install line after each. */
function listed(stderr: string): Array<[string, string]> {
    const lines = stderr.split("\n");
    return lines.flatMap((line, i) => (line.startsWith("  - ") ? [[line.slice(4), lines[i + 1]?.trim() ?? ""] as [string, string]] : []));
}

describe("npm run up: prerequisites", function () {
    this.timeout(60_000);
    let dir: string;
    let bin: string;
    let calls: string;

    /** An executable in the stand-in PATH; every call is logged. */
    function tool(name: string, body: string): void {
        fs.writeFileSync(path.join(bin, name), `#!/bin/sh\necho "${name} $*" >> "${calls}"\n${body}\n`, { mode: 0o755 });
    }

    /** `node` that reports `version` and otherwise is the real node (the script's own helpers run on it). */
    function node(version: string): void {
        fs.writeFileSync(
            path.join(bin, "node"),
            `#!/bin/sh\nif [ "$1" = "--version" ]; then echo ${version}; exit 0; fi\nexec "${process.execPath}" "$@"\n`,
            {
                mode: 0o755,
            },
        );
    }

    function up(): { status: number | null; stdout: string; stderr: string } {
        return spawnSync("/bin/bash", [SCRIPT, "up"], {
            encoding: "utf8",
            // Nothing from the real PATH: only the stand-ins and `dirname`, which the script uses first.
            env: { PATH: bin, HOME: dir, PULUMI_HOME: path.join(dir, "pulumi-home"), LANG: "C" },
            timeout: 60_000,
        });
    }

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "dev-stack-"));
        bin = path.join(dir, "bin");
        calls = path.join(dir, "calls.log");
        fs.mkdirSync(bin);
        fs.writeFileSync(calls, "");
        const dirname = ["/usr/bin/dirname", "/bin/dirname"].find((p) => fs.existsSync(p))!;
        fs.symlinkSync(dirname, path.join(bin, "dirname"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("lists every missing tool in one run, each with how to get it, and starts nothing", () => {
        node("v20.11.1");
        const r = up();
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /^npm run up needs 5 more things on this machine \(nothing was started\):\n/);
        assert.deepEqual(
            listed(r.stderr).map(([need]) => need),
            [
                "a running Docker engine: docker is not on PATH",
                `kind >= ${TOOLS.kind.version} (the release that published the pinned node image): kind is not on PATH`,
                "kubectl: kubectl is not on PATH",
                "the Pulumi CLI: no `pulumi` on PATH, and the npm package's wrapper has not fetched one",
                "Node.js >= 22: node v20.11.1 on PATH",
            ],
        );
        const fixes = listed(r.stderr).map(([, fix]) => fix);
        assert.match(fixes[0], /^install Docker Engine \(Linux: https:\/\/docs\.docker\.com\/engine\/install\/\) or Docker Desktop/);
        assert.equal(
            fixes[1].startsWith(`install kind ${TOOLS.kind.version}: \`go install sigs.k8s.io/kind@${TOOLS.kind.version}\``),
            true,
            fixes[1],
        );
        assert.match(
            fixes[2],
            new RegExp(`^install kubectl ${TOOLS.kubectl.version.replace(/\./g, "\\.")} \\(https://kubernetes\\.io/docs/tasks/tools/\\)`),
        );
        assert.match(fixes[3], /^install it \(https:\/\/www\.pulumi\.com\/docs\/iac\/download-install\/.*`npx pulumi version`/);
        assert.match(fixes[4], /^install Node\.js 22 or 24 \(LTS\)/);
        assert.equal(r.stdout, "");
    });

    it("wants a Docker engine that answers, not just the client, and kind at the pinned release or newer", () => {
        node("v22.12.0");
        tool(
            "docker",
            'echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1',
        );
        tool("kind", 'echo "kind v0.20.0 go1.20.4 linux/amd64"');
        tool("kubectl", 'echo "Client Version: v1.35.10"');
        tool("pulumi", 'echo "v3.248.0"');
        const r = up();
        assert.equal(r.status, 1, r.stderr);
        assert.deepEqual(
            listed(r.stderr).map(([need]) => need),
            [
                "a running Docker engine: the docker client is installed but no engine answers " +
                    "(Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?)",
                `kind >= ${TOOLS.kind.version} (the release that published the pinned node image): kind v0.20.0`,
            ],
        );
        assert.match(listed(r.stderr)[0][1], /^start the engine: `sudo systemctl start docker` \(Linux\) or open Docker Desktop/);
        // Only the checks ran: no `pulumi` command, no cluster, no stack.
        assert.deepEqual(fs.readFileSync(calls, "utf8").split("\n").filter(Boolean).sort(), [
            "docker info --format {{.ServerVersion}}",
            "kind version",
            "kubectl version --client",
        ]);
    });

    it("answers --help with its actions and prerequisites", () => {
        const r = spawnSync("/bin/bash", [SCRIPT, "up", "--help"], { encoding: "utf8" });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, /^usage: npm run up \| npm run preview \| npm run destroy/);
        assert.match(r.stdout, /a running Docker engine, kind \(the pinned release or newer\), kubectl, the Pulumi CLI,\nNode\.js >= 22/);
    });
});
