// Scheduled backups: the CronJob that dumps the app databases (and, with WAL archiving, takes a base
// backup), where the dumps go, and the order they are taken in.
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { BACKUP_OBJECT_PREFIX, WAL_OBJECT_PREFIX } from "../cluster/types";
import type { DatabaseConfig } from "../config";
import { parseMemory } from "../config/quantity";
import { containerSecurityContext, podSecurityContext, POSTGRES_UID, tmpVolume } from "../podSecurity";
import { backupDeadlineSeconds } from "./backupSchedule";
import { dbIdentifier } from "./bootstrapSpec";
import { BACKUP_NAME, BACKUP_POD_LABELS, BACKUP_ROLE, ROLES_SECRET } from "./names";
import { BACKUP_RESOURCES, clientEnv, jobPodMetadata, type PostgresImages, scriptsVolume, secretEnv, storeEnv } from "./podParts";

type Input<T> = pulumi.Input<T>;
type Container = k8s.types.input.core.v1.Container;
type PodSpec = k8s.types.input.core.v1.PodSpec;

/** Object prefix of the dumps in the backup bucket. */
export const BACKUP_PREFIX = BACKUP_OBJECT_PREFIX;
/** Object prefix of the archived WAL in the backup bucket (next to BACKUP_PREFIX). */
export const WAL_PREFIX = WAL_OBJECT_PREFIX;

/** Where the dump goes: a PVC (retention by the job), or object storage (retention by the uploader). */
export type BackupDestination =
    | { kind: "volume"; claimName: string }
    /** url: s3://<bucket>/<prefix> */
    | { kind: "s3"; url: Input<string>; region: string }
    /** url: gs://<bucket>/<prefix> */
    | { kind: "gcs"; url: Input<string> };

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
