// The traffic graph must allow what the apps' code actually requests from each other, or the
// mesh's AuthorizationPolicies (generated from it) would deny it in the cluster.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { trafficGraph } from "../components/network/appGraph";
import { appCatalog } from "./harness";

/** Literal request paths in an app's source: `.get("/x")`, `.get(\`/x/${id}\`)`, `.probe("/x")`. */
function requestedPaths(appDir: string): string[] {
    const srcDir = path.join(appDir, "src");
    const source = fs
        .readdirSync(srcDir)
        .filter((f) => f.endsWith(".ts"))
        .map((f) => fs.readFileSync(path.join(srcDir, f), "utf8"))
        .join("\n");
    return [...source.matchAll(/\.(?:get|post|probe)\(\s*[`"'](\/[^`"'$]*)/g)].map((m) => m[1]);
}

describe("traffic graph", () => {
    const graph = trafficGraph(appCatalog, { metricsScraping: true, backups: true });

    for (const app of appCatalog.values()) {
        for (const callee of app.calls) {
            it(`${app.name} -> ${callee}: allows every path ${app.name}'s code requests`, () => {
                const edge = graph.find(
                    (e) => e.from.kind === "app" && e.from.name === app.name && e.to.kind === "app" && e.to.name === callee,
                );
                assert.ok(edge?.paths, `no edge ${app.name} -> ${callee}`);
                const requested = requestedPaths(app.dir);
                assert.ok(requested.length > 0, `found no requests to ${callee} in apps/${app.name}/src`);
                for (const p of requested) {
                    assert.ok(
                        edge.paths.some((allowed) => p === allowed || p.startsWith(`${allowed.replace(/\/$/, "")}/`)),
                        `${app.name} requests ${p} from ${callee}, but the graph allows only ${edge.paths.join(", ")}`,
                    );
                }
            });
        }
    }

    it("gives every app exactly one public edge, on its API prefix", () => {
        for (const app of appCatalog.values()) {
            const edges = graph.filter((e) => e.from.kind === "edge" && e.to.kind === "app" && e.to.name === app.name);
            assert.deepEqual(
                edges.map((e) => e.paths),
                [[app.apiPrefix]],
            );
        }
    });
});
