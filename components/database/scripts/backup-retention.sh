# Retention of Postgres backups, shared by the dump job (volume target) and the uploader (object
# stores). A backup is a directory named after its UTC start, <YYYYMMDDTHHMMSSZ>/, holding a
# SUCCESS file written last. Rule: failed runs (no SUCCESS) are always removed; the newest
# $KEEP_LAST successful backups are never removed, whatever their age; older successful ones go
# once they are older than $RETENTION_DAYS (or, on a full volume, before the next dump).
# POSIX sh: it runs in the postgres image (dash) and in the cloud CLI images.

STAMP_RE='[0-9]\{8\}T[0-9]\{6\}Z'

# 20260301T020000Z -> 20260301020000 (comparable as a number).
stamp_number() {
  echo "$1" | tr -d 'TZ'
}

# The stamp of the moment $1 days ago (UTC); NOW_EPOCH overrides the clock in tests.
cutoff_stamp() {
  now=${NOW_EPOCH:-$(date -u +%s)}
  date -u -d "@$((now - $1 * 86400))" +%Y%m%dT%H%M%SZ
}

# stdin: "<stamp> ok|failed" per backup, any order.
# stdout: the stamps to remove: every failed one, and the successful ones beyond the newest
# $1 that started before stamp $2 (pass 99999999T999999Z to drop all beyond the newest $1).
expired_backups() {
  keep=$1
  cutoff=$(stamp_number "$2")
  sort -r | {
    kept=0
    while read -r stamp state; do
      [ -n "$stamp" ] || continue
      if [ "$state" != ok ]; then
        echo "$stamp"
        continue
      fi
      kept=$((kept + 1))
      if [ "$kept" -gt "$keep" ] && [ "$(stamp_number "$stamp")" -lt "$cutoff" ]; then
        echo "$stamp"
      fi
    done
  }
}

# --- volume target -----------------------------------------------------------------------

# "<stamp> ok|failed" for every backup directory (and leftover <stamp>.partial) under $1.
local_backups() {
  for path in "$1"/*; do
    [ -d "$path" ] || continue
    name=${path##*/}
    stamp=$(echo "$name" | sed -n "s/^\($STAMP_RE\)\(\.partial\)\{0,1\}$/\1/p")
    [ -n "$stamp" ] || continue
    if [ "$name" = "$stamp" ] && [ -f "$path/SUCCESS" ]; then
      echo "$stamp ok"
    else
      echo "$stamp failed"
    fi
  done
}

remove_local_backup() {
  echo "retention: removing $2"
  rm -rf "${1:?}/$2" "${1:?}/$2.partial"
}

# Removes failed runs and expired backups under $1 (keep $2, retention $3 days).
prune_local() {
  local_backups "$1" | expired_backups "$2" "$(cutoff_stamp "$3")" | while read -r stamp; do
    remove_local_backup "$1" "$stamp"
  done
}

free_kib() {
  df -Pk "$1" | awk 'NR == 2 { print $4 }'
}

# KiB the next backup probably needs: the newest successful one plus a quarter.
expected_kib() {
  newest=$(local_backups "$1" | awk '$2 == "ok" { print $1 }' | sort -r | head -n 1)
  if [ -z "$newest" ]; then
    echo 0
    return
  fi
  used=$(du -sk "$1/$newest" | awk '{ print $1 }')
  echo $((used + used / 4))
}

# Before a dump on a volume: when free space is short, removes successful backups beyond the
# newest $2, oldest first, until the next one fits. The newest $2 stay even if it does not.
make_room() {
  need=$(expected_kib "$1")
  local_backups "$1" | expired_backups "$2" 99999999T999999Z | sort | while read -r stamp; do
    [ "$(free_kib "$1")" -lt "$need" ] || break
    remove_local_backup "$1" "$stamp"
  done
  if [ "$(free_kib "$1")" -lt "$need" ]; then
    echo "retention: only $(free_kib "$1") KiB free, the last backup needed about $need KiB;" \
      "the newest $2 successful backups are kept, so grow database.backup.volumeSize" >&2
  fi
}
