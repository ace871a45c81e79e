// The observability wiring of the real index.ts: stack outputs and the apps' OTLP endpoint.
import { strict as assert } from "node:assert";
import { JAEGER_COLLECTOR_HOST, OTLP_HTTP_PORT } from "../../components/naming";
import { runStack } from "../harness";

const OTLP = `http://${JAEGER_COLLECTOR_HOST}:${OTLP_HTTP_PORT}`;

function appConfigMaps(run: Awaited<ReturnType<typeof runStack>>) {
    return run.byType("kubernetes:core/v1:ConfigMap").filter((c) => /^(users|orders)-config$/.test(c.inputs.metadata?.name ?? ""));
}

describe("observability in the stack (index.ts)", () => {
    it("dev: exports port-forward URLs and hands the apps the Jaeger OTLP endpoint", async () => {
        const run = await runStack("dev");
        const outputs = run.outputs as Record<string, string>;
        assert.match(outputs.grafanaUrl, /^kubectl -n monitoring port-forward svc\/grafana 3000:80/);
        assert.match(outputs.jaegerUrl, /^kubectl -n tracing port-forward svc\/jaeger 16686:16686/);
        const cms = appConfigMaps(run);
        assert.equal(cms.length, 2);
        for (const cm of cms) assert.equal(cm.inputs.data.OTEL_EXPORTER_OTLP_ENDPOINT, OTLP, cm.inputs.metadata.name);
    });

    it("Jaeger off: no OTLP endpoint in the apps' environment and the Jaeger URL says disabled", async () => {
        const run = await runStack("staging", { "observability.jaeger.enabled": false });
        assert.equal((run.outputs as Record<string, string>).jaegerUrl, "disabled");
        for (const cm of appConfigMaps(run)) assert.equal(cm.inputs.data.OTEL_EXPORTER_OTLP_ENDPOINT, undefined);
    });
});
