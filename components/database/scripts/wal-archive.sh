#!/bin/sh
# PostgreSQL archive_command: hands WAL file %p (named %f) to the wal-upload container through
# the spool volume and succeeds only once it is in the bucket, so PostgreSQL keeps the segment
# in pg_wal until then and pg_stat_archiver counts every failure. Usage: wal-archive.sh %p %f
set -eu
src=$1
name=$2
ready="$WAL_SPOOL/ready"
done_dir="$WAL_SPOOL/done"
mkdir -p "$ready" "$done_dir"

# An earlier attempt may have been uploaded after it timed out.
if [ -e "$done_dir/$name" ]; then
  rm -f "$done_dir/$name"
  exit 0
fi
if [ ! -e "$ready/$name" ]; then
  cp "$src" "$ready/.$name.tmp"
  mv "$ready/.$name.tmp" "$ready/$name"
fi
waited=0
while [ "$waited" -lt "${WAL_ARCHIVE_WAIT_SECONDS:-60}" ]; do
  if [ -e "$done_dir/$name" ]; then
    rm -f "$done_dir/$name"
    exit 0
  fi
  sleep 1
  waited=$((waited + 1))
done
echo "wal-archive: $name not uploaded within ${WAL_ARCHIVE_WAIT_SECONDS:-60}s; PostgreSQL retries it" >&2
exit 1
