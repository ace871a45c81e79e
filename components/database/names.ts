// Names, ports and labels of the database that other parts address: the apps' DATABASE_URL, the
// mesh's AuthorizationPolicies, the NetworkPolicies and the alert rules. No builders here, so
// those parts depend on these names only, never on the database's specs.
import { DATA_NAMESPACE } from "../naming";

export const POSTGRES_PORT = 5432;
/** Port of the metrics exporter next to PostgreSQL. */
export const EXPORTER_PORT = 9187;

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
export const BACKUP_PVC = "postgres-backups";
export const DATABASE_URL_KEY = "DATABASE_URL";
/** Where the volume mounts; PGDATA is a subdirectory so lost+found never confuses initdb. */
export const DATA_MOUNT = "/var/lib/postgresql/data";
export const PGDATA = `${DATA_MOUNT}/pgdata`;

/** Pod labels the NetworkPolicies select on. */
export const POSTGRES_POD_LABELS = { "app.kubernetes.io/name": "postgres" } as const;
export const BACKUP_POD_LABELS = { "app.kubernetes.io/name": "postgres-backup" } as const;
export const BOOTSTRAP_POD_LABELS = { "app.kubernetes.io/name": "postgres-bootstrap" } as const;
