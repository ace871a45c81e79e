// Graceful shutdown of the real process: SIGTERM stops accepting, closes idle keep-alive
// connections, lets in-flight requests finish with `Connection: close`, closes the pool and exits
// 0 within the grace period; a forced shutdown (grace period exceeded) exits non-zero.
// The processes run the apps built once for the run; every step waits for an event (a request
// reaching the users stand-in, a refused connection), never for a fixed time.
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as http from "node:http";
import * as path from "node:path";
import {
    builtEntry,
    closedPort,
    deferred,
    pgliteDataDir,
    request,
    scratchDbEnv,
    Stub,
    stubServer,
    testAuth,
    until,
} from "../../service-kit/test/helpers";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const ORDER = { items: [{ sku: "A", quantity: 1, unitPriceCents: 1 }] };

async function startProcess(
    app: string,
    env: Record<string, string>,
): Promise<{ child: ChildProcess; exited: Promise<number | null>; output: () => string }> {
    let out = "";
    const child = spawn(process.execPath, [await builtEntry(app)], {
        cwd: ROOT,
        // PGlite unless the test gives a PostgreSQL database.
        env: {
            ...process.env,
            LOG_LEVEL: "info",
            HOST: "127.0.0.1",
            ...(env.DATABASE_URL ? {} : { DATA_DIR: await pgliteDataDir() }),
            ...(await testAuth()).env,
            ...env,
        },
        stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    return { child, exited, output: () => out };
}

async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
    await until(
        `${url} is ready`,
        () =>
            request(url, "GET", "/readyz").then(
                (r) => r.status === 200,
                () => false,
            ),
        timeoutMs,
    );
}

/** Resolves once a new connection to `url` is refused. */
function refusesConnections(url: string): Promise<void> {
    return until(`${url} refuses new connections`, () =>
        request(url, "GET", "/healthz").then(
            () => false,
            (err: Error) => /ECONNREFUSED/.test(err.message),
        ),
    );
}

/** One request on a given keep-alive agent. */
function keepAliveRequest(agent: http.Agent, url: string, method: string, p: string, headers: Record<string, string>, body?: unknown) {
    return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = http.request(
            new URL(p, url),
            { method, agent, headers: payload ? { ...headers, "content-type": "application/json" } : headers },
            (res) => {
                let text = "";
                res.on("data", (c) => (text += c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
            },
        );
        req.on("error", reject);
        req.end(payload);
    });
}

/**
 * A users stand-in that holds each profile lookup until the test releases it (or forever):
 * `arrived` resolves when orders is in the middle of a POST.
 */
async function heldUsers(): Promise<{ stub: Stub; arrived: Promise<void>; release(): void }> {
    const arrived = deferred();
    const released = deferred();
    const stub = await stubServer((req, res) => {
        if (req.url === "/healthz") return void res.writeHead(200).end("{}");
        arrived.resolve();
        void released.promise.then(() =>
            res.writeHead(200, { "content-type": "application/json" }).end('{"id":"0190a6f0-0000-7000-8000-0000000000ab"}'),
        );
    });
    return { stub, arrived: arrived.promise, release: () => released.resolve() };
}

describe("graceful shutdown (SIGTERM)", function () {
    // Each test starts a real process (node + PGlite), slow on a busy machine.
    this.timeout(120_000);
    let stub: Stub | undefined;
    let proc: Awaited<ReturnType<typeof startProcess>> | undefined;
    let auth: Record<string, string>;
    before(async () => {
        auth = await (await testAuth()).as("shutdown-buyer");
    });
    afterEach(async () => {
        if (proc && proc.child.exitCode === null) proc.child.kill("SIGKILL");
        await stub?.close();
        stub = undefined;
    });

    /** orders as a real process calling a users stand-in that holds its answers; resolves once ready. */
    async function startOrders(env: Record<string, string>): Promise<{ url: string; users: Awaited<ReturnType<typeof heldUsers>> }> {
        const users = await heldUsers();
        stub = users.stub;
        const port = await closedPort();
        proc = await startProcess("orders", { PORT: String(port), USERS_URL: users.stub.url, ...(await scratchDbEnv()), ...env });
        const url = `http://127.0.0.1:${port}`;
        await waitReady(url);
        return { url, users };
    }

    it("orders finishes the in-flight POST with Connection: close, refuses new connections, exits 0", async () => {
        const { url, users } = await startOrders({ USERS_TIMEOUT_MS: "30000", SHUTDOWN_GRACE_SECONDS: "10" });
        const inFlight = request(url, "POST", "/api/orders", { body: ORDER, headers: auth });
        await users.arrived; // the POST is being served
        const signalled = Date.now();
        proc!.child.kill("SIGTERM");
        await refusesConnections(url);
        users.release();
        const res = await inFlight;
        assert.equal(res.status, 201, res.text);
        assert.equal(res.headers.connection, "close");
        const code = await proc!.exited;
        assert.equal(code, 0, proc!.output());
        assert.ok(Date.now() - signalled < 10_000);
        assert.match(proc!.output(), /"msg":"shutting down"/);
        assert.match(proc!.output(), /"msg":"stopped"/);
    });

    it("keep-alive clients: an idle connection is closed at SIGTERM, a busy one gets Connection: close; no request is reset", async () => {
        const { url, users } = await startOrders({ USERS_TIMEOUT_MS: "30000", SHUTDOWN_GRACE_SECONDS: "10" });
        const idleAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        const busyAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
            // Both connections are open and kept alive.
            for (const agent of [idleAgent, busyAgent]) {
                const warm = await keepAliveRequest(agent, url, "GET", "/healthz", {});
                assert.equal(warm.headers.connection, "keep-alive");
            }
            const idleSocket = Object.values(idleAgent.freeSockets).flat()[0]!;
            const idleClosed = new Promise<void>((resolve) => idleSocket.once("close", () => resolve()));
            const busy = keepAliveRequest(busyAgent, url, "POST", "/api/orders", auth, ORDER);
            await users.arrived;
            proc!.child.kill("SIGTERM");
            await idleClosed; // the server closed the idle connection: the client will not send on it
            users.release();
            const done = await busy;
            assert.equal(done.status, 201, done.body);
            assert.equal(done.headers.connection, "close");
            // A request after the signal opens a new connection, which is refused cleanly (never reset mid-flight).
            await assert.rejects(keepAliveRequest(idleAgent, url, "GET", "/healthz", {}), /ECONNREFUSED/);
            assert.equal(await proc!.exited, 0, proc!.output());
        } finally {
            idleAgent.destroy();
            busyAgent.destroy();
        }
    });

    it("a forced shutdown (grace period exceeded) exits non-zero", async () => {
        const { url, users } = await startOrders({ USERS_TIMEOUT_MS: "30000", SHUTDOWN_GRACE_SECONDS: "1" });
        const stuck = request(url, "POST", "/api/orders", { body: ORDER, headers: auth }).catch((err: Error) => err);
        await users.arrived; // never released
        const signalled = Date.now();
        proc!.child.kill("SIGTERM");
        const code = await proc!.exited;
        assert.notEqual(code, 0, proc!.output());
        assert.ok(Date.now() - signalled < 5_000, `took ${Date.now() - signalled} ms`);
        assert.match(proc!.output(), /shutdown deadline reached|grace period exceeded/);
        assert.ok((await stuck) instanceof Error, "the stuck request was cut off");
    });

    it("an idle users process on its embedded PGlite exits 0 promptly", async () => {
        const port = await closedPort();
        proc = await startProcess("users", { PORT: String(port) });
        await waitReady(`http://127.0.0.1:${port}`);
        const signalled = Date.now();
        proc.child.kill("SIGTERM");
        assert.equal(await proc.exited, 0, proc.output());
        assert.ok(Date.now() - signalled < 3_000, `took ${Date.now() - signalled} ms`);
    });
});
