#!/bin/sh
# Uploads the backup the dump container just completed in $BACKUP_DIR to $BACKUP_URL/<stamp>/
# (data first, the SUCCESS marker last), then applies the retention to the bucket
# (backup-retention.sh): failed uploads and expired backups go, the newest $KEEP_LAST successful
# ones stay. With $WAL_URL set, archived WAL older than the oldest kept base backup goes too.
set -eu
here=$(dirname "$0")
. "$here/backup-retention.sh"
. "$here/backup-store.sh"

stamp=$(ls "$BACKUP_DIR" | grep -x "$STAMP_RE" | sort | tail -n 1)
if [ -z "$stamp" ] || [ ! -f "$BACKUP_DIR/$stamp/SUCCESS" ]; then
  echo "upload: no completed backup in $BACKUP_DIR" >&2
  exit 1
fi
store_put_dir "$BACKUP_DIR/$stamp" "$BACKUP_URL/$stamp" SUCCESS
store_put "$BACKUP_DIR/$stamp/SUCCESS" "$BACKUP_URL/$stamp/SUCCESS"
echo "upload: $BACKUP_URL/$stamp complete"

listing=$(mktemp)
store_list "$BACKUP_URL" > "$listing"
backups=$(mktemp)
for s in $(grep -o "^$STAMP_RE/" "$listing" | tr -d / | sort -u); do
  if grep -qx "$s/SUCCESS" "$listing"; then echo "$s ok"; else echo "$s failed"; fi
done > "$backups"

expired_backups "$KEEP_LAST" "$(cutoff_stamp "$RETENTION_DAYS")" < "$backups" | while read -r s; do
  [ "$s" != "$stamp" ] || continue
  echo "retention: removing $BACKUP_URL/$s/"
  grep "^$s/" "$listing" | store_delete "$BACKUP_URL"
done

if [ -n "${WAL_URL:-}" ]; then
  # The oldest base backup still kept decides which WAL is still needed.
  oldest=""
  for s in $(awk '$2 == "ok" { print $1 }' "$backups" | sort); do
    if expired_backups "$KEEP_LAST" "$(cutoff_stamp "$RETENTION_DAYS")" < "$backups" | grep -qx "$s"; then continue; fi
    if grep -qx "$s/base/START_WAL" "$listing"; then oldest=$s; break; fi
  done
  if [ -n "$oldest" ]; then
    first=$(store_cat "$BACKUP_URL/$oldest/base/START_WAL" | head -n 1)
    echo "retention: keeping WAL from $first (base backup $oldest)"
    # Segment names sort in WAL order; timeline history files are always kept.
    old_wal=$(mktemp)
    store_list "$WAL_URL" | grep -v '\.history$' | awk -v first="$first" '(substr($0, 1, 24) "") < (first "")' > "$old_wal"
    if [ -s "$old_wal" ]; then
      echo "retention: removing $(wc -l < "$old_wal") WAL files before $first"
      store_delete "$WAL_URL" < "$old_wal"
    fi
    rm -f "$old_wal"
  fi
fi
rm -f "$listing" "$backups"
