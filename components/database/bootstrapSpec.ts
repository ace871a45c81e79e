// The roles and databases of the apps: the SQL that converges them and the Job that runs it.
import { createHash } from "node:crypto";
import type * as k8s from "@pulumi/kubernetes";
import { containerSecurityContext, podSecurityContext, POSTGRES_UID, tmpVolume } from "../podSecurity";
import { EXPORTER_CONNECTIONS } from "../budgets/connectionBudget";
import {
    BACKUP_ROLE,
    BOOTSTRAP_POD_LABELS,
    BOOTSTRAP_SERVICE_ACCOUNT,
    MONITOR_ROLE,
    POSTGRES_HOST,
    POSTGRES_PORT,
    ROLES_SECRET,
    SUPERUSER_SECRET,
} from "./names";
import { clientEnv, jobPodMetadata, scriptsVolume, secretEnv } from "./podParts";

/** Connections the backup role may hold: pg_dump, and pg_basebackup's two WAL sender connections. */
export const BACKUP_ROLE_CONNECTION_LIMIT = 3;
export const JOB_RESOURCES = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } };

const IDENT = /^[a-z][a-z0-9_]*$/;

/** Role and database of an app ("orders-api" -> "orders_api": unquoted SQL identifiers stay simple). */
export function dbIdentifier(app: string): string {
    const id = app.replace(/-/g, "_");
    if (!IDENT.test(id)) throw new Error(`app name "${app}" cannot be a Postgres role/database name`);
    return id;
}

/** Env var the bootstrap Job reads an app role's password from. */
export function passwordEnv(role: string): string {
    return `${role.toUpperCase()}_PASSWORD`;
}

export function databaseUrl(role: string, password: string, database: string, host = POSTGRES_HOST): string {
    return `postgres://${role}:${encodeURIComponent(password)}@${host}:${POSTGRES_PORT}/${database}`;
}

export interface BootstrapInput {
    apps: string[];
    /** Per app: its role's CONNECTION LIMIT (the app's worst case in the connection budget); absent = none. */
    connectionLimits: Record<string, number>;
    /** The backup role takes base backups (REPLICATION) for point-in-time recovery. */
    baseBackups: boolean;
    /** A role for the metrics exporter. */
    monitor: boolean;
}

/**
 * SQL that converges roles and databases: creates what is missing and (re)sets passwords,
 * connection limits and ownership, so re-running it after any change (or on an existing database)
 * is safe. Passwords come from the environment via \getenv, never from the script or the command line.
 */
export function bootstrapSql(b: BootstrapInput): string {
    const lines = [
        "\\set ON_ERROR_STOP on",
        `\\getenv pw ${passwordEnv(BACKUP_ROLE)}`,
        `SELECT format('CREATE ROLE %I LOGIN', '${BACKUP_ROLE}') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${BACKUP_ROLE}')\\gexec`,
        `ALTER ROLE ${BACKUP_ROLE} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE ${b.baseBackups ? "REPLICATION" : "NOREPLICATION"} ` +
            `CONNECTION LIMIT ${BACKUP_ROLE_CONNECTION_LIMIT} PASSWORD :'pw';`,
        // Read-only access to every table, exactly what pg_dump needs.
        `GRANT pg_read_all_data TO ${BACKUP_ROLE};`,
    ];
    if (b.monitor) {
        lines.push(
            `SELECT format('CREATE ROLE %I LOGIN', '${MONITOR_ROLE}') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${MONITOR_ROLE}')\\gexec`,
            // No password: only the local socket (trust inside the pod) lets it in.
            `ALTER ROLE ${MONITOR_ROLE} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION CONNECTION LIMIT ${EXPORTER_CONNECTIONS} PASSWORD NULL;`,
            `GRANT pg_monitor TO ${MONITOR_ROLE};`,
        );
    }
    for (const app of b.apps) {
        const id = dbIdentifier(app);
        const limit = b.connectionLimits[app] ?? -1;
        lines.push(
            `\\getenv pw ${passwordEnv(id)}`,
            `SELECT format('CREATE ROLE %I LOGIN', '${id}') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${id}')\\gexec`,
            `ALTER ROLE ${id} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE CONNECTION LIMIT ${limit} PASSWORD :'pw';`,
            `SELECT format('CREATE DATABASE %I OWNER %I', '${id}', '${id}') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${id}')\\gexec`,
            `ALTER DATABASE ${id} OWNER TO ${id};`,
            `REVOKE ALL ON DATABASE ${id} FROM PUBLIC;`,
            `GRANT CONNECT ON DATABASE ${id} TO ${id}, ${BACKUP_ROLE};`,
        );
    }
    lines.push("\\unset pw");
    return lines.join("\n") + "\n";
}

export const BOOTSTRAP_SCRIPT = `#!/bin/sh
# Waits for Postgres, then converges roles and databases (idempotent).
set -eu
until pg_isready --quiet --timeout=5; do
  echo "waiting for $PGHOST:$PGPORT"
  sleep 2
done
psql --no-psqlrc --quiet --file=/scripts/bootstrap.sql
echo "roles and databases are up to date"
`;
/** Changes when the roles/databases to converge change: the bootstrap Job is then re-run. */
export function bootstrapJobName(b: BootstrapInput): string {
    const hash = createHash("sha256")
        .update(JSON.stringify([BOOTSTRAP_SCRIPT, bootstrapSql(b)]))
        .digest("hex")
        .slice(0, 8);
    return `postgres-bootstrap-${hash}`;
}

export function bootstrapJobSpec(image: string, apps: string[], labels: Record<string, string>): k8s.types.input.batch.v1.JobSpec {
    const tmp = tmpVolume("16Mi");
    return {
        backoffLimit: 10,
        activeDeadlineSeconds: 900,
        template: {
            metadata: jobPodMetadata({ ...labels, ...BOOTSTRAP_POD_LABELS }),
            spec: {
                restartPolicy: "OnFailure",
                serviceAccountName: BOOTSTRAP_SERVICE_ACCOUNT,
                automountServiceAccountToken: false,
                enableServiceLinks: false,
                securityContext: podSecurityContext(POSTGRES_UID),
                containers: [
                    {
                        name: "bootstrap",
                        image,
                        command: ["/scripts/bootstrap.sh"],
                        env: [
                            ...clientEnv({ secret: SUPERUSER_SECRET, key: "username" }),
                            { name: "PGDATABASE", value: "postgres" },
                            secretEnv("PGPASSWORD", SUPERUSER_SECRET, "password"),
                            secretEnv(passwordEnv(BACKUP_ROLE), ROLES_SECRET, BACKUP_ROLE),
                            ...apps.map((app) => secretEnv(passwordEnv(dbIdentifier(app)), ROLES_SECRET, dbIdentifier(app))),
                        ],
                        resources: JOB_RESOURCES,
                        securityContext: containerSecurityContext(POSTGRES_UID),
                        volumeMounts: [{ name: "scripts", mountPath: "/scripts", readOnly: true }, tmp.mount],
                    },
                ],
                volumes: [scriptsVolume, tmp.volume],
            },
        },
    };
}
