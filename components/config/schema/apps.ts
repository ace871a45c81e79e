// `apps.<name>`: the environment knobs of each app (version, image, replicas, resources, autoscaling,
// canary, database pool). The app's static facts live with the app (appCatalog.ts).
import { z } from "zod";
import * as semverLib from "semver";
import { int, pattern, resourcesSchema, semver } from "./common";

/** An app image given by digest (built once in CI, promoted unchanged from stack to stack). */
const DIGEST_REFERENCE =
    /^[a-z0-9]+([._-][a-z0-9]+)*(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?@sha256:[a-f0-9]{64}$/;
const digestImage = () =>
    pattern(DIGEST_REFERENCE, 'an image reference pinned by digest like "registry.example.com/orders/users:1.2.0@sha256:<64 hex>"');

/** The tag of an image reference (`repo:tag@sha256:...`), if it has one. */
export function imageTag(reference: string): string | undefined {
    const name = reference.split("@")[0];
    const lastSegment = name.slice(name.lastIndexOf("/") + 1);
    return lastSegment.includes(":") ? lastSegment.slice(lastSegment.indexOf(":") + 1) : undefined;
}

const canarySchema = z.strictObject({
    /** Image tag of the canary Deployment. */
    version: semver(),
    /** The canary's image by digest; its tag, if any, must be `version`. Unset: built or looked up. */
    image: digestImage().optional(),
    /** Share of traffic (percent) routed to the canary: 0 = deployed but dark, 100 = fully promoted. */
    weight: int(0, 100),
    /** Pods of the canary Deployment (mesh on); with the mesh off the weight decides it. */
    replicas: int(1, 50).default(1),
});
export type CanaryConfig = z.infer<typeof canarySchema>;

const autoscalingSchema = z
    .strictObject({
        min: int(1, 100),
        max: int(1, 100),
        cpuPercent: int(1, 100).default(70),
    })
    .refine((a) => a.max >= a.min, { error: "max must be >= min", path: ["max"] });
export type AutoscalingConfig = z.infer<typeof autoscalingSchema>;

/** The app's PostgreSQL client pool (env DB_POOL_MAX, DB_POOL_ACQUIRE_TIMEOUT_MS, DB_STATEMENT_TIMEOUT_MS). */
const dbPoolSchema = z.strictObject({
    /** Connections per app process; the worst case over all pods must fit database.maxConnections. */
    max: int(1, 200).default(5),
    /** Wait for a free pool connection (and for a new one to open) before answering 503. */
    acquireTimeoutMs: int(10, 60000).default(1000),
    /** The server cancels a statement after this long. */
    statementTimeoutMs: int(10, 600000).default(3000),
});
export type DbPoolConfig = z.infer<typeof dbPoolSchema>;

export const appSchema = z
    .strictObject({
        version: semver(),
        /** The stable image by digest; its tag, if any, must be `version`. Unset: built or looked up. */
        image: digestImage().optional(),
        replicas: int(1, 50).default(1),
        resources: resourcesSchema.default({
            requests: { cpu: "100m", memory: "128Mi" },
            limits: { cpu: "500m", memory: "256Mi" },
        }),
        autoscaling: autoscalingSchema.optional(),
        canary: canarySchema.optional(),
        logLevel: z.enum(["debug", "info", "warn", "error"], { error: "must be one of debug | info | warn | error" }).default("info"),
        dbPool: dbPoolSchema.prefault({}),
    })
    .superRefine((app, ctx) => {
        for (const [path, image, version, versionKey] of [
            [["image"], app.image, app.version, "version"],
            [["canary", "image"], app.canary?.image, app.canary?.version, "canary.version"],
        ] as const) {
            const tag = image && imageTag(image);
            if (tag !== undefined && tag !== version) {
                ctx.addIssue({
                    code: "custom",
                    path: [...path],
                    input: image,
                    message: `its tag ${tag} differs from ${versionKey} ${version}`,
                });
            }
        }
        if (app.canary && semverLib.eq(app.canary.version, app.version)) {
            ctx.addIssue({
                code: "custom",
                path: ["canary", "version"],
                input: app.canary.version,
                message: `must differ from the stable version ${app.version} (remove canary once promoted)`,
            });
        }
    });
export type AppConfig = z.infer<typeof appSchema>;
