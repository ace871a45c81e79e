// The files of the postgres-scripts ConfigMap: the bootstrap script and SQL, pg_hba.conf, and the
// shell scripts of backups, WAL archiving and restores (scripts/, tested directly with sh).
import * as fs from "node:fs";
import * as path from "node:path";
import { BOOTSTRAP_SCRIPT, bootstrapSql, type BootstrapInput } from "./bootstrapSpec";
import { BACKUP_ROLE } from "./names";

/** Shell scripts of the backup job, the uploader and WAL archiving (tested directly with sh). */
export const SCRIPTS_DIR = path.join(__dirname, "scripts");
export const SHELL_SCRIPTS = [
    "backup.sh",
    "backup-retention.sh",
    "backup-store.sh",
    "backup-upload.sh",
    "wal-archive.sh",
    "wal-upload.sh",
    // Used by the restore procedure (RESTORE.md).
    "restore.sh",
    "pitr-prepare.sh",
];

/**
 * pg_hba.conf with WAL archiving: the rules the image writes at initdb, plus base backups
 * (replication) for the backup role over the network. Same scram-sha-256 everywhere.
 */
export function pgHbaConf(): string {
    return [
        "# TYPE  DATABASE     USER      ADDRESS        METHOD",
        "local   all          all                      trust",
        "host    all          all       127.0.0.1/32   scram-sha-256",
        "host    all          all       ::1/128        scram-sha-256",
        "local   replication  all                      trust",
        "host    replication  all       127.0.0.1/32   scram-sha-256",
        "host    replication  all       ::1/128        scram-sha-256",
        `host    replication  ${BACKUP_ROLE}    all            scram-sha-256`,
        "host    all          all       all            scram-sha-256",
        "",
    ].join("\n");
}

export function scriptsData(b: BootstrapInput): Record<string, string> {
    const shell = Object.fromEntries(SHELL_SCRIPTS.map((f) => [f, fs.readFileSync(path.join(SCRIPTS_DIR, f), "utf8")]));
    return { "bootstrap.sh": BOOTSTRAP_SCRIPT, "bootstrap.sql": bootstrapSql(b), "pg_hba.conf": pgHbaConf(), ...shell };
}
