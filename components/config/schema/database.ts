// `database`: PostgreSQL's storage, resources, connections, backups, WAL archiving and maintenance.
import { z } from "zod";
import { K8S_NAME, bool, cron, int, memory, pattern, resourcesSchema } from "./common";

/** Stop writes for a restore: `apps-stopped` scales the database apps to 0, `database-stopped` PostgreSQL too. */
export const MAINTENANCE_MODES = ["off", "apps-stopped", "database-stopped"] as const;
export type MaintenanceMode = (typeof MAINTENANCE_MODES)[number];

export const databaseSchema = z
    .strictObject({
        storage: z
            .strictObject({
                size: memory().default("5Gi"),
                /** Default: the cluster's default StorageClass. */
                storageClass: pattern(K8S_NAME, "a StorageClass name").optional(),
            })
            .prefault({}),
        resources: resourcesSchema.default({
            requests: { cpu: "250m", memory: "512Mi" },
            limits: { cpu: "1", memory: "1Gi" },
        }),
        /** PostgreSQL max_connections; shared_buffers and work_mem follow resources.limits.memory. */
        maxConnections: int(20, 5000).default(100),
        maintenance: z.enum(MAINTENANCE_MODES, { error: `must be one of ${MAINTENANCE_MODES.join(" | ")}` }).default("off"),
        backup: z
            .strictObject({
                enabled: bool().default(true),
                schedule: cron().default("0 2 * * *"),
                /** Successful backups older than this are deleted, except the newest keepLast. */
                retentionDays: int(1, 3650).default(7),
                /** The newest successful backups that are never deleted, whatever their age. */
                keepLast: int(1, 1000).default(3),
                /** Size of the backup volume where backups go to a PVC (kind, existing). */
                volumeSize: memory().default("5Gi"),
            })
            .prefault({}),
        /** Continuous WAL archiving to the backup bucket (point-in-time recovery). */
        walArchiving: z
            .strictObject({
                enabled: bool().default(false),
                /** A WAL segment is closed and archived at least this often while there are writes. */
                archiveTimeoutSeconds: int(30, 3600).default(60),
            })
            .prefault({}),
    })
    .superRefine((d, ctx) => {
        if (d.walArchiving.enabled && !d.backup.enabled) {
            ctx.addIssue({
                code: "custom",
                path: ["walArchiving", "enabled"],
                input: true,
                message: "needs database.backup.enabled (the base backups for point-in-time recovery come from the backup job)",
            });
        }
    });
export type DatabaseConfig = z.infer<typeof databaseSchema>;
