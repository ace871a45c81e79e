// The restore procedure of components/database/RESTORE.md, tested where it can be without a
// cluster: its scripts against the real local PostgreSQL (two databases from one backup run), the
// point-in-time preparation on a scratch data directory, and its Job manifests against the
// Kubernetes schema and the names the program creates.
import { strict as assert } from "node:assert";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { MAINTENANCE_MODES } from "../../components/config";
import {
    BACKUP_NAME,
    BACKUP_POD_LABELS,
    BACKUP_PVC,
    POSTGRES_NAME,
    SCRIPTS_CONFIGMAP,
    SUPERUSER_SECRET,
} from "../../components/database/names";
import { SCRIPTS_DIR, SHELL_SCRIPTS } from "../../components/database/scriptFiles";
import { validateKubernetesObjects } from "../harness";
import type { CapturedResource } from "../harness";

const DOC = fs.readFileSync(path.join(SCRIPTS_DIR, "..", "RESTORE.md"), "utf8");

/** The fenced blocks of the doc whose first line is `# <name>`. */
function docBlock(name: string): string {
    const block = [...DOC.matchAll(/```(?:yaml|sh)\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => b.startsWith(`# ${name}`));
    assert.ok(block, `RESTORE.md has a block starting with "# ${name}"`);
    return block;
}

const SAMPLE: Record<string, string> = {
    STAMP: "20260301T020000Z",
    STAMP_LOWER: "20260301t020000z",
    PG_IMAGE: "docker.io/library/postgres:17.11-bookworm@sha256:051f7b7b3abdd564d5d1bd1e8c4b9c1b6e77087d1dd22020ede611c096a272e0",
    CLI_IMAGE: "public.ecr.aws/aws-cli/aws-cli:2.37.9@sha256:92de75724b6a746951f0e8b915d86bbccd7cb55aff96cd0cb4f7017272160780",
    TARGET_TIME: "2026-03-01 14:05:00+00",
};
/** What `envsubst '<the variables the doc names>'` does. */
const envsubst = (text: string) => text.replace(/\$([A-Z_]+)/g, (m, v: string) => SAMPLE[v] ?? m);

const asResource = (obj: any): CapturedResource =>
    ({
        type: "kubernetes:batch/v1:Job",
        name: obj.metadata.name,
        urn: `doc::${obj.metadata.name}`,
        inputs: obj,
        custom: true,
    }) as CapturedResource;

describe("restore procedure: the manifests of RESTORE.md", () => {
    const restoreJob = parse(envsubst(docBlock("restore-job.yaml")));
    const download = parse(envsubst(docBlock("restore-download.yaml")));
    const pitrJob = parse(envsubst(docBlock("pitr-job.yaml")));
    const objectStoreJob = structuredClone(restoreJob);
    Object.assign(objectStoreJob.spec.template.spec, download);

    it("are valid Jobs", async () => {
        assert.deepEqual(await validateKubernetesObjects([restoreJob, objectStoreJob, pitrJob].map(asResource)), []);
    });

    it("use what the program creates: the backup job's labels, scripts, superuser Secret, volumes and ServiceAccount", () => {
        for (const job of [restoreJob, objectStoreJob, pitrJob]) {
            const pod = job.spec.template;
            assert.deepEqual(pod.metadata.labels, { ...BACKUP_POD_LABELS }, "the NetworkPolicies admit it like the backup job");
            const scripts = pod.spec.volumes.find((v: any) => v.name === "scripts");
            assert.equal(scripts.configMap.name, SCRIPTS_CONFIGMAP);
            for (const c of pod.spec.containers) {
                const script = c.command[0].replace("/scripts/", "");
                assert.ok(SHELL_SCRIPTS.includes(script), `${script} ships in the ConfigMap`);
            }
        }
        const env = restoreJob.spec.template.spec.containers[0].env;
        assert.deepEqual(
            env.filter((e: any) => e.valueFrom).map((e: any) => e.valueFrom.secretKeyRef),
            [
                { name: SUPERUSER_SECRET, key: "username" },
                { name: SUPERUSER_SECRET, key: "password" },
            ],
        );
        assert.equal(
            restoreJob.spec.template.spec.volumes.find((v: any) => v.name === "backups").persistentVolumeClaim.claimName,
            BACKUP_PVC,
        );
        assert.equal(objectStoreJob.spec.template.spec.serviceAccountName, BACKUP_NAME);
        // The StatefulSet's volumeClaimTemplate "data", pod 0.
        assert.equal(
            pitrJob.spec.template.spec.volumes.find((v: any) => v.name === "data").persistentVolumeClaim.claimName,
            `data-${POSTGRES_NAME}-0`,
        );
    });

    it("stop the writers with the maintenance modes the config accepts", () => {
        const modes = [...DOC.matchAll(/'orders-platform:database\.maintenance' ([a-z-]+)/g)].map((m) => m[1]);
        assert.deepEqual([...new Set(modes)].sort(), ["apps-stopped", "database-stopped"]);
        for (const m of modes) assert.ok((MAINTENANCE_MODES as readonly string[]).includes(m));
        assert.doesNotMatch(DOC, /kubectl -n orders-apps scale/, "never by hand: pulumi up would not restore it");
    });
});

// --- against the real PostgreSQL -------------------------------------------------------------------

const skip = process.env.SKIP_PG_TESTS === "1";
const url = new URL(process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test");
const PG_ENV = {
    PGHOST: url.hostname,
    PGPORT: url.port || "5432",
    PGUSER: decodeURIComponent(url.username || "postgres"),
    ...(url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {}),
};
const suffix = `${process.pid}`;
const ORDERS = `rt_orders_${suffix}`;
const USERS = `rt_users_${suffix}`;

function psql(db: string, sql: string): string {
    return execFileSync("psql", ["--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-Atq", "-d", db, "-c", sql], {
        env: { ...process.env, ...PG_ENV, PGOPTIONS: "-c client_min_messages=warning" },
        encoding: "utf8",
    }).trim();
}

function script(name: string, env: Record<string, string>) {
    return spawnSync("sh", [path.join(SCRIPTS_DIR, name)], { env: { ...process.env, ...PG_ENV, ...env }, encoding: "utf8" });
}

(skip ? describe.skip : describe)("restore procedure: both databases from one backup run, against PostgreSQL", function () {
    this.timeout(60_000);
    const backups = fs.mkdtempSync(path.join(os.tmpdir(), "orders-restore-"));
    let stamp = "";

    const admin = url.pathname.slice(1) || "postgres";
    const dropTestDatabases = () => {
        for (const db of [ORDERS, USERS]) {
            psql(admin, `DROP DATABASE IF EXISTS ${db}`);
            psql(admin, `DROP ROLE IF EXISTS ${db}`);
        }
    };

    before(() => {
        dropTestDatabases();
        for (const db of [ORDERS, USERS]) {
            psql(admin, `CREATE ROLE ${db} LOGIN`);
            psql(admin, `CREATE DATABASE ${db} OWNER ${db}`);
        }
        psql(
            USERS,
            `SET ROLE ${USERS}; CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL); INSERT INTO users VALUES (1, 'a@example.com'), (2, 'b@example.com')`,
        );
        psql(
            ORDERS,
            `SET ROLE ${ORDERS}; CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL); INSERT INTO orders VALUES (10, 1), (11, 2)`,
        );
        const r = script("backup.sh", {
            BACKUP_DIR: backups,
            DATABASES: `${ORDERS} ${USERS}`,
            KEEP_LAST: "1",
            RETENTION_DAYS: "1",
            LOCAL_RETENTION: "true",
        });
        assert.equal(r.status, 0, r.stderr);
        [stamp] = fs.readdirSync(backups);
    });

    after(() => {
        dropTestDatabases();
        fs.rmSync(backups, { recursive: true, force: true });
    });

    it("restores every database of the run as it was at the backup, owned by the app roles again", () => {
        // After the backup: new rows in both, a dropped table in one.
        psql(USERS, "INSERT INTO users VALUES (3, 'c@example.com')");
        psql(ORDERS, "INSERT INTO orders VALUES (12, 3); DROP TABLE orders");
        const r = script("restore.sh", { BACKUP_DIR: backups, STAMP: stamp });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`restore: ${ORDERS} ${USERS} restored from ${stamp}`));
        assert.equal(psql(USERS, "SELECT string_agg(id::text, ',' ORDER BY id) FROM users"), "1,2");
        assert.equal(psql(ORDERS, "SELECT string_agg(id || ':' || user_id, ',' ORDER BY id) FROM orders"), "10:1,11:2");
        assert.equal(psql(ORDERS, "SELECT tableowner FROM pg_tables WHERE tablename = 'orders'"), ORDERS);
        // Every order refers to a user of the restored users database.
        const userIds = psql(USERS, "SELECT string_agg(id::text, ',') FROM users").split(",");
        for (const id of psql(ORDERS, "SELECT string_agg(user_id::text, ',') FROM orders").split(",")) assert.ok(userIds.includes(id));
    });

    it("restores one database alone when DATABASES names it", () => {
        psql(USERS, "INSERT INTO users VALUES (4, 'd@example.com')");
        psql(ORDERS, "INSERT INTO orders VALUES (13, 1)");
        const r = script("restore.sh", { BACKUP_DIR: backups, STAMP: stamp, DATABASES: USERS });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(psql(USERS, "SELECT count(*) FROM users"), "2");
        assert.equal(psql(ORDERS, "SELECT count(*) FROM orders"), "3", "orders untouched");
    });

    it("refuses a run without its SUCCESS marker", () => {
        fs.mkdirSync(path.join(backups, "20260101T000000Z"));
        const r = script("restore.sh", { BACKUP_DIR: backups, STAMP: "20260101T000000Z" });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /has no SUCCESS marker/);
    });
});

describe("restore procedure: point-in-time preparation of the data volume", () => {
    let root: string;
    beforeEach(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), "orders-pitr-"))));
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it("keeps the old data directory aside, unpacks the base backup and its WAL, and configures recovery to the target", () => {
        const data = path.join(root, "data");
        const base = path.join(data, "restore-base");
        fs.mkdirSync(path.join(data, "pgdata"), { recursive: true });
        fs.writeFileSync(path.join(data, "pgdata", "PG_VERSION"), "broken\n");
        fs.mkdirSync(path.join(data, "restore-wal"), { recursive: true });
        // What pg_basebackup --format=tar --gzip --wal-method=stream writes.
        const src = path.join(root, "src");
        fs.mkdirSync(path.join(src, "base"), { recursive: true });
        fs.mkdirSync(path.join(src, "wal"), { recursive: true });
        fs.writeFileSync(path.join(src, "base", "PG_VERSION"), "17\n");
        fs.writeFileSync(path.join(src, "base", "backup_label"), "START WAL LOCATION: 0/5000028 (file 000000010000000000000005)\n");
        fs.writeFileSync(path.join(src, "wal", "000000010000000000000005"), "wal");
        fs.mkdirSync(base, { recursive: true });
        execFileSync("tar", ["-czf", path.join(base, "base.tar.gz"), "-C", path.join(src, "base"), "."]);
        execFileSync("tar", ["-czf", path.join(base, "pg_wal.tar.gz"), "-C", path.join(src, "wal"), "."]);

        const r = spawnSync("sh", [path.join(SCRIPTS_DIR, "pitr-prepare.sh")], {
            env: { ...process.env, DATA_MOUNT: data, BASE_DIR: base, TARGET_TIME: "2026-03-01 14:05:00+00" },
            encoding: "utf8",
        });
        assert.equal(r.status, 0, r.stderr);
        const aside = fs.readdirSync(data).filter((n) => n.startsWith("pgdata.before-restore-"));
        assert.equal(aside.length, 1);
        assert.equal(fs.readFileSync(path.join(data, aside[0], "PG_VERSION"), "utf8"), "broken\n", "the old data is kept");
        const pgdata = path.join(data, "pgdata");
        assert.equal(fs.readFileSync(path.join(pgdata, "PG_VERSION"), "utf8"), "17\n");
        assert.ok(fs.existsSync(path.join(pgdata, "pg_wal", "000000010000000000000005")));
        assert.ok(fs.existsSync(path.join(pgdata, "recovery.signal")));
        assert.equal((fs.statSync(pgdata).mode & 0o777).toString(8), "700", "PostgreSQL refuses a group-readable data directory");
        const conf = fs.readFileSync(path.join(pgdata, "postgresql.auto.conf"), "utf8");
        assert.match(conf, new RegExp(`restore_command = 'cp ${data}/restore-wal/%f %p'`));
        assert.match(conf, /recovery_target_time = '2026-03-01 14:05:00\+00'\nrecovery_target_action = 'promote'/);
    });

    it("refuses to start without the downloaded WAL", () => {
        fs.mkdirSync(path.join(root, "base"));
        fs.writeFileSync(path.join(root, "base", "base.tar.gz"), "");
        const r = spawnSync("sh", [path.join(SCRIPTS_DIR, "pitr-prepare.sh")], {
            env: { ...process.env, DATA_MOUNT: root, BASE_DIR: path.join(root, "base"), TARGET_TIME: "x" },
            encoding: "utf8",
        });
        assert.equal(r.status, 1);
        assert.match(r.stderr, /download the archived WAL/);
    });
});
