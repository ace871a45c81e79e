// Pure spec builders of the database (server, roles, backups), without Pulumi mocks.
import { strict as assert } from "node:assert";
import { postgresSettings } from "../../components/budgets/connectionBudget";
import { databaseSchema, imagesSchema } from "../../components/config";
import { backupCronJobSpec } from "../../components/database/backupSpec";
import { bootstrapJobName, bootstrapJobSpec, bootstrapSql, databaseUrl } from "../../components/database/bootstrapSpec";
import { statefulSetSpec } from "../../components/database/serverSpec";
import { allContainers, containerProblems } from "../harness/rules";

describe("database: postgres specs", () => {
    const db = databaseSchema.parse({ storage: { size: "20Gi" } });
    const images = imagesSchema.parse({});

    it("bootstraps roles and databases idempotently, passwords only from the environment", () => {
        const roles = (apps: string[]) => ({ apps, connectionLimits: { orders: 72, users: 90 }, baseBackups: false, monitor: false });
        const sql = bootstrapSql(roles(["orders", "users"]));
        for (const role of ["orders", "users", "backup"]) {
            assert.match(sql, new RegExp(`WHERE NOT EXISTS \\(SELECT FROM pg_roles WHERE rolname = '${role}'\\)\\\\gexec`));
            assert.match(sql, new RegExp(`\\\\getenv pw ${role.toUpperCase()}_PASSWORD`));
            assert.match(sql, new RegExp(`ALTER ROLE ${role} WITH LOGIN .* PASSWORD :'pw';`));
        }
        for (const database of ["orders", "users"]) {
            assert.match(sql, new RegExp(`WHERE NOT EXISTS \\(SELECT FROM pg_database WHERE datname = '${database}'\\)\\\\gexec`));
            assert.match(sql, new RegExp(`REVOKE ALL ON DATABASE ${database} FROM PUBLIC;`));
        }
        assert.doesNotMatch(sql, /CREATE (ROLE|DATABASE) [a-z]/, "creates only through the guarded \\gexec form");
        assert.match(sql, /GRANT pg_read_all_data TO backup;/);
        assert.match(bootstrapJobName(roles(["orders", "users"])), /^postgres-bootstrap-[0-9a-f]{8}$/);
        assert.notEqual(bootstrapJobName(roles(["orders", "users"])), bootstrapJobName(roles(["orders"])));
    });

    it("builds DATABASE_URL for the client Service with an URL-encoded password", () => {
        assert.equal(
            databaseUrl("users", "p@ss/w", "users"),
            "postgres://users:p%40ss%2Fw@postgres.orders-data.svc.cluster.local:5432/users",
        );
    });

    it("runs one non-root postgres with a pinned image, pg_isready probes and volumes from config", () => {
        const settings = postgresSettings(db);
        const s = statefulSetSpec({
            config: db,
            image: images.postgres,
            labels: {},
            storageClassName: "gp3",
            retainVolumes: true,
            settings,
        }) as any;
        assert.equal(s.replicas, 1);
        const pod = s.template.spec;
        const c = pod.containers[0];
        assert.match(c.image, /^docker\.io\/library\/postgres:17\.\d+-bookworm@sha256:[0-9a-f]{64}$/, "major 17, by digest");
        assert.deepEqual(containerProblems(pod, c, true), []);
        assert.equal(pod.securityContext.fsGroup, 999);
        assert.equal(c.securityContext.runAsUser, 999);
        for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) assert.equal(c[probe].exec.command[0], "pg_isready");
        assert.equal(c.env.find((e: any) => e.name === "PGDATA").value, "/var/lib/postgresql/data/pgdata");
        assert.deepEqual(c.env.find((e: any) => e.name === "POSTGRES_PASSWORD").valueFrom, {
            secretKeyRef: { name: "postgres-superuser", key: "password" },
        });
        assert.deepEqual(c.volumeMounts.map((m: any) => m.mountPath).sort(), [
            "/dev/shm",
            "/tmp",
            "/var/lib/postgresql/data",
            "/var/run/postgresql",
        ]);
        assert.equal(s.volumeClaimTemplates[0].spec.storageClassName, "gp3");
        assert.equal(s.volumeClaimTemplates[0].spec.resources.requests.storage, "20Gi");
        assert.deepEqual(s.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" });
        const dev = statefulSetSpec({
            config: db,
            image: images.postgres,
            labels: {},
            storageClassName: "standard",
            retainVolumes: false,
            settings,
        }) as any;
        assert.equal(dev.persistentVolumeClaimRetentionPolicy.whenDeleted, "Delete");
    });

    it("backs up to a PVC with retention, or to S3/GCS through an uploader after the dump", () => {
        const volume = backupCronJobSpec({
            config: db,
            images,
            apps: ["orders", "users"],
            labels: {},
            destination: { kind: "volume", claimName: "postgres-backups" },
            storageClassName: "standard",
        }) as any;
        assert.equal(volume.schedule, "0 2 * * *");
        assert.equal(volume.concurrencyPolicy, "Forbid");
        assert.equal(volume.jobTemplate.spec.backoffLimit, 2);
        assert.ok(volume.jobTemplate.spec.activeDeadlineSeconds > 0);
        const vpod = volume.jobTemplate.spec.template.spec;
        assert.equal(vpod.initContainers, undefined);
        const dump = vpod.containers[0];
        assert.deepEqual(
            dump.env.find((e: any) => e.name === "RETENTION_DAYS"),
            { name: "RETENTION_DAYS", value: "7" },
        );
        assert.deepEqual(
            dump.env.find((e: any) => e.name === "DATABASES"),
            { name: "DATABASES", value: "orders users" },
        );
        assert.deepEqual(
            dump.env.find((e: any) => e.name === "PGUSER"),
            { name: "PGUSER", value: "backup" },
        );
        assert.deepEqual(
            vpod.volumes.find((v: any) => v.name === "backups"),
            { name: "backups", persistentVolumeClaim: { claimName: "postgres-backups" } },
        );
        assert.deepEqual(volume.jobTemplate.spec.template.metadata.annotations, { "sidecar.istio.io/nativeSidecar": "true" });

        const s3 = backupCronJobSpec({
            config: db,
            images,
            apps: ["users"],
            labels: {},
            destination: { kind: "s3", url: "s3://b/postgres", region: "eu-west-1" },
            storageClassName: "gp3",
        }) as any;
        const spod = s3.jobTemplate.spec.template.spec;
        assert.equal(spod.initContainers[0].name, "dump");
        assert.equal(spod.containers[0].image, images.awsCli);
        assert.match(images.awsCli, /^public\.ecr\.aws\/aws-cli\/aws-cli:2\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
        assert.deepEqual(spod.containers[0].command, ["/scripts/backup-upload.sh"]);
        assert.deepEqual(
            spod.containers[0].env.find((e: any) => e.name === "BACKUP_URL"),
            { name: "BACKUP_URL", value: "s3://b/postgres" },
        );
        assert.deepEqual(
            spod.initContainers[0].env.find((e: any) => e.name === "LOCAL_RETENTION"),
            { name: "LOCAL_RETENTION", value: "false" },
            "the uploader owns retention in the bucket",
        );
        assert.equal(spod.serviceAccountName, "postgres-backup");

        const gcs = backupCronJobSpec({
            config: db,
            images,
            apps: ["users"],
            labels: {},
            destination: { kind: "gcs", url: "gs://b/postgres" },
            storageClassName: "standard-rwo",
        }) as any;
        const gpod = gcs.jobTemplate.spec.template.spec;
        assert.equal(gpod.containers[0].image, images.gcloudCli);
        assert.match(images.gcloudCli, /^gcr\.io\/google\.com\/cloudsdktool\/google-cloud-cli:\d+\.\d+\.\d+-slim@sha256:[0-9a-f]{64}$/);
        assert.deepEqual(
            gpod.containers[0].env.filter((e: any) => ["STORE", "BACKUP_URL"].includes(e.name)),
            [
                { name: "STORE", value: "gcs" },
                { name: "BACKUP_URL", value: "gs://b/postgres" },
            ],
        );

        for (const spec of [volume, s3, gcs]) {
            const pod = spec.jobTemplate.spec.template.spec;
            for (const { container } of allContainers(pod)) assert.deepEqual(containerProblems(pod, container, false), []);
        }
        const boot = bootstrapJobSpec(images.postgres, ["users"], {}) as any;
        for (const { container } of allContainers(boot.template.spec))
            assert.deepEqual(containerProblems(boot.template.spec, container, false), []);
    });

    it("runs the bootstrap Job as its own ServiceAccount with a native sidecar (its mesh identity)", () => {
        const boot = bootstrapJobSpec(images.postgres, ["users"], {}) as any;
        assert.equal(boot.template.spec.serviceAccountName, "postgres-bootstrap");
        assert.deepEqual(boot.template.metadata.annotations, { "sidecar.istio.io/nativeSidecar": "true" });
    });
});
