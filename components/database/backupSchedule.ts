// What a backup schedule promises: the longest gap between two runs, the time a run may take, and
// from them the recovery point objective (RPO) and the age at which a missing backup alerts.
// Pure arithmetic over the database config (the alert rules read it too).
import { Cron } from "croner";
import type { DatabaseConfig } from "../config";
import { parseMemory } from "../config/quantity";

/** Runs looked at to find the longest gap; a year of a daily schedule, decades of a monthly one. */
const SAMPLE_RUNS = 400;
/** A fixed start keeps the result (and the README) the same on every run. */
const SAMPLE_START = new Date("2026-01-01T00:00:00Z");
const GIB = 2 ** 30;

/** Seconds a backup run may take per GiB of database volume: pg_dump measured about 52 s/GiB, plus a base backup. */
export const BACKUP_SECONDS_PER_GIB = 90;

/** A run may take BACKUP_SECONDS_PER_GIB per GiB of data (at least an hour) before it is stopped and reported. */
export function backupDeadlineSeconds(config: DatabaseConfig): number {
    return Math.max(3600, Math.ceil(parseMemory(config.storage.size)! / GIB) * BACKUP_SECONDS_PER_GIB);
}

/** The longest time between two consecutive runs of a 5-field cron schedule (UTC, as the CronJob runs it). */
export function maxIntervalSeconds(schedule: string): number {
    const runs = new Cron(schedule, { timezone: "Etc/UTC", paused: true }).nextRuns(SAMPLE_RUNS, SAMPLE_START);
    if (runs.length < 2) throw new Error(`schedule "${schedule}" runs fewer than twice from ${SAMPLE_START.toISOString()}`);
    let longest = 0;
    for (let i = 1; i < runs.length; i++) longest = Math.max(longest, runs[i].getTime() - runs[i - 1].getTime());
    return longest / 1000;
}

/**
 * Age of the last successful backup at which it counts as missing: the schedule's longest gap,
 * plus the time a run may take (its deadline), plus the configured grace.
 */
export function backupMissingAfterSeconds(database: DatabaseConfig, graceMinutes: number): number {
    return maxIntervalSeconds(database.backup.schedule) + backupDeadlineSeconds(database) + graceMinutes * 60;
}

export interface RecoveryObjectives {
    /** Worst-case data loss, in seconds. */
    rpoSeconds: number;
    /** What bounds it. */
    rpoSource: "dumps" | "wal";
}

/**
 * Worst-case data loss while backups work: with WAL archiving, the archive timeout plus one
 * archive_command wait; otherwise everything since the start of the last dump, i.e. up to the
 * schedule's longest gap plus a run's deadline.
 */
export function recoveryPointObjective(database: DatabaseConfig, walArchiveWaitSeconds: number): RecoveryObjectives {
    if (database.walArchiving.enabled) {
        return { rpoSeconds: database.walArchiving.archiveTimeoutSeconds + walArchiveWaitSeconds, rpoSource: "wal" };
    }
    return { rpoSeconds: maxIntervalSeconds(database.backup.schedule) + backupDeadlineSeconds(database), rpoSource: "dumps" };
}

/** pg_restore measured about 18 MiB/s of database, index builds included (2 cores, local disk). */
export const RESTORE_MIB_PER_SECOND = 18;
/** PostgreSQL's startup probe allows 60 × 5 s before the kubelet restarts it. */
export const STARTUP_BUDGET_SECONDS = 300;
/** After a node is lost, Kubernetes force-detaches its volumes after 6 minutes. */
export const VOLUME_REATTACH_SECONDS = 360;

export interface RecoveryTimes {
    /** PostgreSQL back after its pod or node is lost (rescheduled with its volume). */
    restartSeconds: number;
    /** Reading a full volume's worth of data back from a dump (before any WAL replay). */
    restoreSeconds: number;
}

export function recoveryTimes(database: DatabaseConfig, networkVolumes: boolean): RecoveryTimes {
    const mib = parseMemory(database.storage.size)! / 2 ** 20;
    return {
        restartSeconds: STARTUP_BUDGET_SECONDS + (networkVolumes ? VOLUME_REATTACH_SECONDS : 0),
        restoreSeconds: Math.ceil(mib / RESTORE_MIB_PER_SECOND),
    };
}
