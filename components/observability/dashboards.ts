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

/** The dashboards a stack ships. */
export function selectDashboards(dashboards: Dashboard[], meshEnabled: boolean): Dashboard[] {
    return dashboards.filter((d) => meshEnabled || !MESH_ONLY_DASHBOARDS.includes(d.id));
}

export function dashboardConfigMapName(d: Dashboard): string {
    return `dashboard-${d.id}`;
}
