// Runs the backup and WAL scripts of components/database/scripts with sh, in a temp dir, against
// stand-ins for pg_dump, pg_basebackup, df and the cloud CLIs on PATH. The stand-ins keep a
// "bucket" as a directory, so the scripts' listing, upload and delete logic runs for real.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SCRIPTS_DIR } from "../../components/database/scriptFiles";

const STUBS: Record<string, string> = {
    // pg_dump --format=custom ... --dbname=<db> --file=<path>; fails for the databases in $FAIL_DUMP.
    pg_dump: `#!/bin/sh
for a in "$@"; do case $a in --dbname=*) db=\${a#--dbname=};; --file=*) file=\${a#--file=};; esac; done
case " \${FAIL_DUMP:-} " in *" $db "*) echo "pg_dump: error: connection to server failed" >&2; exit 1;; esac
head -c "\${DUMP_BYTES:-1024}" /dev/zero > "$file"
`,
    // pg_basebackup --pgdata=<dir> --format=tar --gzip ...: a base.tar.gz holding a backup_label.
    pg_basebackup: `#!/bin/sh
for a in "$@"; do case $a in --pgdata=*) dir=\${a#--pgdata=};; esac; done
mkdir -p "$dir/src"
printf 'START WAL LOCATION: 0/%s028 (file %s)\\nCHECKPOINT LOCATION: 0/5000060\\n' 5000 "\${START_WAL:-000000010000000000000005}" > "$dir/src/backup_label"
tar -czf "$dir/base.tar.gz" -C "$dir/src" backup_label && rm -r "$dir/src"
echo wal > "$dir/pg_wal.tar.gz"
`,
    // df -Pk <dir>: the free KiB come from $FREE_KIB (a full disk in a test), else the real df.
    df: `#!/bin/sh
if [ -n "\${FREE_KIB:-}" ]; then printf 'Filesystem 1024-blocks Used Available Capacity Mounted\\nfake 100000 0 %s 0%% /\\n' "$FREE_KIB"; else exec /bin/df "$@"; fi
`,
    // The AWS CLI subset the scripts use; s3://<bucket>/<key> lives at $BUCKETS/<bucket>/<key>.
    aws: `#!/bin/bash
set -eu
local_path() { echo "$BUCKETS/\${1#s3://}"; }
echo "aws $*" >> "$BUCKETS/.calls"
[ -z "\${FAIL_UPLOAD:-}" ] || { echo "upload failed" >&2; exit 1; }
if [ "$1 $2" = "s3 cp" ]; then
  src=$3 dst=$4; shift 4; recursive=""; exclude=""
  while [ $# -gt 0 ]; do case $1 in --recursive) recursive=1;; --exclude) exclude=$2; shift;; esac; shift; done
  if [ "$dst" = "-" ]; then cat "$(local_path "$src")"; exit 0; fi
  if [ -n "$recursive" ]; then
    (cd "$src" && find . -type f | sed 's|^./||') | while read -r f; do
      [ "$(basename "$f")" = "$exclude" ] && continue
      mkdir -p "$(dirname "$(local_path "$dst/$f")")"; cp "$src/$f" "$(local_path "$dst/$f")"
    done
  else
    mkdir -p "$(dirname "$(local_path "$dst")")"; cp "$src" "$(local_path "$dst")"
  fi
elif [ "$1 $2" = "s3 ls" ]; then
  bucket=\${3#s3://}; bucket=\${bucket%%/*}; prefix=\${3#s3://$bucket/}
  [ -d "$BUCKETS/$bucket/$prefix" ] || exit 1
  (cd "$BUCKETS/$bucket" && find "$prefix" -type f | sort) | while read -r key; do echo "2026-01-01 00:00:00       1234 \${key#./}"; done
elif [ "$1 $2" = "s3api delete-objects" ]; then
  bucket=$4; json=\${6#file://}
  grep -o '"Key":"[^"]*"' "$json" | sed 's/"Key":"//; s/"$//' | while read -r key; do rm -f "$BUCKETS/$bucket/$key"; done
else
  echo "fake aws: unsupported: $*" >&2; exit 2
fi
`,
    // The gcloud subset the scripts use; gs://<bucket>/<key> lives at $BUCKETS/<bucket>/<key>.
    gcloud: `#!/bin/bash
set -eu
local_path() { echo "$BUCKETS/\${1#gs://}"; }
echo "gcloud $*" >> "$BUCKETS/.calls"
[ -z "\${FAIL_UPLOAD:-}" ] || { echo "upload failed" >&2; exit 1; }
case "$1 $2" in
  "storage cp")
    if [ "\${5:-}" = "--no-clobber" ] && [ -e "$(local_path "$4")" ]; then exit 0; fi
    mkdir -p "$(dirname "$(local_path "$4")")"; cp "$3" "$(local_path "$4")" ;;
  "storage cat") cat "$(local_path "$3")" ;;
  "storage ls")
    prefix=\${3%/\\*\\*}; dir=$(local_path "$prefix")
    [ -d "$dir" ] || exit 1
    (cd "$dir" && find . -type f | sed 's|^./||' | sort) | sed "s|^|$prefix/|" ;;
  "storage rm") while read -r url; do rm -f "$(local_path "$url")"; done ;;
  *) echo "fake gcloud: unsupported: $*" >&2; exit 2 ;;
esac
`,
};

export interface ScriptRun {
    status: number | null;
    stdout: string;
    stderr: string;
}

/** A scratch directory with the stubs on PATH and a bucket root. */
export class ScriptSandbox {
    readonly root = fs.mkdtempSync(path.join(os.tmpdir(), "orders-backup-"));
    readonly bin = path.join(this.root, "bin");
    readonly buckets = path.join(this.root, "buckets");
    readonly backups = path.join(this.root, "backups");

    constructor() {
        for (const dir of [this.bin, this.buckets, this.backups]) fs.mkdirSync(dir, { recursive: true });
        for (const [name, text] of Object.entries(STUBS)) fs.writeFileSync(path.join(this.bin, name), text, { mode: 0o755 });
    }

    run(script: string, env: Record<string, string>, args: string[] = []): ScriptRun {
        const r = spawnSync("sh", [path.join(SCRIPTS_DIR, script), ...args], {
            env: { PATH: `${this.bin}:${process.env.PATH}`, BUCKETS: this.buckets, BACKUP_DIR: this.backups, ...env },
            encoding: "utf8",
            timeout: 30_000,
        });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    }

    /** A backup directory as a run would leave it (`ok`: with its SUCCESS marker). */
    addLocalBackup(stamp: string, ok: boolean, bytes = 1024): void {
        const dir = path.join(this.backups, ok ? stamp : `${stamp}.partial`);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "users.dump"), Buffer.alloc(bytes));
        if (ok) fs.writeFileSync(path.join(dir, "SUCCESS"), `stamp=${stamp}\n`);
    }

    /** Names in the backup directory, sorted. */
    localBackups(): string[] {
        return fs.readdirSync(this.backups).sort();
    }

    /** Every object key below bucket/prefix, sorted. */
    objects(bucket: string, prefix: string): string[] {
        const dir = path.join(this.buckets, bucket, prefix);
        if (!fs.existsSync(dir)) return [];
        const out: string[] = [];
        const walk = (d: string) => {
            for (const e of fs.readdirSync(d, { withFileTypes: true })) {
                if (e.isDirectory()) walk(path.join(d, e.name));
                else out.push(path.relative(dir, path.join(d, e.name)));
            }
        };
        walk(dir);
        return out.sort();
    }

    putObject(bucket: string, key: string, content = "x"): void {
        const file = path.join(this.buckets, bucket, key);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, content);
    }

    cleanup(): void {
        fs.rmSync(this.root, { recursive: true, force: true });
    }
}

/** The UTC stamp of `days` days before now, as the backup job names its directories. */
export function stampDaysAgo(days: number, now = Date.now()): string {
    return new Date(now - days * 86_400_000)
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d{3}Z$/, "Z");
}
