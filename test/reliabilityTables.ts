// The README's reliability tables, computed from the same modules the program uses: the
// connection budget, the alert rules and the recovery objectives of every shipped stack.
import type { StackConfig } from "../components/config";
import { alertNames, platformAlertRules } from "../components/observability";
import type { AlertRule, RuleGroup } from "../components/observability/alertRules";
import { backupMissingAfterSeconds, recoveryPointObjective, recoveryTimes } from "../components/database/backupSchedule";
import { describeAppBudget, memorySizing, stackConnectionBudget } from "../components/budgets/connectionBudget";
import { WAL_ARCHIVE_WAIT_SECONDS } from "../components/database/serverSpec";
import { appCatalog, SHIPPED_STACKS, stackConfig } from "./harness";

const configs = (): Array<[string, StackConfig]> => SHIPPED_STACKS.map((s) => [s, stackConfig(s)]);

function table(header: string[], rows: string[][]): string {
    const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
    return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function duration(seconds: number): string {
    if (seconds < 120) return `${seconds} s`;
    if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
    return `${Math.round((seconds / 3600) * 10) / 10} h`;
}

export function connectionBudgetTable(): string {
    const rows = configs().map(([stack, c]) => {
        const b = stackConnectionBudget(c, appCatalog);
        const m = memorySizing(c.database);
        return [
            `\`${stack}\``,
            ...b.apps.map((a) => describeAppBudget(a, !!c.apps[a.app].autoscaling)),
            `${b.backup} + ${b.exporter} + ${b.superuserReserved}`,
            `**${b.required}** of ${b.maxConnections}`,
            `${c.database.resources.limits.memory}: ${m.sharedBuffersMiB} MiB / ${m.workMemKiB} kB`,
        ];
    });
    const apps = stackConnectionBudget(stackConfig("prod"), appCatalog).apps.map((a) => `\`${a.app}\``);
    return table(["stack", ...apps, "backup + exporter + superuser reserve", "needed", "memory limit: shared_buffers / work_mem"], rows);
}

function threshold(a: AlertRule): string {
    const m = /(>|<|==)\s*([\d.]+)\s*(\n|$)/.exec(a.expr);
    if (a.alert.includes("BudgetBurn")) return a.alert.endsWith("Fast") ? "14.4× over 1 h & 5 m, 6× over 6 h & 30 m" : "3× over 1 d & 2 h";
    if (a.alert === "PostgresNotReady") return "ready < wanted";
    if (a.alert === "PostgresBackupFailed") return "a run failed after the last success";
    if (a.alert === "PostgresWalArchivingFailing") return "archive failures for 15 min";
    if (a.alert === "PlatformPodCrashLooping") return "CrashLoopBackOff";
    if (a.alert === "PostgresBackupMissing") return `last success older than ${duration(Number(m![2]))}`;
    return m ? `${m[1]} ${m[2]}${a.alert.includes("Volume") || a.alert.includes("Connections") ? " %" : ""}` : "";
}

export function alertsTable(): string {
    const per: Record<string, RuleGroup[]> = Object.fromEntries(
        configs().map(([s, c]) => [
            s,
            platformAlertRules({ alerting: c.observability.alerting, database: c.database, postgresExporter: true }),
        ]),
    );
    const all = alertNames(per.prod);
    const rule = (stack: string, name: string) =>
        per[stack].flatMap((g) => g.rules).find((r): r is AlertRule => "alert" in r && r.alert === name);
    const rows = all.map((name) => {
        const p = rule("prod", name)!;
        return [
            `\`${name}\``,
            p.labels.severity,
            ...SHIPPED_STACKS.map((s) => {
                const r = rule(s, name);
                return r ? threshold(r) : "—";
            }),
        ];
    });
    return table(["alert", "severity", ...SHIPPED_STACKS.map((s) => `\`${s}\``)], rows);
}

export function recoveryTable(): string {
    const rows = configs().map(([stack, c]) => {
        const rpo = recoveryPointObjective(c.database, WAL_ARCHIVE_WAIT_SECONDS);
        const rto = recoveryTimes(c.database, c.cluster.provider !== "kind");
        return [
            `\`${stack}\``,
            `\`${c.database.backup.schedule}\`, keep newest ${c.database.backup.keepLast}, ${c.database.backup.retentionDays} d`,
            rpo.rpoSource === "wal" ? "on" : "off",
            `${duration(rpo.rpoSeconds)}${rpo.rpoSource === "wal" ? " (archive_timeout + upload)" : " (longest gap + run deadline)"}`,
            duration(backupMissingAfterSeconds(c.database, c.observability.alerting.backupGraceMinutes)),
            `≤ ${duration(rto.restartSeconds)}`,
            `${c.database.storage.size}: ≈ ${duration(rto.restoreSeconds)}${rpo.rpoSource === "wal" ? " + WAL replay" : ""}`,
        ];
    });
    return table(
        [
            "stack",
            "backups",
            "WAL archiving",
            "RPO",
            "backup missing alert after",
            "RTO: pod or node lost",
            "RTO: restore (full volume at 18 MiB/s)",
        ],
        rows,
    );
}

/** The README blocks between `<!-- reliability:<name> -->` and `<!-- /reliability:<name> -->`. */
export const README_TABLES: Record<string, () => string> = {
    "connection-budget": connectionBudgetTable,
    alerts: alertsTable,
    recovery: recoveryTable,
};
