// The stand-in chart directory (offline part: the Go module download is faked here; the real
// download runs in the real-engine tests).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chartLocation } from "../../components/chartSource";
import { CHARTS, IMAGES, imageReference } from "../../components/versions";
import { assembleStandInCharts, crdDocuments, CRD_SOURCES } from "./standInCharts";

const CRD = (name: string) => `apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: ${name}\n`;

describe("real-engine stand-in charts", () => {
    let target: string;
    let modules: string;
    const downloads: string[] = [];
    before(() => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "standin-"));
        target = path.join(tmp, "charts");
        modules = path.join(tmp, "modules");
        fs.mkdirSync(path.join(modules, "istio", "kubernetes"), { recursive: true });
        fs.writeFileSync(
            path.join(modules, "istio", "kubernetes", "customresourcedefinitions.gen.yaml"),
            `${CRD("gateways.networking.istio.io")}---\n# comment only\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n---\n${CRD("virtualservices.networking.istio.io")}`,
        );
        fs.mkdirSync(path.join(modules, "prom", "example", "prometheus-operator-crd"), { recursive: true });
        fs.writeFileSync(
            path.join(modules, "prom", "example", "prometheus-operator-crd", "a.yaml"),
            CRD("podmonitors.monitoring.coreos.com"),
        );
        assembleStandInCharts(target, (module, version) => {
            downloads.push(`${module}@${version}`);
            return path.join(modules, module === "istio.io/api" ? "istio" : "prom");
        });
    });

    it("has one chart per chart the program installs, named like the upstream chart", () => {
        for (const [pin, chart] of [
            [CHARTS.istio, "base"],
            [CHARTS.istio, "istiod"],
            [CHARTS.istio, "gateway"],
            [CHARTS.kubePrometheusStack, "kube-prometheus-stack"],
            [CHARTS.jaeger, "jaeger"],
            [CHARTS.traefik, "traefik"],
            [CHARTS.loki, "loki"],
            [CHARTS.alloy, "alloy"],
        ] as const) {
            const location = chartLocation({ ...pin, source: target }, chart);
            assert.ok(fs.existsSync(path.join(location.chart, "Chart.yaml")), chart);
            assert.ok(fs.existsSync(path.join(location.chart, "templates", "_workload.tpl")), chart);
            assert.match(
                fs.readFileSync(path.join(location.chart, "values.yaml"), "utf8"),
                new RegExp(imageReference(IMAGES.postgres).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")),
            );
        }
    });

    it("fills crds/ with only the CustomResourceDefinitions of the pinned releases", () => {
        assert.deepEqual(
            downloads,
            CRD_SOURCES.map((s) => `${s.module}@${s.version}`),
        );
        assert.equal(downloads[0], `istio.io/api@v${CHARTS.istio.version}`);
        assert.deepEqual(fs.readdirSync(path.join(target, "base", "crds")), ["001.yaml", "002.yaml"]);
        assert.match(fs.readFileSync(path.join(target, "base", "crds", "002.yaml"), "utf8"), /virtualservices\.networking\.istio\.io/);
        assert.deepEqual(fs.readdirSync(path.join(target, "kube-prometheus-stack", "crds")), ["001.yaml"]);
        assert.deepEqual(crdDocuments("kind: Service\n"), []);
    });
});
