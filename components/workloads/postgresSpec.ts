// Pure builders for the shared Postgres: StatefulSet, Services, bootstrap Job, backup CronJob.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { POSTGRES_PORT } from "../appGraph";
import { BACKUP_OBJECT_PREFIX, WAL_OBJECT_PREFIX } from "../cluster/types";
import type { DatabaseConfig, ImageRefs } from "../config";
import { parseMemory } from "../config/quantity";
import { DATA_NAMESPACE } from "../naming";
import { EXPORTER_CONNECTIONS, type PostgresSettings } from "./connectionBudget";
import { containerSecurityContext, podSecurityContext, POSTGRES_UID, tmpVolume } from "./security";

type Input<T> = pulumi.Input<T>;
type Container = k8s.types.input.core.v1.Container;
type PodSpec = k8s.types.input.core.v1.PodSpec;

export const POSTGRES_NAME = "postgres";
export const POSTGRES_HEADLESS_NAME = "postgres-headless";
/** Client Service DNS name the apps connect to. */
export const POSTGRES_HOST = `${POSTGRES_NAME}.${DATA_NAMESPACE}.svc.cluster.local`;
export const SUPERUSER_SECRET = "postgres-superuser";
export const SUPERUSER_NAME = "postgres";
/** Passwords of the app roles and of the backup role, read by the bootstrap Job. */
export const ROLES_SECRET = "postgres-roles";
export const SCRIPTS_CONFIGMAP = "postgres-scripts";
export const BACKUP_NAME = "postgres-backup";
/** ServiceAccount of the bootstrap Job: its mesh identity is what Postgres' AuthorizationPolicy admits. */
export const BOOTSTRAP_SERVICE_ACCOUNT = "postgres-bootstrap";
export const BACKUP_ROLE = "backup";
/** Role of the metrics exporter: pg_monitor, no password (it connects over the pod's local socket). */
export const MONITOR_ROLE = "monitor";
/** Connections the backup role may hold: pg_dump, and pg_basebackup's two WAL sender connections. */
export const BACKUP_ROLE_CONNECTION_LIMIT = 3;
export const BACKUP_PVC = "postgres-backups";
export const DATABASE_URL_KEY = "DATABASE_URL";
/** Where the volume mounts; PGDATA is a subdirectory so lost+found never confuses initdb. */
export const DATA_MOUNT = "/var/lib/postgresql/data";
export const PGDATA = `${DATA_MOUNT}/pgdata`;

/** Pod labels the NetworkPolicies select on. */
export const POSTGRES_POD_LABELS = { "app.kubernetes.io/name": "postgres" } as const;
export const BACKUP_POD_LABELS = { "app.kubernetes.io/name": "postgres-backup" } as const;
export const BOOTSTRAP_POD_LABELS = { "app.kubernetes.io/name": "postgres-bootstrap" } as const;

/** Pinned images (components/versions.ts, or the stack's `images` overrides). */
export type PostgresImages = Pick<ImageRefs, "postgres" | "awsCli" | "gcloudCli" | "postgresExporter">;

export const JOB_RESOURCES = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } };
export const BACKUP_RESOURCES = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } };
export const EXPORTER_RESOURCES = { requests: { cpu: "20m", memory: "32Mi" }, limits: { cpu: "200m", memory: "128Mi" } };

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

// --- scripts -------------------------------------------------------------------

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

export function scriptsData(b: BootstrapInput): Record<string, string> {
    const shell = Object.fromEntries(SHELL_SCRIPTS.map((f) => [f, fs.readFileSync(path.join(SCRIPTS_DIR, f), "utf8")]));
    return { "bootstrap.sh": BOOTSTRAP_SCRIPT, "bootstrap.sql": bootstrapSql(b), "pg_hba.conf": pgHbaConf(), ...shell };
}

/** Changes when the roles/databases to converge change: the bootstrap Job is then re-run. */
export function bootstrapJobName(b: BootstrapInput): string {
    const hash = createHash("sha256")
        .update(JSON.stringify([BOOTSTRAP_SCRIPT, bootstrapSql(b)]))
        .digest("hex")
        .slice(0, 8);
    return `postgres-bootstrap-${hash}`;
}

/**
 * Dump order of the app databases: an app before the apps it calls. Dumps of several databases
 * cannot share one snapshot; in this order a caller's dump never refers to a row its callee's
 * (later) dump lacks, unless that row was deleted in between.
 */
export function dumpOrder(apps: ReadonlyArray<{ name: string; calls: string[] }>): string[] {
    const byName = new Map(apps.map((a) => [a.name, a]));
    const order: string[] = [];
    const visiting = new Set<string>();
    const visit = (name: string) => {
        if (order.includes(name)) return;
        if (visiting.has(name)) throw new Error(`apps call each other in a cycle through ${name}`);
        visiting.add(name);
        // Callers first: every app that calls `name` goes before it.
        for (const caller of [...byName.values()].filter((a) => a.calls.includes(name)).sort((x, y) => x.name.localeCompare(y.name))) {
            visit(caller.name);
        }
        visiting.delete(name);
        order.push(name);
    };
    for (const name of [...byName.keys()].sort()) visit(name);
    return order;
}

// --- shared pod pieces ------------------------------------------------------------

const secretEnv = (name: string, secret: string, key: string) => ({ name, valueFrom: { secretKeyRef: { name: secret, key } } });

function clientEnv(user: { name: string } | { secret: string; key: string }): k8s.types.input.core.v1.EnvVar[] {
    return [
        { name: "PGHOST", value: POSTGRES_HOST },
        { name: "PGPORT", value: String(POSTGRES_PORT) },
        "name" in user ? { name: "PGUSER", value: user.name } : secretEnv("PGUSER", user.secret, user.key),
        { name: "HOME", value: "/tmp" },
    ];
}

function jobPodMetadata(labels: Record<string, string>) {
    return {
        labels,
        // With the mesh the Job pods get their sidecar as a native sidecar (an init container with
        // restartPolicy Always), which Kubernetes stops when the Job's containers are done: the
        // Job completes and talks to Postgres over mTLS like every other client.
        annotations: { "sidecar.istio.io/nativeSidecar": "true" },
    };
}

const scriptsVolume = { name: "scripts", configMap: { name: SCRIPTS_CONFIGMAP, defaultMode: 0o555 } };

// --- StatefulSet ------------------------------------------------------------------

/** Port of the metrics exporter next to PostgreSQL. */
export const EXPORTER_PORT = 9187;
/** Object prefix of the archived WAL in the backup bucket (next to BACKUP_PREFIX). */
export const WAL_PREFIX = WAL_OBJECT_PREFIX;
/** Shared by the archive_command (postgres container) and the wal-upload container. */
export const WAL_SPOOL = "/wal-spool";
/** How long one archive_command waits for the upload before PostgreSQL retries the segment. */
export const WAL_ARCHIVE_WAIT_SECONDS = 60;
/** The wal-upload container writes the time here on every pass; its liveness probe reads it. */
export const WAL_UPLOAD_STALE_SECONDS = 120;

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

/** Where archived WAL goes, and the cloud CLI image that puts it there. */
export interface WalArchiveInput {
    store: "s3" | "gcs";
    /** s3://<bucket>/postgres-wal or gs://<bucket>/postgres-wal */
    url: Input<string>;
    /** AWS region (S3). */
    region?: string;
    uploaderImage: string;
    archiveTimeoutSeconds: number;
}

export interface StatefulSetInput {
    config: DatabaseConfig;
    image: string;
    labels: Record<string, string>;
    storageClassName: Input<string>;
    /** Keep PVCs when the StatefulSet is deleted (prod). */
    retainVolumes: boolean;
    /** Server settings from the connection budget (max_connections, memory). */
    settings: PostgresSettings;
    /** Database maintenance (`database-stopped`): 0 replicas, the volume stays. */
    stopped?: boolean;
    /** postgres_exporter image; undefined = no exporter. */
    exporterImage?: string;
    walArchive?: WalArchiveInput;
}

/** `-c name=value` arguments of the server: the connection budget and, with it, WAL archiving. */
export function postgresArgs(settings: PostgresSettings, wal?: Pick<WalArchiveInput, "archiveTimeoutSeconds">): string[] {
    const all: Record<string, string | number> = { ...settings };
    if (wal) {
        Object.assign(all, {
            wal_level: "replica",
            archive_mode: "on",
            archive_command: "/scripts/wal-archive.sh %p %f",
            archive_timeout: `${wal.archiveTimeoutSeconds}s`,
            hba_file: "/scripts/pg_hba.conf",
        });
    }
    return Object.entries(all).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
}

function storeEnv(store: "s3" | "gcs", region?: string): k8s.types.input.core.v1.EnvVar[] {
    // IRSA: the EKS webhook injects AWS_ROLE_ARN and the web identity token for the ServiceAccount;
    // Workload Identity: credentials come from the GKE metadata server.
    return store === "s3"
        ? [
              { name: "STORE", value: "s3" },
              { name: "AWS_REGION", value: region ?? "" },
              { name: "HOME", value: "/tmp" },
          ]
        : [
              { name: "STORE", value: "gcs" },
              { name: "CLOUDSDK_CONFIG", value: "/tmp/gcloud" },
          ];
}

function exporterContainer(image: string): Container {
    const probe = { httpGet: { path: "/", port: "metrics" as Input<string> }, timeoutSeconds: 5 };
    return {
        name: "metrics",
        image,
        imagePullPolicy: "IfNotPresent",
        args: [`--web.listen-address=:${EXPORTER_PORT}`],
        // The local socket: no password, no network, and only this pod can use it.
        env: [{ name: "DATA_SOURCE_NAME", value: `host=/var/run/postgresql user=${MONITOR_ROLE} dbname=postgres sslmode=disable` }],
        ports: [{ name: "metrics", containerPort: EXPORTER_PORT, protocol: "TCP" }],
        resources: EXPORTER_RESOURCES,
        startupProbe: { ...probe, periodSeconds: 2, failureThreshold: 30 },
        readinessProbe: { ...probe, periodSeconds: 30 },
        livenessProbe: { ...probe, periodSeconds: 30, failureThreshold: 4 },
        securityContext: containerSecurityContext(POSTGRES_UID),
        volumeMounts: [
            { name: "run", mountPath: "/var/run/postgresql", readOnly: true },
            { name: "tmp", mountPath: "/tmp" },
        ],
    };
}

function walUploadContainer(wal: WalArchiveInput): Container {
    const heartbeat = {
        exec: { command: ["sh", "-c", `[ $(( $(date +%s) - $(cat ${WAL_SPOOL}/heartbeat) )) -lt ${WAL_UPLOAD_STALE_SECONDS} ]`] },
        timeoutSeconds: 5,
    };
    return {
        name: "wal-upload",
        image: wal.uploaderImage,
        imagePullPolicy: "IfNotPresent",
        command: ["/scripts/wal-upload.sh"],
        env: [...storeEnv(wal.store, wal.region), { name: "WAL_URL", value: wal.url }, { name: "WAL_SPOOL", value: WAL_SPOOL }],
        resources: BACKUP_RESOURCES,
        // Readiness must not take PostgreSQL out of its Service when an upload stalls: the
        // archive alerts report that. Liveness restarts a wedged upload loop.
        startupProbe: { ...heartbeat, periodSeconds: 5, failureThreshold: 24 },
        readinessProbe: { exec: { command: ["test", "-d", `${WAL_SPOOL}/ready`] }, periodSeconds: 30 },
        livenessProbe: { ...heartbeat, periodSeconds: 30, failureThreshold: 3 },
        securityContext: containerSecurityContext(POSTGRES_UID),
        volumeMounts: [
            { name: "scripts", mountPath: "/scripts", readOnly: true },
            { name: "wal-spool", mountPath: WAL_SPOOL },
            { name: "tmp", mountPath: "/tmp" },
        ],
    };
}

/** Hash of what only takes effect on a restart (server arguments, pg_hba.conf, archive script). */
export function serverConfigHash(args: string[], wal: boolean): string {
    const parts = wal ? [args, pgHbaConf(), fs.readFileSync(path.join(SCRIPTS_DIR, "wal-archive.sh"), "utf8")] : [args];
    return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 16);
}

export function statefulSetSpec(s: StatefulSetInput): k8s.types.input.apps.v1.StatefulSetSpec {
    const tmp = tmpVolume();
    const pgIsReady = {
        exec: { command: ["pg_isready", "--quiet", "--host=127.0.0.1", `--port=${POSTGRES_PORT}`, `--username=${SUPERUSER_NAME}`] },
        timeoutSeconds: 5,
    };
    const args = postgresArgs(s.settings, s.walArchive);
    const wal = s.walArchive;
    const annotations: Record<string, string> = {
        "kubectl.kubernetes.io/default-container": "postgres",
        // Node drains may move it (the PodDisruptionBudget allows one at a time); the cluster
        // autoscaler may not, merely to pack nodes tighter.
        "cluster-autoscaler.kubernetes.io/safe-to-evict": "false",
        "orders-platform/server-config-hash": serverConfigHash(args, !!wal),
    };
    if (s.exporterImage) {
        // With the mesh, Istio merges these metrics into the sidecar's scrape endpoint.
        Object.assign(annotations, {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": String(EXPORTER_PORT),
            "prometheus.io/path": "/metrics",
        });
    }
    const postgres: Container = {
        name: "postgres",
        image: s.image,
        imagePullPolicy: "IfNotPresent",
        args,
        ports: [{ name: "postgres", containerPort: POSTGRES_PORT, protocol: "TCP" }],
        env: [
            { name: "PGDATA", value: PGDATA },
            secretEnv("POSTGRES_USER", SUPERUSER_SECRET, "username"),
            secretEnv("POSTGRES_PASSWORD", SUPERUSER_SECRET, "password"),
            { name: "POSTGRES_INITDB_ARGS", value: "--auth-host=scram-sha-256 --data-checksums" },
            ...(wal
                ? [
                      { name: "WAL_SPOOL", value: WAL_SPOOL },
                      { name: "WAL_ARCHIVE_WAIT_SECONDS", value: String(WAL_ARCHIVE_WAIT_SECONDS) },
                  ]
                : []),
        ],
        resources: { requests: { ...s.config.resources.requests }, limits: { ...s.config.resources.limits } },
        startupProbe: { ...pgIsReady, periodSeconds: 5, failureThreshold: 60 },
        readinessProbe: { ...pgIsReady, periodSeconds: 5, failureThreshold: 3 },
        livenessProbe: { ...pgIsReady, periodSeconds: 10, failureThreshold: 6 },
        securityContext: containerSecurityContext(POSTGRES_UID),
        volumeMounts: [
            { name: "data", mountPath: DATA_MOUNT },
            { name: "run", mountPath: "/var/run/postgresql" },
            { name: "shm", mountPath: "/dev/shm" },
            tmp.mount,
            ...(wal
                ? [
                      { name: "scripts", mountPath: "/scripts", readOnly: true },
                      { name: "wal-spool", mountPath: WAL_SPOOL },
                  ]
                : []),
        ],
    };
    const containers = [postgres];
    if (s.exporterImage) containers.push(exporterContainer(s.exporterImage));
    if (wal) containers.push(walUploadContainer(wal));
    return {
        serviceName: POSTGRES_HEADLESS_NAME,
        replicas: s.stopped ? 0 : 1,
        revisionHistoryLimit: 5,
        podManagementPolicy: "OrderedReady",
        updateStrategy: { type: "RollingUpdate" },
        persistentVolumeClaimRetentionPolicy: s.retainVolumes
            ? { whenDeleted: "Retain", whenScaled: "Retain" }
            : { whenDeleted: "Delete", whenScaled: "Retain" },
        selector: { matchLabels: { ...POSTGRES_POD_LABELS } },
        template: {
            metadata: {
                labels: { ...s.labels, ...POSTGRES_POD_LABELS, app: POSTGRES_NAME },
                annotations,
            },
            spec: {
                automountServiceAccountToken: false,
                enableServiceLinks: false,
                serviceAccountName: POSTGRES_NAME,
                // Fast shutdown (SIGTERM) checkpoints before exit; give it time.
                terminationGracePeriodSeconds: 60,
                securityContext: podSecurityContext(POSTGRES_UID),
                containers,
                volumes: [
                    { name: "run", emptyDir: { sizeLimit: "16Mi" } },
                    // Parallel queries use POSIX shared memory; the runtime default of 64Mi is small.
                    { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "256Mi" } },
                    tmp.volume,
                    ...(wal ? [scriptsVolume, { name: "wal-spool", emptyDir: { sizeLimit: "256Mi" } }] : []),
                ],
            },
        },
        volumeClaimTemplates: [
            {
                metadata: { name: "data", labels: { ...s.labels, ...POSTGRES_POD_LABELS } },
                spec: {
                    accessModes: ["ReadWriteOnce"],
                    storageClassName: s.storageClassName,
                    resources: { requests: { storage: s.config.storage.size } },
                },
            },
        ],
    };
}

/**
 * One voluntary disruption at a time: with a single replica a drain restarts PostgreSQL elsewhere
 * (the RTO of a restart, see README) instead of blocking node upgrades forever, as
 * maxUnavailable 0 would.
 */
export function postgresPdbSpec(): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
    return { maxUnavailable: 1, selector: { matchLabels: { ...POSTGRES_POD_LABELS } } };
}

export function headlessServiceSpec(): k8s.types.input.core.v1.ServiceSpec {
    return {
        clusterIP: "None",
        publishNotReadyAddresses: true,
        selector: { ...POSTGRES_POD_LABELS },
        ports: [{ name: "tcp-postgres", port: POSTGRES_PORT, targetPort: "postgres", protocol: "TCP", appProtocol: "tcp" }],
    };
}

export function clientServiceSpec(): k8s.types.input.core.v1.ServiceSpec {
    return {
        type: "ClusterIP",
        selector: { ...POSTGRES_POD_LABELS },
        // tcp: Postgres is not HTTP; no protocol sniffing by the mesh.
        ports: [{ name: "tcp-postgres", port: POSTGRES_PORT, targetPort: "postgres", protocol: "TCP", appProtocol: "tcp" }],
    };
}

// --- bootstrap Job ----------------------------------------------------------------

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

// --- backup CronJob ---------------------------------------------------------------

/** Where the dump goes: a PVC (retention by the job), or object storage (retention by the uploader). */
export type BackupDestination =
    | { kind: "volume"; claimName: string }
    /** url: s3://<bucket>/<prefix> */
    | { kind: "s3"; url: Input<string>; region: string }
    /** url: gs://<bucket>/<prefix> */
    | { kind: "gcs"; url: Input<string> };

/** Object prefix of the dumps in the backup bucket. */
export const BACKUP_PREFIX = BACKUP_OBJECT_PREFIX;

export function backupUrl(kind: "s3" | "gcs", bucket: string, prefix: string = BACKUP_PREFIX): string {
    return `${kind === "s3" ? "s3" : "gs"}://${bucket}/${prefix}`;
}

const GIB = 2 ** 30;

/**
 * Scratch space of one backup run on its way to object storage: the database's volume size (the
 * compressed dumps are smaller than the data they come from), twice that with a base backup.
 */
export function stagingSize(config: DatabaseConfig, baseBackup: boolean): string {
    const bytes = parseMemory(config.storage.size)!;
    return `${Math.ceil((bytes * (baseBackup ? 2 : 1)) / GIB)}Gi`;
}

/** Seconds a backup run may take per GiB of database volume: pg_dump measured about 52 s/GiB, plus a base backup. */
export const BACKUP_SECONDS_PER_GIB = 90;

/** A run may take BACKUP_SECONDS_PER_GIB per GiB of data (at least an hour) before it is stopped and reported. */
export function backupDeadlineSeconds(config: DatabaseConfig): number {
    return Math.max(3600, Math.ceil(parseMemory(config.storage.size)! / GIB) * BACKUP_SECONDS_PER_GIB);
}

export interface BackupInput {
    config: DatabaseConfig;
    images: PostgresImages;
    /** App databases in dump order (dumpOrder). */
    apps: string[];
    labels: Record<string, string>;
    destination: BackupDestination;
    /** StorageClass of the scratch volume (object storage targets). */
    storageClassName: Input<string>;
    /** Also take a base backup and prune archived WAL (point-in-time recovery). */
    walUrl?: Input<string>;
}

function retentionEnv(config: DatabaseConfig): k8s.types.input.core.v1.EnvVar[] {
    return [
        { name: "KEEP_LAST", value: String(config.backup.keepLast) },
        { name: "RETENTION_DAYS", value: String(config.backup.retentionDays) },
        { name: "BACKUP_DIR", value: "/backups" },
    ];
}

export function uploaderContainer(
    dest: Exclude<BackupDestination, { kind: "volume" }>,
    images: PostgresImages,
    config: DatabaseConfig,
    walUrl?: Input<string>,
): Container {
    return {
        name: "upload",
        image: dest.kind === "s3" ? images.awsCli : images.gcloudCli,
        imagePullPolicy: "IfNotPresent",
        command: ["/scripts/backup-upload.sh"],
        env: [
            ...storeEnv(dest.kind, dest.kind === "s3" ? dest.region : undefined),
            { name: "BACKUP_URL", value: dest.url },
            ...retentionEnv(config),
            ...(walUrl ? [{ name: "WAL_URL", value: walUrl }] : []),
        ],
        resources: BACKUP_RESOURCES,
        securityContext: containerSecurityContext(POSTGRES_UID),
        volumeMounts: [
            { name: "scripts", mountPath: "/scripts", readOnly: true },
            { name: "backups", mountPath: "/backups", readOnly: true },
            { name: "tmp", mountPath: "/tmp" },
        ],
    };
}

export function backupCronJobSpec(b: BackupInput): k8s.types.input.batch.v1.CronJobSpec {
    const tmp = tmpVolume("16Mi");
    const local = b.destination.kind === "volume";
    const dumpEnv = [
        ...clientEnv({ name: BACKUP_ROLE }),
        secretEnv("PGPASSWORD", ROLES_SECRET, BACKUP_ROLE),
        { name: "DATABASES", value: b.apps.map(dbIdentifier).join(" ") },
        ...retentionEnv(b.config),
        { name: "LOCAL_RETENTION", value: String(local) },
        { name: "BASE_BACKUP", value: String(!!b.walUrl) },
    ];
    const dump: Container = {
        name: "dump",
        image: b.images.postgres,
        imagePullPolicy: "IfNotPresent",
        command: ["/scripts/backup.sh"],
        env: dumpEnv,
        resources: BACKUP_RESOURCES,
        securityContext: containerSecurityContext(POSTGRES_UID),
        volumeMounts: [{ name: "scripts", mountPath: "/scripts", readOnly: true }, { name: "backups", mountPath: "/backups" }, tmp.mount],
    };
    const backupsVolume =
        b.destination.kind === "volume"
            ? { name: "backups", persistentVolumeClaim: { claimName: b.destination.claimName } }
            : {
                  // Per run, deleted with the pod; sized from the database, not the node's disk.
                  name: "backups",
                  ephemeral: {
                      volumeClaimTemplate: {
                          metadata: { labels: { ...b.labels, ...BACKUP_POD_LABELS } },
                          spec: {
                              accessModes: ["ReadWriteOnce"],
                              storageClassName: b.storageClassName,
                              resources: { requests: { storage: stagingSize(b.config, !!b.walUrl) } },
                          },
                      },
                  },
              };
    // Object storage: dump first (init container), then upload, so a failed dump uploads nothing.
    const pod: PodSpec =
        b.destination.kind === "volume"
            ? { containers: [dump] }
            : { initContainers: [dump], containers: [uploaderContainer(b.destination, b.images, b.config, b.walUrl)] };
    return {
        schedule: b.config.backup.schedule,
        timeZone: "Etc/UTC",
        // No backup may run into a restore.
        suspend: b.config.maintenance !== "off",
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: 600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
            metadata: { labels: { ...b.labels, ...BACKUP_POD_LABELS } },
            spec: {
                backoffLimit: 2,
                activeDeadlineSeconds: backupDeadlineSeconds(b.config),
                template: {
                    metadata: jobPodMetadata({ ...b.labels, ...BACKUP_POD_LABELS }),
                    spec: {
                        ...pod,
                        restartPolicy: "Never",
                        serviceAccountName: BACKUP_NAME,
                        // IRSA injects its own projected token; Workload Identity needs none.
                        automountServiceAccountToken: false,
                        enableServiceLinks: false,
                        securityContext: podSecurityContext(POSTGRES_UID),
                        volumes: [scriptsVolume, backupsVolume, tmp.volume],
                    },
                },
            },
        },
    };
}
