// Every operator script answers --help with its usage and options (exit 0, on stdout), runs nothing
// else, and token's errors say what is allowed. The scripts run for real, all at once.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..");

interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
}

function run(command: string, args: string[]): Promise<Run> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}

const tsx = (script: string, ...args: string[]) => run(process.execPath, ["--import", "tsx", path.join("scripts", script), ...args]);
const sh = (script: string, ...args: string[]) => run("bash", [path.join("scripts", script), ...args]);

/** Each script, how --help is asked (as `npm run <name> -- --help` passes it), and what its usage must name. */
const SCRIPTS: Array<{ name: string; help: () => Promise<Run>; names: string[] }> = [
    {
        name: "token",
        help: () => tsx("token.ts", "--help"),
        names: ["--user", "--sub", "--admin", "--ttl", "--key-dir", "--env", "--stack", "--canary", "--help"],
    },
    {
        name: "render",
        help: () => tsx("render.ts", "--help"),
        names: ["--stack", "--out", "--image", ":canary=", "--no-policy", "--state-dir", "--help"],
    },
    {
        name: "role-kubeconfig",
        help: () => tsx("kind-role-kubeconfig.ts", "--help"),
        names: ["viewer", "operator", "database-admin", "--stack", "--user", "--hours", "--context", "--help"],
    },
    {
        name: "canary",
        help: () => tsx("canary.ts", "--help"),
        names: [
            "--stack",
            "--steps",
            "--window",
            "--max-error-rate",
            "--max-p99-ms",
            "--min-requests",
            "--max-holds",
            "--prometheus-url",
            "--log-file",
            "--cwd",
            "--dry-run",
            "--help",
        ],
    },
    { name: "check:deps", help: () => tsx("check-deps.ts", "--help"), names: ["npm run check:deps", "--help"] },
    {
        name: "dev",
        help: () => tsx("dev-apps.ts", "--help"),
        names: ["HOST", "USERS_PORT", "ORDERS_PORT", "DEV_DATA_DIR", "LOG_LEVEL", "127.0.0.1"],
    },
    {
        name: "up",
        help: () => sh("dev-stack.sh", "up", "--help"),
        names: ["up", "preview", "destroy", "STACK", "PULUMI_BACKEND_URL", "--help"],
    },
    {
        name: "engine:build",
        help: () => sh("engine/build.sh", "--help"),
        names: ["--print-root", "--sync-pulumi-version", "--jobs", "26 min", "--help"],
    },
    {
        name: "engine:cluster",
        help: () => sh("engine/cluster.sh", "--help"),
        names: ["up", "down", "env", "status", "check", "kubeconfig", "ENGINE_CLUSTER_NAME", "--help"],
    },
    { name: "engine:smoke", help: () => sh("engine/smoke.sh", "--help"), names: ["--keep", "26 min", "67-131 s", "--help"] },
    { name: "test:engine", help: () => sh("engine/test.sh", "--help"), names: ["--keep", "npm run engine:build", "8.5 min", "--help"] },
];

describe("scripts answer --help", function () {
    this.timeout(120_000);
    let results: Run[];
    before(async () => {
        results = await Promise.all(SCRIPTS.map((s) => s.help()));
    });

    for (const [i, script] of SCRIPTS.entries()) {
        it(`${script.name}: usage with its options, exit 0`, () => {
            const r = results[i];
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stdout, /usage:/i);
            for (const name of script.names)
                assert.ok(r.stdout.includes(name), `${script.name} --help does not name ${name}:\n${r.stdout}`);
            assert.equal(r.stderr, "", "nothing else ran");
        });
    }

    it("token --ttl 0 says what is allowed, not just the usage (exit 2)", async () => {
        const r = await tsx("token.ts", "--user", "alice", "--ttl", "0");
        assert.equal(r.status, 2);
        assert.equal(r.stdout, "");
        assert.equal(
            r.stderr,
            "token: --ttl 0: must be a whole number of seconds, 1 or more (default 3600, e.g. --ttl 900)\n(npm run token -- --help lists the options)\n",
        );
    });
});
