#!/bin/sh
# Restores every app database from one backup run, $BACKUP_DIR/$STAMP, so all of them come from the
# same run (see RESTORE.md). Refuses a run without its SUCCESS marker. Each database is restored in
# one transaction: it is either fully restored or left as it was. Objects get the app's role again
# (--no-owner --role), the roles themselves come from the bootstrap Job.
# $DATABASES (optional) limits or renames the databases; default: those the run dumped.
set -eu
dir="$BACKUP_DIR/$STAMP"
if [ ! -f "$dir/SUCCESS" ]; then
  echo "restore: $dir has no SUCCESS marker, it is not a complete backup" >&2
  exit 1
fi
databases=${DATABASES:-$(sed -n 's/^databases=//p' "$dir/SUCCESS")}
for db in $databases; do
  echo "restore: $db from $STAMP"
  pg_restore --clean --if-exists --no-owner --role="$db" --exit-on-error --single-transaction --no-password \
    --dbname="$db" "$dir/$db.dump"
done
echo "restore: $databases restored from $STAMP"
