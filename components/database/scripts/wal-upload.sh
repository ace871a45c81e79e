#!/bin/sh
# Sidecar of PostgreSQL: uploads the WAL files wal-archive.sh puts in $WAL_SPOOL/ready to
# $WAL_URL and moves each to $WAL_SPOOL/done once it is stored. Runs until stopped
# ($WAL_UPLOAD_ONCE=true: one pass, for tests). Writes the time to $WAL_SPOOL/heartbeat for the liveness probe.
set -u
. "$(dirname "$0")/backup-store.sh"
mkdir -p "$WAL_SPOOL/ready" "$WAL_SPOOL/done"
while :; do
  date +%s > "$WAL_SPOOL/heartbeat"
  for f in "$WAL_SPOOL"/ready/*; do
    [ -f "$f" ] || continue
    name=${f##*/}
    if store_put "$f" "$WAL_URL/$name"; then
      mv "$f" "$WAL_SPOOL/done/$name"
    else
      echo "wal-upload: $name failed, retrying" >&2
      break
    fi
  done
  [ "${WAL_UPLOAD_ONCE:-false}" != "true" ] || exit 0
  sleep 1
done
