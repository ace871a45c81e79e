// Dashboards as code: valid Grafana models whose queries use only metrics that really exist,
// the apps' own (read from their prom-client registrations) or well-known infrastructure ones.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { collectDefaultMetrics, Registry } from "prom-client";
import { DATA_NAMESPACE } from "../../components/naming";
import { loadDashboards, selectDashboards } from "../../components/observability";
import { alloyConfig, APP_ERROR_LOGS_QUERY, LOKI_DATASOURCE_UID } from "../../components/observability/logsSpec";
import { APP_TARGET_LABELS } from "../../components/observability/monitorSpecs";
import { BACKUP_NAME, BACKUP_PVC, POSTGRES_NAME } from "../../components/database/names";
import { PROJECT_ROOT } from "../harness";

// --- what the apps expose ----------------------------------------------------------

interface Exposed {
    labels: Set<string>;
}

function sourceFiles(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) return e.name === "node_modules" ? [] : sourceFiles(full);
        return /\.(ts|js|mjs|cjs)$/.test(e.name) && !/\.test\./.test(e.name) ? [full] : [];
    });
}

/** Series names (histogram/summary suffixes included) registered with prom-client in apps/<name>/src. */
async function appMetrics(): Promise<Map<string, Exposed>> {
    const appsDir = path.join(PROJECT_ROOT, "apps");
    const files = fs.readdirSync(appsDir).flatMap((app) => sourceFiles(path.join(appsDir, app, "src")));
    const exposed = new Map<string, Exposed>();
    const add = (name: string, labels: string[]) => exposed.set(name, { labels: new Set(labels) });
    let defaults = false;
    for (const file of files) {
        const text = fs.readFileSync(file, "utf8");
        for (const m of text.matchAll(/new\s+(Counter|Gauge|Histogram|Summary)\s*(?:<[^>]*>)?\s*\(\s*\{([\s\S]*?)\}\s*\)/g)) {
            const [, kind, body] = m;
            const name = /\bname:\s*["'`]([a-zA-Z_:][a-zA-Z0-9_:]*)["'`]/.exec(body)?.[1];
            assert.ok(name, `${path.relative(PROJECT_ROOT, file)}: a ${kind} without a literal name`);
            const labels = [...(/\blabelNames:\s*\[([^\]]*)\]/.exec(body)?.[1].matchAll(/["'`](\w+)["'`]/g) ?? [])].map((l) => l[1]);
            if (kind === "Histogram") {
                add(`${name}_bucket`, [...labels, "le"]);
                add(`${name}_sum`, labels);
                add(`${name}_count`, labels);
            } else if (kind === "Summary") {
                add(name, [...labels, "quantile"]);
                add(`${name}_sum`, labels);
                add(`${name}_count`, labels);
            } else {
                add(name, labels);
            }
        }
        const call = /collectDefaultMetrics\s*\(([^)]*)\)/.exec(text);
        if (call) {
            assert.ok(!/prefix\s*:/.test(call[1]), `${file}: default metrics with a prefix; teach this test the prefix`);
            defaults = true;
        }
    }
    if (defaults) {
        // The exact default set of the prom-client version the apps run.
        const registry = new Registry();
        collectDefaultMetrics({ register: registry });
        for (const metric of await registry.getMetricsAsJSON()) {
            const labels = [...new Set(metric.values.flatMap((v) => Object.keys(v.labels)))];
            if (metric.type === ("histogram" as unknown)) {
                add(`${metric.name}_bucket`, [...labels.filter((l) => l !== "le"), "le"]);
                add(
                    `${metric.name}_sum`,
                    labels.filter((l) => l !== "le"),
                );
                add(
                    `${metric.name}_count`,
                    labels.filter((l) => l !== "le"),
                );
            } else {
                add(metric.name, labels);
            }
        }
    }
    return exposed;
}

/** Infrastructure metrics the dashboards may use, by the component that exposes them. */
const INFRASTRUCTURE_METRICS: Record<string, string[]> = {
    istio: [
        "istio_requests_total",
        "istio_request_duration_milliseconds_bucket",
        "istio_tcp_received_bytes_total",
        "istio_tcp_connections_opened_total",
        "pilot_xds",
        "pilot_xds_pushes",
    ],
    "kube-state-metrics": [
        "kube_statefulset_status_replicas_ready",
        "kube_pod_container_status_restarts_total",
        "kube_pod_container_resource_limits",
        "kube_cronjob_status_last_successful_time",
        "kube_job_status_succeeded",
        "kube_job_status_failed",
    ],
    cadvisor: [
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "container_network_receive_bytes_total",
        "container_network_transmit_bytes_total",
    ],
    kubelet: ["kubelet_volume_stats_used_bytes", "kubelet_volume_stats_capacity_bytes"],
};
const ALLOWED = new Set(Object.values(INFRASTRUCTURE_METRICS).flat());

/** Labels every app series gets from the PodMonitor (relabelled pod labels + the operator's defaults). */
const TARGET_LABELS = new Set<string>([...APP_TARGET_LABELS, "namespace", "pod", "container", "endpoint", "instance", "job"]);

// --- PromQL, just far enough to find metric and label names --------------------------------

const KEYWORDS = new Set([
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
]);

function stripStrings(expr: string): string {
    return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
}

function metricNames(expr: string): string[] {
    const s = stripStrings(expr)
        .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, " ") // Grafana variables ($__rate_interval, $app)
        .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
        .replace(/\[[^\]]*\]/g, " ")
        .replace(/\{[^}]*\}/g, " ");
    const names = new Set<string>();
    for (const m of s.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
        const [, ident, call] = m;
        if (call || KEYWORDS.has(ident.toLowerCase())) continue;
        const before = s.slice(0, m.index);
        if (/[0-9.]$/.test(before)) continue; // exponent/duration suffixes like 1e3
        names.add(ident);
    }
    return [...names];
}

/** metric -> label names used in its selector braces, for every selector in the expression. */
function selectors(expr: string): Array<{ metric: string; labels: string[] }> {
    const s = stripStrings(expr);
    return [...s.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*\{([^}]*)\}/g)].map((m) => ({
        metric: m[1],
        labels: [...m[2].matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)/g)].map((l) => l[1]),
    }));
}

function groupingLabels(expr: string): string[] {
    return [...stripStrings(expr).matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) =>
        m[1]
            .split(",")
            .map((l) => l.trim())
            .filter(Boolean),
    );
}

function balanced(expr: string): boolean {
    const pairs: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
    const stack: string[] = [];
    for (const ch of stripStrings(expr)) {
        if ("([{".includes(ch)) stack.push(ch);
        else if (ch in pairs && stack.pop() !== pairs[ch]) return false;
    }
    return stack.length === 0;
}

// --- the dashboards ---------------------------------------------------------------------

const dashboards = loadDashboards();
type Panel = Record<string, any>;
const models = dashboards.map((d) => ({ ...d, model: JSON.parse(d.json) as Record<string, any> }));
const panelsOf = (model: Record<string, any>): Panel[] => (model.panels as Panel[]).flatMap((p) => [p, ...((p.panels as Panel[]) ?? [])]);
const queryPanels = (model: Record<string, any>) => panelsOf(model).filter((p) => p.type !== "row");
/** Panels on Loki (LogQL) and on Prometheus (PromQL). */
const logPanels = (model: Record<string, any>) => queryPanels(model).filter((p) => p.datasource?.type === "loki");
const promPanels = (model: Record<string, any>) => queryPanels(model).filter((p) => p.datasource?.type !== "loki");
const exprsOf = (model: Record<string, any>): string[] =>
    promPanels(model).flatMap((p) => (p.targets as Panel[]).map((t) => t.expr as string));

describe("observability: dashboards as code", () => {
    let exposed: Map<string, Exposed>;
    before(async () => {
        exposed = await appMetrics();
    });

    it("ships the per-app RED, Postgres and mesh dashboards (the mesh one only with the mesh)", () => {
        assert.deepEqual(
            dashboards.map((d) => d.id),
            ["app-red", "mesh", "postgres"],
        );
        assert.deepEqual(
            selectDashboards(dashboards, { meshEnabled: false, logsEnabled: true }).map((d) => d.id),
            ["app-red", "postgres"],
        );
        assert.deepEqual(
            selectDashboards(dashboards, { meshEnabled: true, logsEnabled: true }).map((d) => d.id),
            ["app-red", "mesh", "postgres"],
        );
    });

    it("reads the apps' metric registrations (the RED metrics and the defaults are there)", () => {
        for (const name of [
            "http_requests_total",
            "http_request_duration_seconds_bucket",
            "process_cpu_seconds_total",
            "nodejs_eventloop_lag_p99_seconds",
        ]) {
            assert.ok(exposed.has(name), `${name} not found in apps/*/src`);
        }
        assert.deepEqual([...exposed.get("http_requests_total")!.labels].sort(), ["method", "route", "status"]);
    });

    for (const d of models) {
        describe(`${d.id}.json`, () => {
            const model = d.model;

            it("is a Grafana dashboard model: uid, title, schema version, rows and panels on a 24-column grid", () => {
                assert.match(model.uid, /^[a-zA-Z0-9_-]{1,40}$/);
                assert.ok(typeof model.title === "string" && model.title.length > 0);
                assert.ok(Number.isInteger(model.schemaVersion) && model.schemaVersion >= 36);
                assert.equal(model.id, undefined, "provisioned dashboards carry no numeric id");
                assert.ok(Array.isArray(model.templating?.list));
                const panels = panelsOf(model);
                assert.ok(queryPanels(model).length >= 5);
                const ids = panels.map((p) => p.id);
                assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
                for (const p of panels) {
                    assert.ok(["row", "timeseries", "stat", "logs"].includes(p.type), `${p.title}: panel type ${p.type}`);
                    const { h, w, x, y } = p.gridPos;
                    for (const n of [h, w, x, y]) assert.ok(Number.isInteger(n) && n >= 0, `${p.title}: gridPos`);
                    assert.ok(w > 0 && h > 0 && x + w <= 24, `${p.title}: ${JSON.stringify(p.gridPos)} leaves the grid`);
                    assert.ok(typeof p.title === "string" && p.title.length > 0);
                }
            });

            it("every panel but the log panels queries the Prometheus data source variable with PromQL targets", () => {
                const dsVar = (model.templating.list as Panel[]).find((v) => v.type === "datasource");
                assert.equal(dsVar?.query, "prometheus");
                for (const p of promPanels(model)) {
                    assert.deepEqual(p.datasource, { type: "prometheus", uid: `\${${dsVar!.name}}` }, p.title);
                    assert.ok(Array.isArray(p.targets) && p.targets.length > 0, `${p.title}: no targets`);
                    const refIds = (p.targets as Panel[]).map((t) => t.refId);
                    assert.equal(new Set(refIds).size, refIds.length, `${p.title}: duplicate refId`);
                    for (const t of p.targets as Panel[]) {
                        assert.ok(typeof t.expr === "string" && t.expr.trim().length > 0, `${p.title}: empty expr`);
                        assert.ok(balanced(t.expr), `${p.title}: unbalanced ${t.expr}`);
                        assert.deepEqual(t.datasource, p.datasource);
                    }
                }
            });

            it("uses only variables it defines (and Grafana's built-ins); repeats over multi-value variables", () => {
                const vars = new Map((model.templating.list as Panel[]).map((v) => [v.name as string, v]));
                const text = JSON.stringify(model.panels) + JSON.stringify(model.templating.list.map((v: Panel) => v.query));
                for (const m of text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) {
                    if (m[1].startsWith("__")) continue;
                    assert.ok(vars.has(m[1]), `$${m[1]} is not defined`);
                }
                for (const p of queryPanels(model).filter((x) => x.repeat)) {
                    const v = vars.get(p.repeat)!;
                    assert.ok(v && (v.multi || v.includeAll), `${p.title} repeats over ${p.repeat}, which is single-valued`);
                    assert.equal(p.gridPos.w, 24, `${p.title}: a repeated panel takes the row and is split per value`);
                }
            });

            it("references only metrics the apps expose or the allowed infrastructure metrics", () => {
                for (const expr of exprsOf(model)) {
                    const names = metricNames(expr);
                    assert.ok(names.length > 0, `no metric in ${expr}`);
                    for (const name of names) {
                        assert.ok(
                            exposed.has(name) || ALLOWED.has(name),
                            `${d.id}: ${name} is neither exposed by the apps nor allowed (${expr})`,
                        );
                    }
                }
            });

            it("filters and groups app metrics only by labels those series carry", () => {
                for (const expr of exprsOf(model)) {
                    const appSelectors = selectors(expr).filter((s) => exposed.has(s.metric));
                    for (const s of appSelectors) {
                        const ok = new Set([...exposed.get(s.metric)!.labels, ...TARGET_LABELS]);
                        for (const l of s.labels) assert.ok(ok.has(l), `${s.metric} has no label ${l} (${expr})`);
                    }
                    const metrics = metricNames(expr);
                    if (metrics.length > 0 && metrics.every((m) => exposed.has(m))) {
                        const ok = new Set([...metrics.flatMap((m) => [...exposed.get(m)!.labels]), ...TARGET_LABELS]);
                        for (const l of groupingLabels(expr))
                            assert.ok(ok.has(l), `grouping by ${l}, which ${metrics.join(", ")} lack (${expr})`);
                    }
                }
            });
        });
    }

    it("app RED: templated by $app, split by track and version so stable and canary sit side by side", () => {
        const red = models.find((d) => d.id === "app-red")!.model;
        const vars = Object.fromEntries((red.templating.list as Panel[]).map((v) => [v.name, v]));
        assert.equal(vars.app.query.query, "label_values(http_requests_total, app)");
        assert.equal(vars.track.multi, true);
        assert.equal(vars.track.includeAll, true);
        const panels = queryPanels(red);
        const repeated = panels.filter((p) => p.repeat === "track");
        assert.deepEqual(
            repeated.map((p) => p.repeatDirection),
            ["h", "h", "h"],
        );
        assert.deepEqual(
            repeated.map((p) => p.maxPerRow),
            [2, 2, 2],
        );
        const exprs = exprsOf(red);
        for (const e of exprs) assert.match(e, /app="\$app"/, `every query is scoped to $app: ${e}`);
        // Rate, errors (5xx) and the three latency quantiles, per track and version.
        assert.ok(exprs.some((e) => /rate\(http_requests_total\{[^}]*track="\$track"/.test(e) && /by \(version\)/.test(e)));
        assert.ok(exprs.some((e) => /status=~"5\.\."/.test(e) && /by \(track, version\)/.test(e)));
        for (const q of ["0.5", "0.95", "0.99"]) {
            assert.ok(
                exprs.some((e) =>
                    e.startsWith(`histogram_quantile(${q}, sum by (le, version) (rate(http_request_duration_seconds_bucket{`),
                ),
                `p${q}`,
            );
        }
        assert.ok(
            exprs.some((e) => e.includes('track="canary"')),
            "canary share",
        );
    });

    it("app RED: the error log lines of $app from Loki, level by pino's name or number, only where logs run", () => {
        const red = models.find((d) => d.id === "app-red")!;
        const panels = logPanels(red.model);
        assert.deepEqual(
            panels.map((p) => [p.type, p.datasource, p.targets.map((t: Panel) => [t.datasource, t.expr])]),
            [["logs", { type: "loki", uid: LOKI_DATASOURCE_UID }, [[{ type: "loki", uid: LOKI_DATASOURCE_UID }, APP_ERROR_LOGS_QUERY]]]],
        );
        assert.equal(APP_ERROR_LOGS_QUERY, '{namespace="orders-apps", app="$app"} | json | level=~"error|fatal|50|60"');
        // The collectors label streams with namespace and app; the apps' pods carry the app label.
        const collector = alloyConfig({ pushUrl: "http://loki" });
        assert.match(collector, /target_label {2}= "namespace"/);
        assert.match(collector, /__meta_kubernetes_pod_label_app"\]/);
        const withoutLogs = selectDashboards(dashboards, { meshEnabled: true, logsEnabled: false }).find((d) => d.id === "app-red")!;
        const stripped = JSON.parse(withoutLogs.json) as Record<string, any>;
        assert.deepEqual(logPanels(stripped), []);
        assert.ok(!panelsOf(stripped).some((p) => p.type === "row" && p.title === "Logs"), "no empty Logs row");
        assert.equal(promPanels(stripped).length, promPanels(red.model).length, "every metric panel stays");
    });

    it("Postgres: built from kubelet/cAdvisor/kube-state-metrics for the StatefulSet, its volume and its backups", () => {
        const exprs = exprsOf(models.find((d) => d.id === "postgres")!.model);
        for (const e of exprs) assert.ok(e.includes(`namespace="${DATA_NAMESPACE}"`), e);
        const all = exprs.join("\n");
        assert.ok(all.includes(`statefulset="${POSTGRES_NAME}"`));
        assert.ok(all.includes(`pod=~"${POSTGRES_NAME}-[0-9]+"`));
        assert.ok(all.includes(`persistentvolumeclaim=~"data-${POSTGRES_NAME}-[0-9]+"`), "the data volume claim of the StatefulSet");
        assert.ok(all.includes(BACKUP_PVC));
        assert.ok(all.includes(`cronjob="${BACKUP_NAME}"`));
    });

    it("mesh: Istio standard metrics by destination workload, version and response code", () => {
        const exprs = exprsOf(models.find((d) => d.id === "mesh")!.model).join("\n");
        for (const label of ["destination_workload", "destination_version", "response_code"]) assert.ok(exprs.includes(label), label);
        assert.ok(exprs.includes("istio_request_duration_milliseconds_bucket"));
        assert.ok(exprs.includes('reporter="destination"'));
    });

    it("the allowlist has no stale entries", () => {
        const used = new Set(models.flatMap((d) => exprsOf(d.model).flatMap(metricNames)));
        for (const name of ALLOWED) assert.ok(used.has(name), `${name} is allowed but unused`);
    });

    it("finds metric names in PromQL without taking functions, keywords or labels for metrics", () => {
        assert.deepEqual(
            metricNames(
                'sum by (le, track) (rate(a_bucket{app="$app",x=~"y|z"}[$__rate_interval])) / ignoring (v) group_left sum(b_total offset 5m) or vector(0)',
            ),
            ["a_bucket", "b_total"],
        );
        assert.deepEqual(metricNames("time() - max(c_seconds)"), ["c_seconds"]);
    });
});
