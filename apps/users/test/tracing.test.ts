// Traces go to the OTLP endpoint when one is set, continuing the caller's W3C trace.
import { strict as assert } from "node:assert";
import { quiet, request, stubServer } from "../../service-kit/test/helpers";
import { startUsers } from "../src/app";

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
        const svc = await startUsers({
            env: { PORT: "0", HOST: "127.0.0.1", DATA_DIR: "memory://", LOG_LEVEL: "error", OTEL_EXPORTER_OTLP_ENDPOINT: collector.url },
            logSink: quiet,
        });
        try {
            await svc.ready;
            const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
            const res = await request(svc.url, "GET", "/api/users/0190a6f0-0000-7000-8000-000000000000", {
                headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
            });
            assert.equal(res.status, 404);
            assert.match(String(res.headers.traceparent), new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
        } finally {
            await svc.shutdown("test done");
            await collector.close();
        }
        const traces = received.filter((r) => r.url === "/v1/traces");
        assert.ok(traces.length > 0, "spans were exported to /v1/traces");
        const text = traces.map((t) => t.body.toString("latin1")).join("");
        assert.ok(text.includes("/api/users/:id"), "span named after the route");
    });
});
