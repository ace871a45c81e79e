// Defaults that differ by environment. Stack config always wins; these only fill gaps, so the
// code never branches on the stack name.
import type { Environment } from "./schema";

export const ENVIRONMENT_DEFAULTS: Record<Environment, Record<string, unknown>> = {
    dev: {
        protect: false,
        mesh: { tracingSamplePercent: 100, gateway: { serviceType: "NodePort" } },
        database: { storage: { size: "1Gi" }, maxConnections: 50, backup: { retentionDays: 3, volumeSize: "1Gi" } },
        observability: { prometheus: { retention: "2d", storageSize: "2Gi" } },
    },
    staging: {
        protect: false,
        mesh: { tracingSamplePercent: 10, mtlsMode: "STRICT" },
        database: { maxConnections: 100, backup: { retentionDays: 7 } },
        observability: { prometheus: { retention: "7d" }, alerting: { requireReceiver: true } },
    },
    prod: {
        protect: true,
        mesh: { tracingSamplePercent: 1, mtlsMode: "STRICT" },
        database: {
            maxConnections: 200,
            backup: { retentionDays: 30, keepLast: 7 },
            // Point-in-time recovery: RPO of minutes instead of the backup interval.
            walArchiving: { enabled: true },
        },
        observability: { prometheus: { retention: "30d", storageSize: "50Gi" }, alerting: { requireReceiver: true } },
    },
};
