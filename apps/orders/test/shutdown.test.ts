// Graceful shutdown of the real process: SIGTERM stops accepting, closes idle keep-alive
// connections, lets in-flight requests finish with `Connection: close`, closes the pool and exits
// 0 within the grace period; a forced shutdown (grace period exceeded) exits non-zero.
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as http from "node:http";
import * as path from "node:path";
import { closedPort, pgliteDataDir, request, Stub, stubServer, testAuth } from "../../service-kit/test/helpers";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const ORDER = { items: [{ sku: "A", quantity: 1, unitPriceCents: 1 }] };

async function startProcess(
    app: string,
    env: Record<string, string>,
): Promise<{ child: ChildProcess; exited: Promise<number | null>; output: () => string }> {
    let out = "";
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "apps", app, "src", "main.ts")], {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: "info", HOST: "127.0.0.1", DATA_DIR: await pgliteDataDir(), ...(await testAuth()).env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    return { child, exited, output: () => out };
}

async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        try {
            if ((await request(url, "GET", "/readyz")).status === 200) return;
        } catch {
            /* not listening yet */
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${url} not ready`);
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

/** A users stand-in that answers the profile lookup after `delayMs` (or never). */
function slowUsers(delayMs: number | "never"): Promise<Stub> {
    return stubServer((req, res) => {
        if (req.url === "/healthz") return void res.writeHead(200).end("{}");
        if (delayMs === "never") return;
        setTimeout(
            () => res.writeHead(200, { "content-type": "application/json" }).end('{"id":"0190a6f0-0000-7000-8000-0000000000ab"}'),
            delayMs,
        );
    });
}

describe("graceful shutdown (SIGTERM)", function () {
    // Each test starts a real process (tsx + PGlite), slow on a busy machine.
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

    /** orders as a real process calling a users stand-in that answers after `usersDelayMs`; resolves once ready. */
    async function startOrders(usersDelayMs: number | "never", env: Record<string, string>): Promise<string> {
        stub = await slowUsers(usersDelayMs);
        const port = await closedPort();
        proc = await startProcess("orders", { PORT: String(port), USERS_URL: stub.url, ...env });
        const url = `http://127.0.0.1:${port}`;
        await waitReady(url);
        return url;
    }

    it("orders finishes the in-flight POST with Connection: close, refuses new connections, exits 0", async () => {
        // users answers after 800 ms, so the POST is in flight when SIGTERM arrives.
        const url = await startOrders(800, { USERS_TIMEOUT_MS: "3000", SHUTDOWN_GRACE_SECONDS: "10" });
        const inFlight = request(url, "POST", "/api/orders", { body: ORDER, headers: auth });
        await new Promise((r) => setTimeout(r, 200));
        const signalled = Date.now();
        proc!.child.kill("SIGTERM");
        await new Promise((r) => setTimeout(r, 100));
        await assert.rejects(request(url, "GET", "/healthz"), /ECONNREFUSED/, "no new connections after SIGTERM");
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
        const url = await startOrders(600, { USERS_TIMEOUT_MS: "3000", SHUTDOWN_GRACE_SECONDS: "10" });
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
            await new Promise((r) => setTimeout(r, 200));
            proc!.child.kill("SIGTERM");
            await idleClosed; // the server closed the idle connection: the client will not send on it
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
        const url = await startOrders("never", { USERS_TIMEOUT_MS: "30000", SHUTDOWN_GRACE_SECONDS: "1" });
        const stuck = request(url, "POST", "/api/orders", { body: ORDER, headers: auth }).catch((err: Error) => err);
        await new Promise((r) => setTimeout(r, 200));
        const signalled = Date.now();
        proc!.child.kill("SIGTERM");
        const code = await proc!.exited;
        assert.notEqual(code, 0, proc!.output());
        assert.ok(Date.now() - signalled < 5_000, `took ${Date.now() - signalled} ms`);
        assert.match(proc!.output(), /shutdown deadline reached|grace period exceeded/);
        assert.ok((await stuck) instanceof Error, "the stuck request was cut off");
    });

    it("an idle users process exits 0 promptly", async () => {
        const port = await closedPort();
        proc = await startProcess("users", { PORT: String(port) });
        await waitReady(`http://127.0.0.1:${port}`);
        const signalled = Date.now();
        proc.child.kill("SIGTERM");
        assert.equal(await proc.exited, 0, proc.output());
        assert.ok(Date.now() - signalled < 3_000, `took ${Date.now() - signalled} ms`);
    });
});
