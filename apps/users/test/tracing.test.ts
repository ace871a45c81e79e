// Traces go to the OTLP endpoint when one is set, continuing the caller's W3C trace; every log
// line written while serving a request carries that request's trace_id and span_id.
import { strict as assert } from "node:assert";
import { baseEnv, request, scratchDbEnv, stubServer, testAuth } from "../../service-kit/test/helpers";
import { startUsers } from "../src/app";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

/** A log sink that keeps the parsed JSON lines. */
function captureLogs() {
    const lines: Array<Record<string, unknown>> = [];
    return { lines, sink: { write: (line: string) => lines.push(JSON.parse(line)) } };
}

describe("tracing", () => {
    it("exports a server span per request over OTLP/HTTP, in the caller's trace", async () => {
        const received: Array<{ url: string; body: Buffer }> = [];
        const collector = await stubServer((req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", (c: Buffer) => chunks.push(c));
            req.on("end", () => {
                received.push({ url: req.url ?? "", body: Buffer.concat(chunks) });
                res.writeHead(200, { "content-type": "application/json" }).end("{}");
            });
        });
        const logs = captureLogs();
        const svc = await startUsers({
            env: await baseEnv({ ...(await scratchDbEnv()), LOG_LEVEL: "debug", OTEL_EXPORTER_OTLP_ENDPOINT: collector.url }),
            logSink: logs.sink,
        });
        try {
            await svc.ready;
            const res = await request(svc.url, "GET", "/api/users/0190a6f0-0000-7000-8000-000000000000", {
                headers: { traceparent: TRACEPARENT, ...(await (await testAuth()).as("tracer")) },
            });
            assert.equal(res.status, 404);
            const [, traceId, spanId] = String(res.headers.traceparent).split("-");
            assert.equal(traceId, TRACE_ID);
            assert.match(String(res.headers.traceparent), new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
            const line = logs.lines.find((l) => l.msg === "request completed" && l.route === "/api/users/:id");
            assert.ok(line, "the request was logged");
            assert.equal(line.trace_id, TRACE_ID);
            assert.equal(line.span_id, spanId, "the log line names the server span");
        } finally {
            await svc.shutdown("test done");
            await collector.close();
        }
        const traces = received.filter((r) => r.url === "/v1/traces");
        assert.ok(traces.length > 0, "spans were exported to /v1/traces");
        const text = traces.map((t) => t.body.toString("latin1")).join("");
        assert.ok(text.includes("/api/users/:id"), "span named after the route");
        assert.ok(text.includes(TRACE_ID), "span in the caller's trace");
    });

    it("without an OTLP endpoint, log lines of a request still carry its trace_id (the caller's, or a fresh one)", async () => {
        const logs = captureLogs();
        const svc = await startUsers({ env: await baseEnv({ ...(await scratchDbEnv()), LOG_LEVEL: "debug" }), logSink: logs.sink });
        try {
            await svc.ready;
            const traced = await request(svc.url, "GET", "/api/users/me", { headers: { traceparent: TRACEPARENT } });
            const fresh = await request(svc.url, "GET", "/api/users/me");
            const logged = logs.lines.filter((l) => l.msg === "request completed" && l.route === "/api/users/me");
            assert.equal(logged.length, 2);
            assert.equal(logged[0].trace_id, TRACE_ID);
            assert.equal(logged[0].status, 401);
            assert.match(String(logged[1].trace_id), /^[0-9a-f]{32}$/);
            assert.notEqual(logged[1].trace_id, TRACE_ID);
            for (const [res, line] of [
                [traced, logged[0]],
                [fresh, logged[1]],
            ] as const) {
                assert.equal(String(res.headers.traceparent).split("-")[1], line.trace_id);
                assert.equal(String(res.headers.traceparent).split("-")[2], line.span_id);
            }
            // Lines outside requests are plain pino JSON: level as a word, ISO time, service and version.
            const start = logs.lines.find((l) => l.msg === "listening")!;
            assert.equal(start.level, "info");
            assert.equal(start.service, "users");
            assert.match(String(start.time), /^\d{4}-\d{2}-\d{2}T/);
        } finally {
            await svc.shutdown("test done");
        }
    });
});
