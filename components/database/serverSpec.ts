// The PostgreSQL server: its StatefulSet (with the metrics exporter and WAL upload next to it),
// the Services in front of it and its PodDisruptionBudget.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { PostgresSettings } from "../budgets/connectionBudget";
import type { DatabaseConfig } from "../config";
import { containerSecurityContext, podSecurityContext, POSTGRES_UID, tmpVolume } from "../podSecurity";
import {
    DATA_MOUNT,
    EXPORTER_PORT,
    MONITOR_ROLE,
    PGDATA,
    POSTGRES_HEADLESS_NAME,
    POSTGRES_NAME,
    POSTGRES_POD_LABELS,
    POSTGRES_PORT,
    SUPERUSER_NAME,
    SUPERUSER_SECRET,
} from "./names";
import { BACKUP_RESOURCES, scriptsVolume, secretEnv, storeEnv } from "./podParts";
import { pgHbaConf, SCRIPTS_DIR } from "./scriptFiles";

type Input<T> = pulumi.Input<T>;
type Container = k8s.types.input.core.v1.Container;

export const EXPORTER_RESOURCES = { requests: { cpu: "20m", memory: "32Mi" }, limits: { cpu: "200m", memory: "128Mi" } };
/** Shared by the archive_command (postgres container) and the wal-upload container. */
export const WAL_SPOOL = "/wal-spool";
/** How long one archive_command waits for the upload before PostgreSQL retries the segment. */
export const WAL_ARCHIVE_WAIT_SECONDS = 60;
/** The wal-upload container writes the time here on every pass; its liveness probe reads it. */
export const WAL_UPLOAD_STALE_SECONDS = 120;

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
