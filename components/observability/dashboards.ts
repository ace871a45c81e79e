// Grafana dashboards as code: the JSON files next to this module, shipped as labelled ConfigMaps.
import * as fs from "node:fs";
import * as path from "node:path";

export const DASHBOARDS_DIR = path.join(__dirname, "dashboards");

export interface Dashboard {
    /** File stem, e.g. "app-red". */
    id: string;
    uid: string;
    title: string;
    /** The dashboard model exactly as stored in the file. */
    json: string;
}

/** Dashboards that only make sense with the mesh (Istio standard metrics). */
export const MESH_ONLY_DASHBOARDS = ["mesh"];

export function loadDashboards(dir: string = DASHBOARDS_DIR): Dashboard[] {
    return fs
        .readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .sort()
        .map((file) => {
            const json = fs.readFileSync(path.join(dir, file), "utf8");
            const model = JSON.parse(json) as { uid?: string; title?: string };
            if (!model.uid || !model.title) throw new Error(`dashboard ${file} needs a uid and a title`);
            return { id: path.basename(file, ".json"), uid: model.uid, title: model.title, json };
        });
}

export interface DashboardOptions {
    meshEnabled: boolean;
    /** Loki runs: panels on the Loki data source stay. */
    logsEnabled: boolean;
}

type Panel = { type?: string; datasource?: { type?: string } };

/** A dashboard without its Loki panels (and a row left empty by them), when there are no logs. */
export function withoutLogPanels(d: Dashboard): Dashboard {
    const model = JSON.parse(d.json) as { panels?: Panel[] };
    const panels = model.panels ?? [];
    if (!panels.some((p) => p.datasource?.type === "loki")) return d;
    const kept = panels.filter((p) => p.datasource?.type !== "loki");
    // A row whose panels all went: the next panel is another row, or there is none.
    model.panels = kept.filter((p, i) => p.type !== "row" || (kept[i + 1] !== undefined && kept[i + 1].type !== "row"));
    return { ...d, json: JSON.stringify(model, null, 2) };
}

/** The dashboards a stack ships. */
export function selectDashboards(dashboards: Dashboard[], options: DashboardOptions): Dashboard[] {
    return dashboards
        .filter((d) => options.meshEnabled || !MESH_ONLY_DASHBOARDS.includes(d.id))
        .map((d) => (options.logsEnabled ? d : withoutLogPanels(d)));
}

export function dashboardConfigMapName(d: Dashboard): string {
    return `dashboard-${d.id}`;
}
