// Graceful shutdown of the real process: SIGTERM stops accepting, lets the in-flight request
// finish, closes the pool and exits 0 within the grace period.
import { strict as assert } from "node:assert";
import { ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { closedPort, request, Stub, stubServer } from "../../service-kit/test/helpers";

const ROOT = path.resolve(__dirname, "..", "..", "..");

function startProcess(
    app: string,
    env: Record<string, string>,
): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
    let out = "";
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "apps", app, "src", "main.ts")], {
        cwd: ROOT,
        env: { ...process.env, LOG_LEVEL: "info", HOST: "127.0.0.1", DATA_DIR: "memory://", ...env },
        stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    return { child, exited, output: () => out };
}

async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
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

describe("graceful shutdown (SIGTERM)", function () {
    let stub: Stub | undefined;
    let proc: ReturnType<typeof startProcess> | undefined;
    afterEach(async () => {
        if (proc && proc.child.exitCode === null) proc.child.kill("SIGKILL");
        await stub?.close();
    });

    it("orders finishes the in-flight POST, refuses new connections, exits 0", async () => {
        // users answers after 800 ms, so the POST is in flight when SIGTERM arrives.
        stub = await stubServer((req, res) => {
            setTimeout(
                () => {
                    if (req.url === "/healthz") return void res.writeHead(200).end("{}");
                    res.writeHead(200, { "content-type": "application/json" }).end('{"id":"x"}');
                },
                req.url === "/healthz" ? 0 : 800,
            );
        });
        const port = await closedPort();
        proc = startProcess("orders", { PORT: String(port), USERS_URL: stub.url, USERS_TIMEOUT_MS: "3000", SHUTDOWN_GRACE_SECONDS: "10" });
        const url = `http://127.0.0.1:${port}`;
        await waitReady(url);
        const inFlight = request(url, "POST", "/api/orders", {
            body: { userId: "0190a6f0-0000-7000-8000-0000000000ab", items: [{ sku: "A", quantity: 1, unitPriceCents: 1 }] },
        });
        await new Promise((r) => setTimeout(r, 200));
        const signalled = Date.now();
        proc.child.kill("SIGTERM");
        await new Promise((r) => setTimeout(r, 100));
        await assert.rejects(request(url, "GET", "/healthz"), /ECONNREFUSED|ECONNRESET/, "no new connections after SIGTERM");
        const res = await inFlight;
        assert.equal(res.status, 201, res.text);
        assert.equal(res.headers.connection, "close");
        const code = await proc.exited;
        assert.equal(code, 0, proc.output());
        assert.ok(Date.now() - signalled < 10_000);
        assert.match(proc.output(), /"msg":"shutting down"/);
        assert.match(proc.output(), /"msg":"stopped"/);
    });

    it("an idle users process exits 0 promptly", async () => {
        const port = await closedPort();
        proc = startProcess("users", { PORT: String(port) });
        await waitReady(`http://127.0.0.1:${port}`);
        const signalled = Date.now();
        proc.child.kill("SIGTERM");
        assert.equal(await proc.exited, 0, proc.output());
        assert.ok(Date.now() - signalled < 3_000, `took ${Date.now() - signalled} ms`);
    });
});
