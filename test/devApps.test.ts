// `npm run dev` (scripts/dev-apps.ts): settings from the environment, the refusal of a busy port
// before anything starts, and the readiness that counts only its own children. Everything listens
// on 127.0.0.1. The apps themselves are not started here (their own tests cover them).
import { strict as assert } from "node:assert";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { EventEmitter } from "node:events";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { childEnv, devSettings, DevUsageError, portProblem, waitUntilReady } from "../scripts/dev-apps";

const SCRIPT = path.join(__dirname, "..", "scripts", "dev-apps.ts");
const REPORTER = pathToFileURL(path.join(__dirname, "..", "scripts", "lib", "reportListening.ts")).href;

/** A server on 127.0.0.1 that answers every request (/readyz included) with 200, as a foreign app would. */
async function foreignServer(): Promise<{ port: number; close: () => Promise<void> }> {
    const server = http.createServer((_req, res) => res.end('{"status":"ok"}'));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        port: (server.address() as net.AddressInfo).port,
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
    const s = await foreignServer();
    await s.close();
    return s.port;
}

describe("npm run dev", function () {
    this.timeout(60_000);

    describe("settings", () => {
        it("listens on 127.0.0.1, 8081 and 8082 unless HOST, USERS_PORT, ORDERS_PORT say otherwise", () => {
            const d = devSettings({});
            assert.deepEqual(
                [d.host, d.connectHost, d.usersPort, d.ordersPort, d.logLevel],
                ["127.0.0.1", "127.0.0.1", 8081, 8082, "info"],
            );
            const all = devSettings({ HOST: "0.0.0.0", USERS_PORT: "18081", ORDERS_PORT: "18082", LOG_LEVEL: "warn" });
            assert.deepEqual(
                [all.host, all.connectHost, all.usersPort, all.ordersPort, all.logLevel],
                ["0.0.0.0", "127.0.0.1", 18081, 18082, "warn"],
            );
            assert.equal(devSettings({ HOST: "::" }).connectHost, "::1");
        });

        it("names the variable of a bad port", () => {
            const refused = (env: NodeJS.ProcessEnv, message: RegExp) =>
                assert.throws(
                    () => devSettings(env),
                    (err: unknown) => err instanceof DevUsageError && message.test(err.message),
                );
            refused({ USERS_PORT: "http" }, /^USERS_PORT=http: must be a port number from 1 to 65535$/);
            refused({ ORDERS_PORT: "70000" }, /^ORDERS_PORT=70000: must be a port number from 1 to 65535$/);
            refused({ USERS_PORT: "9000", ORDERS_PORT: "9000" }, /^USERS_PORT and ORDERS_PORT are both 9000: give each app its own port$/);
        });

        it("gives each app HOST, its port, the embedded database and the local key; orders finds users", () => {
            const settings = devSettings({ USERS_PORT: "18081", ORDERS_PORT: "18082" });
            const base = { PATH: "/bin", DATABASE_URL: "postgres://elsewhere", AUTH_JWKS_URI: "https://idp.example.com/jwks" };
            const users = childEnv("users", settings, { AUTH_ISSUER: "orders-platform-dev" }, base);
            const orders = childEnv("orders", settings, {}, base);
            assert.equal(users.HOST, "127.0.0.1");
            assert.equal(users.PORT, "18081");
            assert.equal(users.AUTH_ISSUER, "orders-platform-dev");
            assert.equal(users.DATABASE_URL, undefined);
            assert.equal(users.AUTH_JWKS_URI, undefined);
            assert.equal(orders.PORT, "18082");
            assert.equal(orders.USERS_URL, "http://127.0.0.1:18081");
            assert.equal(childEnv("users", devSettings({ HOST: "0.0.0.0" }), {}, base).HOST, "0.0.0.0");
        });
    });

    describe("a busy port", () => {
        it("is found by listening and by connecting, and the message names the variable to change", async () => {
            const foreign = await foreignServer();
            try {
                assert.equal(
                    await portProblem("127.0.0.1", "127.0.0.1", foreign.port, "USERS_PORT"),
                    `port ${foreign.port} on 127.0.0.1 is in use by another process (USERS_PORT=${foreign.port}); ` +
                        `set USERS_PORT to a free port, e.g. USERS_PORT=${foreign.port + 10000 <= 65535 ? foreign.port + 10000 : 18080} npm run dev`,
                );
                // Every interface includes 127.0.0.1.
                assert.match((await portProblem("0.0.0.0", "127.0.0.1", foreign.port, "ORDERS_PORT")) ?? "", /is in use .*set ORDERS_PORT/);
            } finally {
                await foreign.close();
            }
            assert.equal(await portProblem("127.0.0.1", "127.0.0.1", await freePort(), "USERS_PORT"), undefined);
        });

        it("stops the script before anything starts: message, exit 1, no data directory, no banner", async () => {
            const foreign = await foreignServer();
            const dataDir = path.join(os.tmpdir(), `dev-apps-never-${process.pid}`);
            try {
                const ordersPort = await freePort();
                const r = spawnSync(process.execPath, ["--import", "tsx", SCRIPT], {
                    encoding: "utf8",
                    env: { ...process.env, USERS_PORT: String(foreign.port), ORDERS_PORT: String(ordersPort), DEV_DATA_DIR: dataDir },
                    timeout: 60_000,
                });
                assert.equal(r.status, 1, r.stderr);
                assert.match(
                    r.stderr,
                    new RegExp(
                        `^dev: port ${foreign.port} on 127\\.0\\.0\\.1 is in use by another process \\(USERS_PORT=${foreign.port}\\); set USERS_PORT to a free port`,
                    ),
                );
                assert.doesNotMatch(r.stderr, /ORDERS_PORT/);
                assert.equal(r.stdout, "", "no banner, no app output");
                assert.equal(fs.existsSync(dataDir), false, "nothing started");
            } finally {
                await foreign.close();
            }
        });
    });

    describe("readiness", () => {
        /** A stand-in for a child process that never listens itself. */
        const fakeChild = () => Object.assign(new EventEmitter(), { exitCode: null, signalCode: null }) as unknown as ChildProcess;

        it("never counts another process answering /readyz on the child's port, and fails when the child exits", async () => {
            const foreign = await foreignServer();
            try {
                const child = fakeChild();
                let settled = false;
                const ready = waitUntilReady({ name: "users", port: foreign.port, connectHost: "127.0.0.1" }, child, { intervalMs: 20 });
                ready.then(
                    () => (settled = true),
                    () => (settled = true),
                );
                await new Promise((r) => setTimeout(r, 300));
                assert.equal(settled, false, "a foreign answer on the port is not the child being ready");
                child.emit("exit", 1, null);
                await assert.rejects(ready, /^Error: users exited \(code 1\) before it was ready; its log is above$/);
                await assert.rejects(
                    waitUntilReady({ name: "orders", port: foreign.port, connectHost: "127.0.0.1" }, fakeChild(), {
                        timeoutMs: 200,
                        intervalMs: 20,
                    }),
                    /^Error: orders did not start listening on port \d+ within 0\.2 s$/,
                );
            } finally {
                await foreign.close();
            }
        });

        it("is reached when the child itself reports listening on the port and answers /readyz", async () => {
            const port = await freePort();
            const program = `require("node:http").createServer((q, s) => s.end("ok")).listen(${port}, "127.0.0.1")`;
            const child = spawn(process.execPath, ["--import", "tsx", "--import", REPORTER, "-e", program], {
                stdio: ["ignore", "ignore", "inherit", "ipc"],
            });
            try {
                await waitUntilReady({ name: "users", port, connectHost: "127.0.0.1" }, child, { intervalMs: 50, timeoutMs: 30_000 });
            } finally {
                child.kill();
            }
        });
    });
});
