// The shared Postgres of the apps: one role and one database per app, scheduled backups.
// Restore procedure: components/database/RESTORE.md.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { BackupTarget } from "../cluster/types";
import { BACKUP_SERVICE_ACCOUNT } from "../cluster/types";
import { postgresSettings } from "../budgets/connectionBudget";
import type { DatabaseConfig, Environment } from "../config";
import { platformLabels } from "../naming";
import { backupCronJobSpec, BackupDestination, backupUrl, WAL_PREFIX } from "./backupSpec";
import { bootstrapJobName, bootstrapJobSpec, type BootstrapInput, databaseUrl, dbIdentifier } from "./bootstrapSpec";
import {
    BACKUP_NAME,
    BACKUP_PVC,
    BACKUP_ROLE,
    BOOTSTRAP_SERVICE_ACCOUNT,
    DATABASE_URL_KEY,
    POSTGRES_HEADLESS_NAME,
    POSTGRES_NAME,
    ROLES_SECRET,
    SCRIPTS_CONFIGMAP,
    SUPERUSER_NAME,
    SUPERUSER_SECRET,
} from "./names";
import { type PostgresImages } from "./podParts";
import { scriptsData } from "./scriptFiles";
import { clientServiceSpec, headlessServiceSpec, postgresPdbSpec, statefulSetSpec, type WalArchiveInput } from "./serverSpec";

export interface PostgresArgs {
    environment: Environment;
    config: DatabaseConfig;
    /** orders-data */
    namespace: pulumi.Input<string>;
    /** Where the apps' DATABASE_URL Secrets go (orders-apps). */
    appNamespace: pulumi.Input<string>;
    /** Apps that get a role and a database. */
    databaseApps: string[];
    /** Cluster default StorageClass; `config.storage.storageClass` wins when set. */
    storageClassName: pulumi.Input<string>;
    backupTarget: BackupTarget;
    /** prod: protect and retain the data (StatefulSet with its volumes, backup volume, superuser password). */
    protect: boolean;
    images: PostgresImages;
    /** Per app: its role's CONNECTION LIMIT, the app's worst case in the connection budget (default: none). */
    connectionLimits?: Record<string, number>;
    /** Dump order of the app databases (dumpOrder); default: databaseApps sorted. */
    dumpOrder?: string[];
    /** Run the metrics exporter next to PostgreSQL (Prometheus is on). */
    exporter?: boolean;
}

export interface AppDatabaseSecret {
    /** Secret in the app namespace. */
    name: pulumi.Output<string>;
    /** Key holding the connection URL. */
    key: string;
}

const PASSWORD = { length: 32, special: false } as const;

function walArchiveInput(
    target: Exclude<BackupTarget, { kind: "volume" }>,
    images: PostgresImages,
    archiveTimeoutSeconds: number,
): WalArchiveInput {
    return {
        store: target.kind,
        url: target.bucket.apply((b) => backupUrl(target.kind, b, WAL_PREFIX)),
        region: target.kind === "s3" ? target.region : undefined,
        uploaderImage: target.kind === "s3" ? images.awsCli : images.gcloudCli,
        archiveTimeoutSeconds,
    };
}

export class Postgres extends pulumi.ComponentResource {
    /** Per app: the Secret with its DATABASE_URL (the password only ever inside Pulumi secrets). */
    public readonly appSecrets: Record<string, AppDatabaseSecret>;
    /** Client Service DNS name. */
    public readonly host: pulumi.Output<string>;

    constructor(name: string, args: PostgresArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:workloads:Postgres", name, {}, opts);
        const { config } = args;
        const labels = platformLabels(args.environment, "database");
        const meta = (objectName: string, namespace: pulumi.Input<string> = args.namespace) => ({ name: objectName, namespace, labels });
        const keep = { protect: args.protect, retainOnDelete: args.protect };
        const apps = [...args.databaseApps].sort();
        const dumpOrder = args.dumpOrder ?? apps;
        const target = args.backupTarget;
        // Point-in-time recovery needs object storage (validated with the stack config).
        const wal = config.walArchiving.enabled && target.kind !== "volume" ? target : undefined;
        const bootstrap: BootstrapInput = {
            apps,
            connectionLimits: args.connectionLimits ?? {},
            baseBackups: !!wal,
            monitor: !!args.exporter,
        };

        // The superuser password is only applied by initdb: replacing it would lock the bootstrap out.
        const superuserPassword = new random.RandomPassword(`${name}-superuser`, PASSWORD, { parent: this, ...keep });
        const backupPassword = new random.RandomPassword(`${name}-${BACKUP_ROLE}`, PASSWORD, { parent: this });
        const appPasswords = Object.fromEntries(
            apps.map((app) => [app, new random.RandomPassword(`${name}-${app}`, PASSWORD, { parent: this })]),
        );

        const superuserSecret = new k8s.core.v1.Secret(
            SUPERUSER_SECRET,
            {
                metadata: meta(SUPERUSER_SECRET),
                type: "Opaque",
                stringData: { username: SUPERUSER_NAME, password: pulumi.secret(superuserPassword.result) },
            },
            { parent: this },
        );
        const rolesSecret = new k8s.core.v1.Secret(
            ROLES_SECRET,
            {
                metadata: meta(ROLES_SECRET),
                type: "Opaque",
                stringData: {
                    [BACKUP_ROLE]: pulumi.secret(backupPassword.result),
                    ...Object.fromEntries(apps.map((app) => [dbIdentifier(app), pulumi.secret(appPasswords[app].result)])),
                },
            },
            { parent: this },
        );

        this.appSecrets = {};
        for (const app of apps) {
            const id = dbIdentifier(app);
            const secretName = `${app}-database`;
            const secret = new k8s.core.v1.Secret(
                secretName,
                {
                    metadata: meta(secretName, args.appNamespace),
                    type: "Opaque",
                    stringData: { [DATABASE_URL_KEY]: pulumi.secret(appPasswords[app].result.apply((pw) => databaseUrl(id, pw, id))) },
                },
                { parent: this },
            );
            this.appSecrets[app] = { name: secret.metadata.name, key: DATABASE_URL_KEY };
        }

        new k8s.core.v1.ServiceAccount(
            POSTGRES_NAME,
            {
                // With WAL archiving its wal-upload container writes to the bucket (IRSA / Workload Identity).
                metadata: { ...meta(POSTGRES_NAME), annotations: wal?.walArchiveServiceAccountAnnotations ?? {} },
                automountServiceAccountToken: false,
            },
            { parent: this },
        );
        const scripts = new k8s.core.v1.ConfigMap(
            SCRIPTS_CONFIGMAP,
            { metadata: meta(SCRIPTS_CONFIGMAP), data: scriptsData(bootstrap) },
            { parent: this },
        );

        new k8s.core.v1.Service(
            POSTGRES_HEADLESS_NAME,
            { metadata: meta(POSTGRES_HEADLESS_NAME), spec: headlessServiceSpec() },
            { parent: this },
        );
        const service = new k8s.core.v1.Service(
            POSTGRES_NAME,
            { metadata: meta(POSTGRES_NAME), spec: clientServiceSpec() },
            { parent: this },
        );

        const storageClassName = config.storage.storageClass ?? args.storageClassName;
        const statefulSet = new k8s.apps.v1.StatefulSet(
            POSTGRES_NAME,
            {
                metadata: meta(POSTGRES_NAME),
                spec: statefulSetSpec({
                    config,
                    image: args.images.postgres,
                    labels,
                    storageClassName,
                    retainVolumes: args.protect,
                    settings: postgresSettings(config),
                    stopped: config.maintenance === "database-stopped",
                    exporterImage: args.exporter ? args.images.postgresExporter : undefined,
                    walArchive: wal ? walArchiveInput(wal, args.images, config.walArchiving.archiveTimeoutSeconds) : undefined,
                }),
            },
            { parent: this, dependsOn: [superuserSecret, scripts], ...keep },
        );
        new k8s.policy.v1.PodDisruptionBudget(POSTGRES_NAME, { metadata: meta(POSTGRES_NAME), spec: postgresPdbSpec() }, { parent: this });

        const bootstrapSa = new k8s.core.v1.ServiceAccount(
            BOOTSTRAP_SERVICE_ACCOUNT,
            { metadata: meta(BOOTSTRAP_SERVICE_ACCOUNT), automountServiceAccountToken: false },
            { parent: this },
        );

        // Converges roles and databases; a new name (hash of the scripts) re-runs it after changes.
        new k8s.batch.v1.Job(
            `${POSTGRES_NAME}-bootstrap`,
            { metadata: meta(bootstrapJobName(bootstrap)), spec: bootstrapJobSpec(args.images.postgres, apps, labels) },
            {
                parent: this,
                dependsOn: [statefulSet, service, scripts, superuserSecret, rolesSecret, bootstrapSa],
                deleteBeforeReplace: true,
            },
        );

        if (config.backup.enabled) {
            const backupSa = new k8s.core.v1.ServiceAccount(
                BACKUP_SERVICE_ACCOUNT.name,
                {
                    metadata: {
                        ...meta(BACKUP_SERVICE_ACCOUNT.name),
                        annotations: target.kind === "volume" ? {} : target.serviceAccountAnnotations,
                    },
                    automountServiceAccountToken: false,
                },
                { parent: this },
            );
            let destination: BackupDestination;
            const deps: pulumi.Resource[] = [backupSa, scripts, rolesSecret];
            if (target.kind === "volume") {
                deps.push(
                    new k8s.core.v1.PersistentVolumeClaim(
                        BACKUP_PVC,
                        {
                            metadata: {
                                ...meta(BACKUP_PVC),
                                // WaitForFirstConsumer classes bind it only when the first backup runs.
                                annotations: { "pulumi.com/skipAwait": "true" },
                            },
                            spec: {
                                accessModes: ["ReadWriteOnce"],
                                storageClassName,
                                resources: { requests: { storage: config.backup.volumeSize } },
                            },
                        },
                        { parent: this, ...keep },
                    ),
                );
                destination = { kind: "volume", claimName: BACKUP_PVC };
            } else if (target.kind === "s3") {
                destination = { kind: "s3", url: target.bucket.apply((b) => backupUrl("s3", b)), region: target.region };
            } else {
                destination = { kind: "gcs", url: target.bucket.apply((b) => backupUrl("gcs", b)) };
            }
            new k8s.batch.v1.CronJob(
                BACKUP_NAME,
                {
                    metadata: meta(BACKUP_NAME),
                    spec: backupCronJobSpec({
                        config,
                        images: args.images,
                        apps: dumpOrder,
                        labels,
                        destination,
                        storageClassName,
                        walUrl: wal ? wal.bucket.apply((b) => backupUrl(wal.kind, b, WAL_PREFIX)) : undefined,
                    }),
                },
                { parent: this, dependsOn: deps },
            );
        }

        this.host = pulumi.interpolate`${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`;
        this.registerOutputs({ host: this.host, appSecrets: this.appSecrets });
    }
}
