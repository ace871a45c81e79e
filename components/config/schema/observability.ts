// `observability`: Prometheus, Grafana, Jaeger, alerting (receivers, routes, SLOs) and logs (Loki, Alloy).
import { z } from "zod";
import { DURATION, EMAIL, RETENTION, bool, decimal, int, memory, pattern, resourcesSchema } from "./common";

/** Upper bounds of the apps' http_request_duration_seconds histogram: a latency SLO threshold must be one of them. */
export const APP_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

const RECEIVER_NAME = /^[a-z][a-z0-9-]{0,39}$/;
export const RECEIVER_KINDS = ["email", "slack", "webhook"] as const;

/**
 * One Alertmanager receiver: exactly one of email, slack or webhook. URLs and passwords never sit
 * here: they are `alertingSecrets.<receiver>` (set with `pulumi config set --secret`).
 */
const receiverSchema = z
    .strictObject({
        email: z
            .strictObject({
                to: pattern(EMAIL, "an e-mail address"),
                from: pattern(EMAIL, "an e-mail address"),
                /** SMTP relay as host:port. */
                smarthost: pattern(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'a host:port like "smtp.example.com:587"'),
                /** SMTP login; its password is alertingSecrets.<receiver>. */
                username: z.string().min(1).optional(),
                requireTls: bool().default(true),
            })
            .optional(),
        slack: z.strictObject({ channel: pattern(/^[#@]?[A-Za-z0-9._-]+$/, 'a Slack channel like "#orders-alerts"') }).optional(),
        /** Generic webhook (Alertmanager's JSON payload); the URL is alertingSecrets.<receiver>. */
        webhook: z.strictObject({ maxAlerts: int(0, 1000).default(0) }).optional(),
        sendResolved: bool().default(true),
    })
    .superRefine((r, ctx) => {
        const kinds = RECEIVER_KINDS.filter((k) => r[k] !== undefined);
        if (kinds.length !== 1) {
            ctx.addIssue({
                code: "custom",
                path: [],
                input: kinds,
                message: `needs exactly one of ${RECEIVER_KINDS.join(" | ")} (found ${kinds.length ? kinds.join(", ") : "none"})`,
            });
        }
    });
export type ReceiverConfig = z.infer<typeof receiverSchema>;

const alertingSchema = z
    .strictObject({
        receivers: z
            .record(pattern(RECEIVER_NAME, 'a receiver name like "oncall" (lowercase, digits, dashes)'), receiverSchema)
            .default({}),
        route: z
            .strictObject({
                /** Receives every alert. */
                receiver: z.string().optional(),
                /** Also receives the critical ones (e.g. a pager), besides route.receiver. */
                criticalReceiver: z.string().optional(),
                groupWait: pattern(DURATION, 'a duration like "30s"').default("30s"),
                groupInterval: pattern(DURATION, 'a duration like "5m"').default("5m"),
                repeatInterval: pattern(DURATION, 'a duration like "4h"').default("4h"),
            })
            .prefault({}),
        /** Refuse a stack whose alerts would reach nobody (staging and prod). */
        requireReceiver: bool().default(false),
        slo: z
            .strictObject({
                /** Share of /api requests that must not fail with a 5xx, per app. */
                availabilityPercent: decimal(90, 99.999).default(99.5),
                /** Latency threshold; one of the apps' histogram buckets. */
                latencySeconds: decimal(0.001, 10)
                    .refine((v) => (APP_LATENCY_BUCKETS as readonly number[]).includes(v), {
                        error: `must be one of the apps' histogram buckets: ${APP_LATENCY_BUCKETS.join(", ")}`,
                    })
                    .default(0.5),
                /** Share of /api requests that must be faster than latencySeconds. */
                latencyPercent: decimal(50, 99.999).default(99),
            })
            .prefault({}),
        /** A backup is missing once the last success is older than the schedule's interval plus this. */
        backupGraceMinutes: int(5, 10080).default(60),
        /** A platform volume is filling up above this share (critical above 95 %). */
        volumeUsagePercent: int(50, 94).default(85),
        /** PostgreSQL client connections above this share of max_connections. */
        connectionsPercent: int(50, 100).default(85),
    })
    .superRefine((a, ctx) => {
        const names = Object.keys(a.receivers);
        for (const key of ["receiver", "criticalReceiver"] as const) {
            const name = a.route[key];
            if (name !== undefined && !names.includes(name)) {
                ctx.addIssue({
                    code: "custom",
                    path: ["route", key],
                    input: name,
                    message: `names no receiver; receivers here: ${names.length ? names.join(", ") : "(none)"}`,
                });
            }
        }
        if (names.length > 0 && a.route.receiver === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["route", "receiver"],
                input: undefined,
                message: `is required when receivers are configured (one of ${names.join(", ")})`,
            });
        }
        if (a.requireReceiver && a.route.receiver === undefined) {
            ctx.addIssue({
                code: "custom",
                path: ["route", "receiver"],
                input: undefined,
                message:
                    "is required: alerting.requireReceiver is true here, and without a receiver failed backups and outages alert nobody " +
                    "(add observability.alerting.receivers.<name> with email, slack or webhook)",
            });
        }
    });
export type AlertingConfig = z.infer<typeof alertingSchema>;

const PROMETHEUS_RESOURCES = { requests: { cpu: "200m", memory: "1Gi" }, limits: { cpu: "1", memory: "2Gi" } };
const JAEGER_RESOURCES = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "1Gi" } };

/** Hours of a retention like "7d" (Prometheus duration units: h, d, w, y = 365d). */
export function retentionHours(retention: string): number {
    const m = /^(\d+)(h|d|w|y)$/.exec(retention);
    if (!m) throw new Error(`retention ${retention} is not like "7d"`);
    return Number(m[1]) * { h: 1, d: 24, w: 168, y: 8760 }[m[2] as "h" | "d" | "w" | "y"];
}

const LOKI_RESOURCES = { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } };
const LOG_COLLECTOR_RESOURCES = { requests: { cpu: "50m", memory: "96Mi" }, limits: { cpu: "500m", memory: "256Mi" } };

/** Centralised logs: Loki (monolithic) and Grafana Alloy on every node. */
const logsSchema = z.strictObject({
    enabled: bool().default(true),
    /** How long Loki keeps logs (its compactor deletes older ones); whole days, Loki's index period. */
    retention: pattern(RETENTION, 'a retention like "7d"')
        // A malformed value is reported by the pattern alone.
        .refine((r) => !RETENTION.test(r) || (retentionHours(r) >= 24 && retentionHours(r) % 24 === 0), {
            error: 'must be whole days (Loki deletes by its 24h index period), e.g. "7d" or "168h"',
        })
        .default("7d"),
    /** Loki's volume: every log (filesystem store, kind and existing clusters) or its WAL and index cache (object storage). */
    storageSize: memory().default("10Gi"),
    resources: resourcesSchema.default(LOKI_RESOURCES),
    /** The Alloy collector on each node. */
    collector: z.strictObject({ resources: resourcesSchema.default(LOG_COLLECTOR_RESOURCES) }).prefault({}),
});
export type LogsConfig = z.infer<typeof logsSchema>;

export const observabilitySchema = z
    .strictObject({
        prometheus: z
            .strictObject({
                enabled: bool().default(true),
                retention: pattern(RETENTION, 'a retention like "15d"').default("15d"),
                storageSize: memory().default("10Gi"),
                scrapeInterval: pattern(DURATION, 'a duration like "30s"').default("30s"),
                /** Prometheus server container; memory grows with series count and retention. */
                resources: resourcesSchema.default(PROMETHEUS_RESOURCES),
            })
            .prefault({}),
        grafana: z.strictObject({ enabled: bool().default(true) }).prefault({}),
        jaeger: z
            .strictObject({
                enabled: bool().default(true),
                /** Traces kept by the in-memory store (oldest are evicted first). */
                maxTraces: int(1000, 10000000).default(50000),
                resources: resourcesSchema.default(JAEGER_RESOURCES),
            })
            .prefault({}),
        alerting: alertingSchema.prefault({}),
        logs: logsSchema.prefault({}),
    })
    .refine((o) => !o.grafana.enabled || o.prometheus.enabled, {
        error: "grafana.enabled needs prometheus.enabled (Grafana ships with kube-prometheus-stack)",
        path: ["grafana", "enabled"],
    });
export type ObservabilityConfig = z.infer<typeof observabilitySchema>;
