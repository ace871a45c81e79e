// The platform's alerts as PrometheusRule groups: app SLO burn rates, crash loops, volumes filling
// up, PostgreSQL down or out of connections, failed or missing backups and failing WAL archiving.
// Pure functions of config; every threshold comes from it (observability.alerting, database).
import type { AlertingConfig, DatabaseConfig } from "../config";
import { APP_NAMESPACE, DATA_NAMESPACE, MONITORING_NAMESPACE, TRACING_NAMESPACE } from "../naming";
import { backupMissingAfterSeconds } from "../database/backupSchedule";
import { BACKUP_NAME, POSTGRES_NAME } from "../database/names";

export type Severity = "critical" | "warning";

export interface AlertRule {
    alert: string;
    expr: string;
    for: string;
    labels: { severity: Severity };
    annotations: { summary: string; description: string; runbook: string };
}

export interface RecordingRule {
    record: string;
    expr: string;
}

export interface RuleGroup {
    name: string;
    rules: Array<AlertRule | RecordingRule>;
}

export interface AlertRulesInput {
    alerting: AlertingConfig;
    database: DatabaseConfig;
    /** PostgreSQL's metrics exporter runs (pg_up, connections, WAL archiver). */
    postgresExporter: boolean;
}

/** Namespaces whose pods and volumes the platform alerts cover. */
export const PLATFORM_NAMESPACES = [APP_NAMESPACE, DATA_NAMESPACE, MONITORING_NAMESPACE, TRACING_NAMESPACE] as const;
/** Volumes above this share are critical, whatever the warning threshold. */
export const VOLUME_CRITICAL_PERCENT = 95;

/**
 * Multi-window, multi-burn-rate alerts (Google SRE workbook): a fast burn pages when both the long
 * and the short window burn the budget at the rate; the short window ends the alert soon after
 * the burn stops.
 */
export const BURN_RATES = {
    fast: [
        { long: "1h", short: "5m", rate: 14.4 },
        { long: "6h", short: "30m", rate: 6 },
    ],
    slow: [{ long: "1d", short: "2h", rate: 3 }],
} as const;
const WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d"] as const;

const DOCS = "README.md (Operating the platform: alerts)";
const RESTORE_DOC = "components/database/RESTORE.md";

/** A number for PromQL without float noise (0.072, not 0.07200000000000001). */
function num(n: number): string {
    return String(Number(n.toPrecision(6)));
}

const sel = (labels: Record<string, string>) =>
    `{${Object.entries(labels)
        .map(([k, v]) => `${k}${v.startsWith("~") ? `=~"${v.slice(1)}"` : `="${v}"`}`)
        .join(", ")}}`;

const apiRequests = { namespace: APP_NAMESPACE, route: "~/api/.*" };
export const errorRatio = (w: string) => `app:http_requests:error_ratio_rate${w}`;
export const slowRatio = (w: string) => `app:http_requests:slow_ratio_rate${w}`;

function sloGroup(a: AlertingConfig): RuleGroup {
    const errorBudget = 1 - a.slo.availabilityPercent / 100;
    const latencyBudget = 1 - a.slo.latencyPercent / 100;
    const le = num(a.slo.latencySeconds);
    const records: RecordingRule[] = WINDOWS.flatMap((w) => [
        {
            record: errorRatio(w),
            expr:
                `sum by (app) (rate(http_requests_total${sel({ ...apiRequests, status: "~5.." })}[${w}]))\n` +
                `/\nsum by (app) (rate(http_requests_total${sel(apiRequests)}[${w}]))`,
        },
        {
            record: slowRatio(w),
            expr:
                `1 - (\n  sum by (app) (rate(http_request_duration_seconds_bucket${sel({ ...apiRequests, le })}[${w}]))\n` +
                `  /\n  sum by (app) (rate(http_request_duration_seconds_count${sel(apiRequests)}[${w}]))\n)`,
        },
    ]);
    const burn = (ratio: (w: string) => string, budget: number, speed: keyof typeof BURN_RATES) =>
        BURN_RATES[speed]
            .map((b) => `(${ratio(b.long)} > ${num(b.rate * budget)} and ${ratio(b.short)} > ${num(b.rate * budget)})`)
            .join("\nor\n");
    const slo = {
        errors: `${a.slo.availabilityPercent} % of /api requests without a 5xx`,
        latency: `${a.slo.latencyPercent} % of /api requests within ${a.slo.latencySeconds}s`,
    };
    const runbook =
        "Check the app's RED dashboard (Grafana: app RED) and its logs for the failing routes; a canary in progress is the first " +
        "suspect (roll it back: apps.<app>.canary.weight 0). Then PostgreSQL (PostgresDown, PostgresConnectionsNearLimit) and the " +
        `app's dependencies. See ${DOCS}.`;
    const alerts: AlertRule[] = [
        {
            alert: "AppErrorBudgetBurnFast",
            expr: burn(errorRatio, errorBudget, "fast"),
            for: "2m",
            labels: { severity: "critical" },
            annotations: {
                summary: "{{ $labels.app }} is burning its error budget fast",
                description: `{{ $labels.app }} answers 5xx to {{ $value | humanizePercentage }} of /api requests; at this rate the month's budget (SLO: ${slo.errors}) lasts days.`,
                runbook,
            },
        },
        {
            alert: "AppErrorBudgetBurnSlow",
            expr: burn(errorRatio, errorBudget, "slow"),
            for: "15m",
            labels: { severity: "warning" },
            annotations: {
                summary: "{{ $labels.app }} is burning its error budget",
                description: `{{ $labels.app }} answers 5xx to {{ $value | humanizePercentage }} of /api requests over a day (SLO: ${slo.errors}).`,
                runbook,
            },
        },
        {
            alert: "AppLatencyBudgetBurnFast",
            expr: burn(slowRatio, latencyBudget, "fast"),
            for: "2m",
            labels: { severity: "critical" },
            annotations: {
                summary: "{{ $labels.app }} is too slow for its latency SLO",
                description: `{{ $value | humanizePercentage }} of {{ $labels.app }}'s /api requests take longer than ${a.slo.latencySeconds}s (SLO: ${slo.latency}).`,
                runbook,
            },
        },
        {
            alert: "AppLatencyBudgetBurnSlow",
            expr: burn(slowRatio, latencyBudget, "slow"),
            for: "15m",
            labels: { severity: "warning" },
            annotations: {
                summary: "{{ $labels.app }} is slowly burning its latency budget",
                description: `{{ $value | humanizePercentage }} of {{ $labels.app }}'s /api requests over a day take longer than ${a.slo.latencySeconds}s (SLO: ${slo.latency}).`,
                runbook,
            },
        },
    ];
    return { name: "orders-platform.slo", rules: [...records, ...alerts] };
}

function workloadGroup(a: AlertingConfig): RuleGroup {
    const namespaces = `~${PLATFORM_NAMESPACES.join("|")}`;
    const usage = `kubelet_volume_stats_used_bytes${sel({ namespace: namespaces })}\n/\nkubelet_volume_stats_capacity_bytes${sel({ namespace: namespaces })}\n* 100`;
    const volumeRunbook =
        `Find the volume's owner (kubectl -n {{ $labels.namespace }} get pvc {{ $labels.persistentvolumeclaim }}). Prometheus: lower ` +
        `observability.prometheus.retention or raise storageSize. PostgreSQL: raise database.storage.size (the StorageClass expands ` +
        `online); a pg_wal that keeps growing means WAL archiving fails (PostgresWalArchivingFailing). Backups volume: raise ` +
        `database.backup.volumeSize or lower database.backup.keepLast.`;
    return {
        name: "orders-platform.workloads",
        rules: [
            {
                alert: "PlatformPodCrashLooping",
                expr: `max_over_time(kube_pod_container_status_waiting_reason${sel({ namespace: namespaces, reason: "CrashLoopBackOff" })}[5m]) >= 1`,
                for: "15m",
                labels: { severity: "warning" },
                annotations: {
                    summary: "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is crash-looping",
                    description: "The container keeps restarting and is in CrashLoopBackOff.",
                    runbook:
                        "kubectl -n {{ $labels.namespace }} logs {{ $labels.pod }} -c {{ $labels.container }} --previous; " +
                        "kubectl -n {{ $labels.namespace }} describe pod {{ $labels.pod }} (OOMKilled: raise the limits; failing " +
                        "probes: check the dependencies). A bad release: roll back its version in stack config.",
                },
            },
            {
                alert: "PlatformVolumeFillingUp",
                expr: `${usage} > ${a.volumeUsagePercent}`,
                for: "10m",
                labels: { severity: "warning" },
                annotations: {
                    summary: "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is {{ $value | humanize }}% full",
                    description: `More than ${a.volumeUsagePercent} % of the volume is used.`,
                    runbook: volumeRunbook,
                },
            },
            {
                alert: "PlatformVolumeAlmostFull",
                expr: `${usage} > ${VOLUME_CRITICAL_PERCENT}`,
                for: "5m",
                labels: { severity: "critical" },
                annotations: {
                    summary: "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} is {{ $value | humanize }}% full",
                    description: `More than ${VOLUME_CRITICAL_PERCENT} % of the volume is used; writes fail when it is full.`,
                    runbook: volumeRunbook,
                },
            },
        ],
    };
}

function databaseGroup(input: AlertRulesInput): RuleGroup {
    const { alerting: a, database } = input;
    const sts = { namespace: DATA_NAMESPACE, statefulset: POSTGRES_NAME };
    const pg = { namespace: DATA_NAMESPACE };
    const rules: AlertRule[] = [
        {
            alert: "PostgresNotReady",
            // Fewer ready than wanted: 0 wanted (database-stopped maintenance) never alerts.
            expr: `kube_statefulset_status_replicas_ready${sel(sts)} < kube_statefulset_replicas${sel(sts)}`,
            for: "2m",
            labels: { severity: "critical" },
            annotations: {
                summary: "PostgreSQL is not ready",
                description: "The postgres StatefulSet has no ready pod: the apps answer 503 to everything that needs the database.",
                runbook:
                    "kubectl -n orders-data describe pod postgres-0 and logs postgres-0 -c postgres. Pending: the volume's zone or node " +
                    "capacity. Crash-looping: disk full (PlatformVolumeAlmostFull) or a bad setting. Data lost: restore per " +
                    `${RESTORE_DOC}.`,
            },
        },
    ];
    if (input.postgresExporter) {
        rules.push(
            {
                alert: "PostgresDown",
                expr: `pg_up${sel(pg)} == 0`,
                for: "1m",
                labels: { severity: "critical" },
                annotations: {
                    summary: "PostgreSQL does not answer its exporter",
                    description: "The metrics exporter next to PostgreSQL cannot connect to it over the local socket.",
                    runbook: `As PostgresNotReady: kubectl -n orders-data logs postgres-0 -c postgres. See ${RESTORE_DOC} if the data is lost.`,
                },
            },
            {
                alert: "PostgresConnectionsNearLimit",
                expr: `sum(pg_stat_activity_count${sel(pg)}) / max(pg_settings_max_connections${sel(pg)}) * 100 > ${a.connectionsPercent}`,
                for: "10m",
                labels: { severity: "warning" },
                annotations: {
                    summary: "PostgreSQL uses {{ $value | humanize }}% of max_connections",
                    description: `More than ${a.connectionsPercent} % of max_connections (${database.maxConnections}) are in use; past the limit the apps answer 503.`,
                    runbook:
                        "The connection budget (README: connection arithmetic) says what each app may hold; a client above its share " +
                        "hits its role's CONNECTION LIMIT. Look for leaks or long transactions (pg_stat_activity), then raise " +
                        "database.maxConnections with the memory limit, or lower apps.<app>.dbPool.max.",
                },
            },
        );
        if (database.walArchiving.enabled) {
            rules.push({
                alert: "PostgresWalArchivingFailing",
                expr: `increase(pg_stat_archiver_failed_count${sel(pg)}[15m]) > 0`,
                for: "15m",
                labels: { severity: "critical" },
                annotations: {
                    summary: "WAL archiving to the backup bucket keeps failing",
                    description:
                        "archive_command fails: point-in-time recovery stops at the last archived segment, and pg_wal grows until the " +
                        "volume is full.",
                    runbook:
                        "kubectl -n orders-data logs postgres-0 -c wal-upload (credentials: the postgres ServiceAccount's IRSA role / " +
                        "Workload Identity; network: egress to the object store). PostgreSQL retries by itself once uploads work.",
                },
            });
        }
    }
    if (database.backup.enabled) {
        const job = { namespace: DATA_NAMESPACE, job_name: `~${BACKUP_NAME}-[0-9]+` };
        const cron = { namespace: DATA_NAMESPACE, cronjob: BACKUP_NAME };
        const missingAfter = backupMissingAfterSeconds(database, a.backupGraceMinutes);
        rules.push(
            {
                alert: "PostgresBackupFailed",
                // The newest failed run started after the last success (0 when there never was one).
                expr:
                    `max(kube_job_status_start_time${sel(job)} and on (namespace, job_name) kube_job_failed${sel({ ...job, condition: "true" })} == 1)\n` +
                    `> (max(kube_cronjob_status_last_successful_time${sel(cron)}) or vector(0))`,
                for: "0m",
                labels: { severity: "warning" },
                annotations: {
                    summary: "The last PostgreSQL backup failed",
                    description:
                        "A postgres-backup Job failed after the last successful backup. No newer backup exists until the next run succeeds.",
                    runbook:
                        "kubectl -n orders-data logs job/<failed postgres-backup job> --all-containers. Start a run by hand once fixed: " +
                        `kubectl -n orders-data create job --from=cronjob/${BACKUP_NAME} ${BACKUP_NAME}-manual. Retention never deletes ` +
                        "the newest database.backup.keepLast successful backups.",
                },
            },
            {
                alert: "PostgresBackupMissing",
                expr:
                    `time() - (max(kube_cronjob_status_last_successful_time${sel(cron)}) or max(kube_cronjob_created${sel(cron)})) > ${missingAfter}\n` +
                    `unless on () (max(kube_cronjob_spec_suspend${sel(cron)}) == 1)`,
                for: "0m",
                labels: { severity: "critical" },
                annotations: {
                    summary: "No successful PostgreSQL backup for {{ $value | humanizeDuration }}",
                    description:
                        `The last successful backup is older than the schedule's longest gap plus a run's deadline plus ` +
                        `${a.backupGraceMinutes} min (${missingAfter}s): runs fail, or do not start.`,
                    runbook:
                        `kubectl -n orders-data get cronjob,jobs -l app.kubernetes.io/name=${BACKUP_NAME}; a run that never starts: ` +
                        "the CronJob's events (startingDeadlineSeconds, suspended by database.maintenance?). Then as PostgresBackupFailed.",
                },
            },
        );
    }
    return { name: "orders-platform.database", rules };
}

export function platformAlertRules(input: AlertRulesInput): RuleGroup[] {
    return [sloGroup(input.alerting), workloadGroup(input.alerting), databaseGroup(input)];
}

/** Names of the alerting rules, for documentation and tests. */
export function alertNames(groups: RuleGroup[]): string[] {
    return groups.flatMap((g) => g.rules.filter((r): r is AlertRule => "alert" in r).map((r) => r.alert));
}
