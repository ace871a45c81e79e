#!/bin/sh
# Point-in-time recovery, run while PostgreSQL is stopped (database.maintenance: database-stopped)
# with its data volume at $DATA_MOUNT: keeps the current data directory aside, unpacks the base
# backup $BASE_DIR (base.tar.gz, pg_wal.tar.gz) into a new one, and configures recovery from the
# archived WAL in $DATA_MOUNT/restore-wal up to $TARGET_TIME (both databases: one point in time).
# The next start of PostgreSQL replays the WAL, stops at the target and promotes.
set -eu
pgdata="$DATA_MOUNT/pgdata"
[ -f "$BASE_DIR/base.tar.gz" ] || { echo "pitr: no base.tar.gz in $BASE_DIR" >&2; exit 1; }
[ -d "$DATA_MOUNT/restore-wal" ] || { echo "pitr: download the archived WAL to $DATA_MOUNT/restore-wal first" >&2; exit 1; }
if [ -d "$pgdata" ]; then
  aside="$DATA_MOUNT/pgdata.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
  mv "$pgdata" "$aside"
  echo "pitr: the previous data directory is kept as $aside (delete it once the restore is verified)"
fi
mkdir -m 700 "$pgdata"
tar -xzf "$BASE_DIR/base.tar.gz" -C "$pgdata"
chmod 700 "$pgdata"
mkdir -p "$pgdata/pg_wal"
tar -xzf "$BASE_DIR/pg_wal.tar.gz" -C "$pgdata/pg_wal"
cat >> "$pgdata/postgresql.auto.conf" <<CONF
# point-in-time recovery (pitr-prepare.sh); reset with ALTER SYSTEM RESET after the restore
restore_command = 'cp $DATA_MOUNT/restore-wal/%f %p'
recovery_target_time = '$TARGET_TIME'
recovery_target_action = 'promote'
CONF
touch "$pgdata/recovery.signal"
echo "pitr: ready; start PostgreSQL to replay WAL up to $TARGET_TIME"
