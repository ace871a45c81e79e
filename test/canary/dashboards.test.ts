// The Grafana RED panels show what the canary analysis judges: API traffic only. A dashboard that
// counted probes would show a healthy canary the tool rolls back (or the other way round).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { API_ROUTE_MATCHER } from "../../scripts/canary/prometheus";

const file = path.resolve(__dirname, "..", "..", "components", "observability", "dashboards", "app-red.json");
type Panel = { id: number; title: string; type: string; targets?: { expr: string }[]; panels?: Panel[] };
const panels = (JSON.parse(fs.readFileSync(file, "utf8")) as { panels: Panel[] }).panels.flatMap((p) => [p, ...(p.panels ?? [])]);

/** The request metrics' selectors in an expression, e.g. `app="$app",track="canary"`. */
const requestSelectors = (expr: string) =>
    [...expr.matchAll(/\b(?:http_requests_total|http_request_duration_seconds_bucket)\{([^}]*)\}/g)].map((m) => m[1]);
const perRoute = (expr: string) => /\bby \([^)]*\broute\b/.test(expr);

describe("canary: the app RED dashboard uses the analysis' selector", () => {
    const targets = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, expr: t.expr })));
    const red = targets.filter((t) => requestSelectors(t.expr).length > 0 && !perRoute(t.expr));

    it("every rate, error and latency query counts API routes only", () => {
        assert.ok(red.length >= 10, `found only ${red.length} RED queries`);
        for (const { panel, expr } of red) {
            for (const sel of requestSelectors(expr)) {
                assert.ok(sel.split(",").includes(API_ROUTE_MATCHER), `${panel.title}: {${sel}} lacks ${API_ROUTE_MATCHER}`);
            }
        }
    });

    it("the canary share of requests is a share of API requests on both sides of the ratio", () => {
        const share = red.find((t) => t.panel.title === "Canary share of requests");
        assert.ok(share, "the canary share panel");
        assert.equal(requestSelectors(share.expr).length, 2);
    });

    it("probe and scrape traffic stays visible, per route, in its own panels", () => {
        const routes = targets.filter((t) => perRoute(t.expr));
        assert.ok(routes.length >= 1);
        for (const { panel, expr } of routes) {
            assert.match(panel.title, /probes and scrapes/);
            for (const sel of requestSelectors(expr)) assert.ok(!sel.includes("route"), `${panel.title}: every route`);
        }
    });
});
