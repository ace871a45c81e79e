#!/bin/sh
# One backup run: every app database with pg_dump (custom format), and with point-in-time
# recovery a base backup, into $BACKUP_DIR/<UTC start>/, completed by a SUCCESS file written last.
# $DATABASES is in dump order: an app before the apps it calls, so every row a caller's dump
# refers to was already committed when the callee is dumped moments later.
# On a volume ($LOCAL_RETENTION=true) it also applies the retention (backup-retention.sh):
# failed runs go first, then, when space is short, successful backups beyond the newest
# $KEEP_LAST; expired ones go after the run succeeded. A failed run leaves nothing behind.
set -eu
. "$(dirname "$0")/backup-retention.sh"

stamp=$(date -u +%Y%m%dT%H%M%SZ)
work="$BACKUP_DIR/$stamp.partial"

if [ "${LOCAL_RETENTION:-false}" = "true" ]; then
  prune_local "$BACKUP_DIR" "$KEEP_LAST" "$RETENTION_DAYS"
  make_room "$BACKUP_DIR" "$KEEP_LAST"
fi

mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
for db in $DATABASES; do
  echo "backup $stamp: dumping $db"
  pg_dump --format=custom --compress=6 --no-password --dbname="$db" --file="$work/$db.dump"
  echo "$db $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$work/DUMPED"
done

if [ "${BASE_BACKUP:-false}" = "true" ]; then
  echo "backup $stamp: base backup"
  pg_basebackup --pgdata="$work/base" --format=tar --gzip --wal-method=stream --checkpoint=fast \
    --no-password --label="$stamp"
  # The first WAL segment this base backup needs: older archived WAL can be pruned with it.
  tar -xzOf "$work/base/base.tar.gz" backup_label | sed -n 's/^START WAL LOCATION: .*(file \([0-9A-F]\{24\}\))$/\1/p' > "$work/base/START_WAL"
  [ -s "$work/base/START_WAL" ] || { echo "backup $stamp: no START WAL LOCATION in backup_label" >&2; exit 1; }
fi

{
  echo "stamp=$stamp"
  echo "databases=$DATABASES"
  echo "base_backup=${BASE_BACKUP:-false}"
  echo "finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} > "$work/SUCCESS"
mv "$work" "$BACKUP_DIR/$stamp"
trap - EXIT

if [ "${LOCAL_RETENTION:-false}" = "true" ]; then
  prune_local "$BACKUP_DIR" "$KEEP_LAST" "$RETENTION_DAYS"
fi
echo "backup $stamp complete: $DATABASES"
