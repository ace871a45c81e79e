// The backup scripts, run for real with sh against stand-ins for pg_dump, df and the cloud CLIs:
// retention never deletes the newest successful backups, failed runs never jam the volume, and
// WAL archiving succeeds only once a segment is in the bucket.
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { SCRIPTS_DIR } from "../../components/database/scriptFiles";
import { ScriptSandbox, stampDaysAgo } from "./scriptStubs";

const DUMP_ENV = { DATABASES: "orders users", KEEP_LAST: "2", RETENTION_DAYS: "7" };
const STAMP = /^\d{8}T\d{6}Z$/;

describe("backup scripts: volume target", () => {
    let box: ScriptSandbox;
    beforeEach(() => (box = new ScriptSandbox()));
    afterEach(() => box.cleanup());

    it("dumps every database into one stamp directory, completed by a SUCCESS marker written last", () => {
        const r = box.run("backup.sh", { ...DUMP_ENV, LOCAL_RETENTION: "true" });
        assert.equal(r.status, 0, r.stderr);
        const [stamp] = box.localBackups();
        assert.match(stamp, STAMP);
        const files = fs.readdirSync(path.join(box.backups, stamp)).sort();
        assert.deepEqual(files, ["DUMPED", "SUCCESS", "orders.dump", "users.dump"]);
        const dumped = fs.readFileSync(path.join(box.backups, stamp, "DUMPED"), "utf8");
        assert.match(dumped, /^orders .*\nusers .*\n$/, "callers first, in the configured order");
        assert.match(
            fs.readFileSync(path.join(box.backups, stamp, "SUCCESS"), "utf8"),
            new RegExp(`stamp=${stamp}\ndatabases=orders users\n`),
        );
    });

    it("two failed runs in a row leave nothing behind and delete no good backup; a 20-day-old newest success survives", () => {
        const old = stampDaysAgo(20);
        box.addLocalBackup(old, true);
        for (let i = 0; i < 2; i++) {
            const r = box.run("backup.sh", { ...DUMP_ENV, LOCAL_RETENTION: "true", FAIL_DUMP: "users" });
            assert.notEqual(r.status, 0);
            assert.match(r.stderr, /connection to server failed/);
            assert.deepEqual(box.localBackups(), [old], `run ${i + 1}: no partial directory, the old backup stays`);
        }
        // Also an expiry pass after a success elsewhere never takes the newest KEEP_LAST.
        const ok = box.run("backup.sh", { ...DUMP_ENV, LOCAL_RETENTION: "true", KEEP_LAST: "2" });
        assert.equal(ok.status, 0, ok.stderr);
        assert.equal(box.localBackups().length, 2);
        assert.ok(box.localBackups().includes(old), "20 days old, but one of the newest 2 successful backups");
    });

    it("removes leftovers of crashed runs and successful backups past the retention beyond the newest KEEP_LAST", () => {
        const stamps = [30, 20, 10, 5, 1].map((d) => stampDaysAgo(d));
        for (const s of stamps) box.addLocalBackup(s, true);
        box.addLocalBackup(stampDaysAgo(2), false); // a crashed run's .partial
        const r = box.run("backup.sh", { ...DUMP_ENV, LOCAL_RETENTION: "true", KEEP_LAST: "2", RETENTION_DAYS: "7" });
        assert.equal(r.status, 0, r.stderr);
        const left = box.localBackups();
        // 30, 20 and 10 days: expired (older than 7 days and not among the newest 2); 5 (within 7 days) and 1: kept; plus today's.
        assert.equal(left.length, 3);
        assert.deepEqual(left.slice(0, 2), [stamps[3], stamps[4]]);
        assert.ok(
            left.every((n) => STAMP.test(n)),
            "no .partial left",
        );
    });

    it("full disk: makes room before dumping by deleting backups beyond the newest KEEP_LAST, oldest first, never the newest", () => {
        const stamps = [6, 5, 4, 3].map((d) => stampDaysAgo(d));
        for (const s of stamps) box.addLocalBackup(s, true, 4096);
        // Within retention (7 days), so only space pressure removes anything; the disk stays full.
        const r = box.run("backup.sh", { ...DUMP_ENV, LOCAL_RETENTION: "true", KEEP_LAST: "2", RETENTION_DAYS: "7", FREE_KIB: "1" });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stdout, new RegExp(`retention: removing ${stamps[0]}[\\s\\S]*retention: removing ${stamps[1]}`));
        assert.match(r.stderr, /the newest 2 successful backups are kept, so grow database.backup.volumeSize/);
        const left = box.localBackups();
        assert.deepEqual(left.slice(0, 2), [stamps[2], stamps[3]], "the newest two survive a full disk");
        assert.equal(left.length, 3);
    });

    it("with enough space nothing within the retention is deleted before the dump", () => {
        for (const d of [6, 5, 4]) box.addLocalBackup(stampDaysAgo(d), true);
        const r = box.run("backup.sh", { ...DUMP_ENV, LOCAL_RETENTION: "true", KEEP_LAST: "1", RETENTION_DAYS: "7" });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(box.localBackups().length, 4);
    });
});

describe("backup scripts: object storage (S3 and GCS)", () => {
    let box: ScriptSandbox;
    beforeEach(() => (box = new ScriptSandbox()));
    afterEach(() => box.cleanup());

    for (const [store, url] of [
        ["s3", "s3://bucket/postgres"],
        ["gcs", "gs://bucket/postgres"],
    ] as const) {
        const env = { ...DUMP_ENV, STORE: store, BACKUP_URL: url, KEEP_LAST: "2", RETENTION_DAYS: "7" };

        it(`${store}: uploads the data first and the SUCCESS marker last`, () => {
            assert.equal(box.run("backup.sh", { ...DUMP_ENV, LOCAL_RETENTION: "false" }).status, 0);
            const r = box.run("backup-upload.sh", env);
            assert.equal(r.status, 0, r.stderr);
            const [stamp] = box.localBackups();
            assert.deepEqual(box.objects("bucket", "postgres"), [
                `${stamp}/DUMPED`,
                `${stamp}/SUCCESS`,
                `${stamp}/orders.dump`,
                `${stamp}/users.dump`,
            ]);
            const calls = fs.readFileSync(path.join(box.buckets, ".calls"), "utf8").split("\n");
            const marker = calls.findIndex((c) => c.includes("SUCCESS") && !c.includes("--exclude"));
            const data = calls.findIndex((c) => c.includes("orders.dump") || c.includes("--recursive --exclude SUCCESS"));
            assert.ok(data >= 0 && marker > data, calls.join("\n"));
        });

        it(`${store}: keeps the newest KEEP_LAST successful backups whatever their age, drops failed uploads and expired ones`, () => {
            const oldOk = [40, 30, 20].map((d) => stampDaysAgo(d));
            for (const s of oldOk) for (const f of ["users.dump", "SUCCESS"]) box.putObject("bucket", `postgres/${s}/${f}`);
            const failed = stampDaysAgo(10);
            box.putObject("bucket", `postgres/${failed}/users.dump`); // no marker: an upload that died
            // Today's run fails: nothing new in the bucket, nothing deleted.
            assert.notEqual(box.run("backup.sh", { ...DUMP_ENV, FAIL_DUMP: "orders" }).status, 0);
            assert.notEqual(box.run("backup-upload.sh", env).status, 0, "no completed backup to upload");
            assert.equal(box.objects("bucket", "postgres").length, 7);
            // A later success: the two newest successful ones stay (20 days and today), the rest goes.
            assert.equal(box.run("backup.sh", DUMP_ENV).status, 0);
            const r = box.run("backup-upload.sh", env);
            assert.equal(r.status, 0, r.stderr);
            const stamps = [...new Set(box.objects("bucket", "postgres").map((k) => k.split("/")[0]))];
            assert.deepEqual(stamps, [oldOk[2], box.localBackups()[0]]);
        });

        it(`${store}: prunes archived WAL older than the oldest kept base backup, never timeline history`, () => {
            const walUrl = url.replace("/postgres", "/postgres-wal");
            const older = stampDaysAgo(30);
            for (const f of ["SUCCESS", "base/START_WAL"]) box.putObject("bucket", `postgres/${older}/${f}`, "000000010000000000000002\n");
            for (const seg of [
                "000000010000000000000001",
                "000000010000000000000003",
                "000000010000000000000004",
                "00000002.history",
                "00000001000000000000000A",
            ]) {
                box.putObject("bucket", `postgres-wal/${seg}`);
            }
            assert.equal(box.run("backup.sh", { ...DUMP_ENV, BASE_BACKUP: "true", START_WAL: "000000010000000000000004" }).status, 0);
            const r = box.run("backup-upload.sh", { ...env, KEEP_LAST: "1", WAL_URL: walUrl });
            assert.equal(r.status, 0, r.stderr);
            // The 30-day-old backup expired; the new base backup starts at segment 4.
            assert.deepEqual(
                box.objects("bucket", "postgres-wal"),
                ["00000001000000000000000A", "000000010000000000000004", "00000002.history"].sort(),
            );
            const [stamp] = box.localBackups();
            assert.ok(box.objects("bucket", "postgres").includes(`${stamp}/base/START_WAL`));
            assert.match(r.stdout, /keeping WAL from 000000010000000000000004/);
        });
    }
});

describe("WAL archiving scripts", () => {
    let box: ScriptSandbox;
    beforeEach(() => (box = new ScriptSandbox()));
    afterEach(() => box.cleanup());

    const archive = (spool: string, segment: string, wait: number) =>
        new Promise<number | null>((resolve) => {
            const p = spawn("sh", [path.join(SCRIPTS_DIR, "wal-archive.sh"), segment, path.basename(segment)], {
                env: { ...process.env, WAL_SPOOL: spool, WAL_ARCHIVE_WAIT_SECONDS: String(wait) },
            });
            p.on("exit", resolve);
        });

    /** Resolves once archive_command has handed the segment to the uploader (its ready marker exists). */
    const handedOver = async (marker: string) => {
        const deadline = Date.now() + 10_000;
        while (!fs.existsSync(marker)) {
            assert.ok(Date.now() < deadline, `archive_command never handed ${path.basename(marker)} to the uploader`);
            await new Promise((r) => setTimeout(r, 20));
        }
    };

    for (const [store, url] of [
        ["s3", "s3://bucket/postgres-wal"],
        ["gcs", "gs://bucket/postgres-wal"],
    ] as const) {
        it(`${store}: archive_command succeeds only after the uploader stored the segment`, async () => {
            const spool = path.join(box.root, "spool");
            const segment = path.join(box.root, "000000010000000000000007");
            fs.writeFileSync(segment, "wal bytes");
            const pending = archive(spool, segment, 20);
            await handedOver(path.join(spool, "ready", "000000010000000000000007"));
            const up = box.run("wal-upload.sh", { STORE: store, WAL_URL: url, WAL_SPOOL: spool, WAL_UPLOAD_ONCE: "true" });
            assert.equal(up.status, 0, up.stderr);
            assert.equal(await pending, 0);
            assert.deepEqual(box.objects("bucket", "postgres-wal"), ["000000010000000000000007"]);
            assert.deepEqual(fs.readdirSync(path.join(spool, "ready")), []);
            assert.deepEqual(fs.readdirSync(path.join(spool, "done")), [], "the marker is consumed");
            assert.match(fs.readFileSync(path.join(spool, "heartbeat"), "utf8"), /^\d+\n$/);
        });

        it(`${store}: a failing upload fails archive_command (PostgreSQL keeps the segment and retries)`, async () => {
            const spool = path.join(box.root, "spool");
            const segment = path.join(box.root, "000000010000000000000008");
            fs.writeFileSync(segment, "wal bytes");
            const pending = archive(spool, segment, 2);
            await handedOver(path.join(spool, "ready", "000000010000000000000008"));
            const up = box.run("wal-upload.sh", {
                STORE: store,
                WAL_URL: url,
                WAL_SPOOL: spool,
                WAL_UPLOAD_ONCE: "true",
                FAIL_UPLOAD: "1",
            });
            assert.match(up.stderr, /failed, retrying/);
            assert.equal(await pending, 1);
            assert.deepEqual(box.objects("bucket", "postgres-wal"), []);
            // The retry finds it uploaded in the meantime and succeeds at once.
            assert.equal(box.run("wal-upload.sh", { STORE: store, WAL_URL: url, WAL_SPOOL: spool, WAL_UPLOAD_ONCE: "true" }).status, 0);
            assert.equal(await archive(spool, segment, 1), 0);
        });
    }
});
