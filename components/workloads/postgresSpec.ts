// Pure builders for the shared Postgres: StatefulSet, Services, bootstrap Job, backup CronJob.
import { createHash } from "node:crypto";
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { POSTGRES_PORT } from "../appGraph";
import type { DatabaseConfig, ImageRefs } from "../config";
import { DATA_NAMESPACE } from "../naming";
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
export type PostgresImages = Pick<ImageRefs, "postgres" | "awsCli" | "gcloudCli">;

export const JOB_RESOURCES = { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } };
export const BACKUP_RESOURCES = { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } };

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

/**
 * SQL that converges roles and databases: creates what is missing and (re)sets passwords and
 * ownership, so re-running it after any change (or on an existing database) is safe.
 * Passwords come from the environment via \getenv, never from the script or the command line.
 */
export function bootstrapSql(apps: string[]): string {
    const lines = [
        "\\set ON_ERROR_STOP on",
        `\\getenv pw ${passwordEnv(BACKUP_ROLE)}`,
        `SELECT format('CREATE ROLE %I LOGIN', '${BACKUP_ROLE}') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${BACKUP_ROLE}')\\gexec`,
        `ALTER ROLE ${BACKUP_ROLE} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw';`,
        // Read-only access to every table, exactly what pg_dump needs.
        `GRANT pg_read_all_data TO ${BACKUP_ROLE};`,
    ];
    for (const app of apps) {
        const id = dbIdentifier(app);
        lines.push(
            `\\getenv pw ${passwordEnv(id)}`,
            `SELECT format('CREATE ROLE %I LOGIN', '${id}') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${id}')\\gexec`,
            `ALTER ROLE ${id} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw';`,
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

export const BACKUP_SCRIPT = `#!/bin/sh
# Dumps every app database (pg_dump custom format, gzip level 6) into $BACKUP_DIR/<UTC timestamp>/,
# then deletes backup directories older than $RETENTION_DAYS days when that is set.
set -eu
stamp=$(date -u +%Y%m%dT%H%M%SZ)
target="$BACKUP_DIR/$stamp"
mkdir -p "$target.partial"
for db in $DATABASES; do
  pg_dump --format=custom --compress=6 --no-password --dbname="$db" --file="$target.partial/$db.dump"
done
mv "$target.partial" "$target"
if [ -n "\${RETENTION_DAYS:-}" ]; then
  find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '20*' -mtime "+$RETENTION_DAYS" -exec rm -rf {} +
fi
echo "backup $stamp: $DATABASES"
`;

export function scriptsData(apps: string[]): Record<string, string> {
    return { "bootstrap.sh": BOOTSTRAP_SCRIPT, "bootstrap.sql": bootstrapSql(apps), "backup.sh": BACKUP_SCRIPT };
}

/** Changes when the roles/databases to converge change: the bootstrap Job is then re-run. */
export function bootstrapJobName(apps: string[]): string {
    const hash = createHash("sha256")
        .update(JSON.stringify(scriptsData(apps)))
        .digest("hex")
        .slice(0, 8);
    return `postgres-bootstrap-${hash}`;
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

export interface StatefulSetInput {
    config: DatabaseConfig;
    image: string;
    labels: Record<string, string>;
    storageClassName: Input<string>;
    /** Keep PVCs when the StatefulSet is deleted (prod). */
    retainVolumes: boolean;
}

export function statefulSetSpec(s: StatefulSetInput): k8s.types.input.apps.v1.StatefulSetSpec {
    const tmp = tmpVolume();
    const pgIsReady = {
        exec: { command: ["pg_isready", "--quiet", "--host=127.0.0.1", `--port=${POSTGRES_PORT}`, `--username=${SUPERUSER_NAME}`] },
        timeoutSeconds: 5,
    };
    return {
        serviceName: POSTGRES_HEADLESS_NAME,
        replicas: 1,
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
                annotations: { "kubectl.kubernetes.io/default-container": "postgres" },
            },
            spec: {
                automountServiceAccountToken: false,
                enableServiceLinks: false,
                serviceAccountName: POSTGRES_NAME,
                // Fast shutdown (SIGTERM) checkpoints before exit; give it time.
                terminationGracePeriodSeconds: 60,
                securityContext: podSecurityContext(POSTGRES_UID),
                containers: [
                    {
                        name: "postgres",
                        image: s.image,
                        imagePullPolicy: "IfNotPresent",
                        ports: [{ name: "postgres", containerPort: POSTGRES_PORT, protocol: "TCP" }],
                        env: [
                            { name: "PGDATA", value: PGDATA },
                            secretEnv("POSTGRES_USER", SUPERUSER_SECRET, "username"),
                            secretEnv("POSTGRES_PASSWORD", SUPERUSER_SECRET, "password"),
                            { name: "POSTGRES_INITDB_ARGS", value: "--auth-host=scram-sha-256 --data-checksums" },
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
                        ],
                    },
                ],
                volumes: [
                    { name: "run", emptyDir: { sizeLimit: "16Mi" } },
                    // Parallel queries use POSIX shared memory; the runtime default of 64Mi is small.
                    { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "256Mi" } },
                    tmp.volume,
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

/** Where the dump goes: a PVC (retention by the job), or object storage (retention by bucket lifecycle). */
export type BackupDestination =
    | { kind: "volume"; claimName: string }
    /** url: s3://<bucket>/<prefix> */
    | { kind: "s3"; url: Input<string>; region: string }
    /** url: gs://<bucket>/<prefix> */
    | { kind: "gcs"; url: Input<string> };

/** Object prefix of the dumps in the backup bucket. */
export const BACKUP_PREFIX = "postgres";

export function backupUrl(kind: "s3" | "gcs", bucket: string): string {
    return `${kind === "s3" ? "s3" : "gs"}://${bucket}/${BACKUP_PREFIX}`;
}

export function uploaderContainer(dest: Exclude<BackupDestination, { kind: "volume" }>, images: PostgresImages): Container {
    const common = {
        name: "upload",
        imagePullPolicy: "IfNotPresent",
        resources: BACKUP_RESOURCES,
        securityContext: containerSecurityContext(POSTGRES_UID),
        volumeMounts: [
            { name: "backups", mountPath: "/backups", readOnly: true },
            { name: "tmp", mountPath: "/tmp" },
        ],
    };
    if (dest.kind === "s3") {
        return {
            ...common,
            image: images.awsCli,
            command: ["aws"],
            args: ["s3", "sync", "/backups", dest.url, "--only-show-errors", "--no-progress"],
            // IRSA: the EKS webhook injects AWS_ROLE_ARN and the web identity token for this ServiceAccount.
            env: [
                { name: "AWS_REGION", value: dest.region },
                { name: "HOME", value: "/tmp" },
            ],
        };
    }
    return {
        ...common,
        image: images.gcloudCli,
        command: ["gcloud"],
        args: ["storage", "rsync", "/backups", dest.url, "--recursive", "--quiet"],
        // Workload Identity: credentials come from the GKE metadata server.
        env: [{ name: "CLOUDSDK_CONFIG", value: "/tmp/gcloud" }],
    };
}

export interface BackupInput {
    config: DatabaseConfig;
    images: PostgresImages;
    apps: string[];
    labels: Record<string, string>;
    destination: BackupDestination;
}

export function backupCronJobSpec(b: BackupInput): k8s.types.input.batch.v1.CronJobSpec {
    const tmp = tmpVolume("16Mi");
    const dumpEnv = [
        ...clientEnv({ name: BACKUP_ROLE }),
        secretEnv("PGPASSWORD", ROLES_SECRET, BACKUP_ROLE),
        { name: "DATABASES", value: b.apps.map(dbIdentifier).join(" ") },
        { name: "BACKUP_DIR", value: "/backups" },
        ...(b.destination.kind === "volume" ? [{ name: "RETENTION_DAYS", value: String(b.config.backup.retentionDays) }] : []),
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
            : { name: "backups", emptyDir: { sizeLimit: b.config.backup.volumeSize } };
    // Object storage: dump first (init container), then upload, so a failed dump uploads nothing.
    const pod: PodSpec =
        b.destination.kind === "volume"
            ? { containers: [dump] }
            : { initContainers: [dump], containers: [uploaderContainer(b.destination, b.images)] };
    return {
        schedule: b.config.backup.schedule,
        timeZone: "Etc/UTC",
        concurrencyPolicy: "Forbid",
        startingDeadlineSeconds: 600,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 3,
        jobTemplate: {
            metadata: { labels: { ...b.labels, ...BACKUP_POD_LABELS } },
            spec: {
                backoffLimit: 2,
                activeDeadlineSeconds: 3600,
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
