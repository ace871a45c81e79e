// Static facts of each app (port, health paths, dependencies) live with the app, in the
// `ordersPlatform` field of apps/<name>/package.json. They are validated like stack config.
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import { ConfigError, describeIssues } from "./errors";

const HTTP_PATH = /^\/[A-Za-z0-9/_.-]*$/;
const httpPath = z.string().regex(HTTP_PATH, { error: 'must be an absolute HTTP path like "/healthz"' });

export const appFactsSchema = z.strictObject({
    port: z.number().int().min(1024).max(65535),
    /** Public API prefix routed from the edge, e.g. "/api/users". */
    apiPrefix: httpPath,
    health: z.strictObject({ liveness: httpPath, readiness: httpPath, startup: httpPath }),
    metricsPath: httpPath,
    /** Apps this app calls over HTTP (each becomes an allowed network edge). */
    calls: z.array(z.string()).default([]),
    /** Whether the app gets its own database and role in the shared Postgres. */
    database: z.boolean(),
    /** Seconds the app needs to drain in-flight requests after SIGTERM. */
    shutdownGraceSeconds: z.number().int().min(1).max(300),
});

export interface AppFacts extends z.infer<typeof appFactsSchema> {
    name: string;
    /** Version of the source in this checkout (package.json version): the only one that is built. */
    checkoutVersion: string;
    /** Directory of the app (Docker build context is its parent, apps/). */
    dir: string;
}

export type AppCatalog = ReadonlyMap<string, AppFacts>;

export const APPS_DIR = path.resolve(__dirname, "..", "..", "apps");

/** Reads every apps/<name>/package.json that declares `ordersPlatform` facts. */
export function loadAppCatalog(appsDir: string = APPS_DIR): AppCatalog {
    const catalog = new Map<string, AppFacts>();
    for (const name of fs.readdirSync(appsDir).sort()) {
        const manifestPath = path.join(appsDir, name, "package.json");
        if (!fs.existsSync(manifestPath)) continue;
        const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
        if (!manifest.ordersPlatform) continue;
        const parsed = appFactsSchema.safeParse(manifest.ordersPlatform, { reportInput: true });
        if (!parsed.success) {
            const problems = describeIssues(appFactsSchema, manifest.ordersPlatform, parsed.error.issues).map(
                (p) => `${path.relative(process.cwd(), manifestPath)} ordersPlatform: ${p.replace(/^orders-platform:/, "")}`,
            );
            throw new ConfigError("(app catalog)", problems);
        }
        catalog.set(name, { ...parsed.data, name, checkoutVersion: manifest.version, dir: path.join(appsDir, name) });
    }
    for (const app of catalog.values()) {
        for (const callee of app.calls) {
            if (!catalog.has(callee)) {
                throw new ConfigError("(app catalog)", [
                    `apps/${app.name}/package.json ordersPlatform.calls names "${callee}", which is not an app`,
                ]);
            }
        }
    }
    return catalog;
}
