// Assembles the stand-in chart directory of the real-engine tests: our charts from
// test/engine/charts, the shared workload template in each, the stand-in image in values.yaml,
// and the real CRDs of the pinned Istio and Prometheus Operator releases, read from their Go
// modules (served by the Go module proxy; nothing is copied into the repository).
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";
import { CHARTS, IMAGES, imageReference, TOOLS } from "../../components/versions";

const SOURCE = path.join(__dirname, "charts");
const SHARED_TEMPLATE = path.join(SOURCE, "_shared", "workload.tpl");

/** Go module holding CRD manifests, and where in it they are. */
export interface CrdSource {
    chart: string;
    module: string;
    version: string;
    /** Files (relative to the module root) with CustomResourceDefinitions. */
    files: (moduleDir: string) => string[];
}

export const CRD_SOURCES: CrdSource[] = [
    {
        chart: "base",
        module: "istio.io/api",
        version: `v${CHARTS.istio.version}`,
        files: () => ["kubernetes/customresourcedefinitions.gen.yaml"],
    },
    {
        chart: "kube-prometheus-stack",
        module: "github.com/prometheus-operator/prometheus-operator",
        version: TOOLS.prometheusOperator.version,
        files: (dir) =>
            fs
                .readdirSync(path.join(dir, "example", "prometheus-operator-crd"))
                .filter((f) => f.endsWith(".yaml"))
                .map((f) => path.join("example", "prometheus-operator-crd", f)),
    },
];

/** `go mod download` a module (module cache, via GOPROXY) and return its directory. */
export function downloadModule(module: string, version: string): string {
    const out = execFileSync("go", ["mod", "download", "-json", `${module}@${version}`], {
        encoding: "utf8",
        env: { ...process.env, GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local" },
    });
    const info = JSON.parse(out) as { Dir?: string; Error?: string };
    if (!info.Dir) throw new Error(`go mod download ${module}@${version}: ${info.Error ?? out}`);
    return info.Dir;
}

/** Only the CustomResourceDefinition documents of a multi-document YAML text, re-serialized. */
export function crdDocuments(text: string): string[] {
    return parseAllDocuments(text)
        .filter((d) => (d.toJS() as { kind?: string } | null)?.kind === "CustomResourceDefinition")
        .map((d) => d.toString());
}

/** Copies the stand-in charts into `target` with CRDs and values; returns the chart names. */
export function assembleStandInCharts(target: string, download: typeof downloadModule = downloadModule): string[] {
    fs.rmSync(target, { recursive: true, force: true });
    fs.mkdirSync(target, { recursive: true });
    const charts = fs.readdirSync(SOURCE).filter((d) => fs.existsSync(path.join(SOURCE, d, "Chart.yaml")));
    const standInImage = imageReference(IMAGES.postgres);
    for (const chart of charts) {
        const dir = path.join(target, chart);
        fs.cpSync(path.join(SOURCE, chart), dir, { recursive: true });
        fs.mkdirSync(path.join(dir, "templates"), { recursive: true });
        fs.copyFileSync(SHARED_TEMPLATE, path.join(dir, "templates", "_workload.tpl"));
        // kwok never pulls it; it only has to be an allowed, digest-pinned reference.
        fs.writeFileSync(path.join(dir, "values.yaml"), `standIn:\n  image: ${JSON.stringify(standInImage)}\n`);
    }
    for (const source of CRD_SOURCES) {
        const moduleDir = download(source.module, source.version);
        const crds = path.join(target, source.chart, "crds");
        fs.mkdirSync(crds, { recursive: true });
        let count = 0;
        for (const file of source.files(moduleDir)) {
            for (const doc of crdDocuments(fs.readFileSync(path.join(moduleDir, file), "utf8"))) {
                fs.writeFileSync(path.join(crds, `${String(++count).padStart(3, "0")}.yaml`), doc);
            }
        }
        if (count === 0) throw new Error(`no CustomResourceDefinition in ${source.module}@${source.version}`);
    }
    return charts;
}
