# Object store access for the backup uploader and the WAL uploader: S3 through the AWS CLI
# (IRSA credentials), GCS through gcloud (Workload Identity). $STORE is s3 or gcs; URLs are
# s3://<bucket>/<prefix> or gs://<bucket>/<prefix>. POSIX sh.

# Copies one local file to a URL.
store_put() {
  case $STORE in
    s3) aws s3 cp "$1" "$2" --only-show-errors --no-progress ;;
    # Create-only for WAL (roles/storage.objectCreator): an object uploaded before stays as it is.
    gcs) gcloud storage cp "$1" "$2" --no-clobber --quiet ;;
  esac
}

# Copies the files of local directory $1 to URL prefix $2 (recursively), except $3 (a file name).
store_put_dir() {
  case $STORE in
    s3) aws s3 cp "$1" "$2" --recursive --exclude "$3" --only-show-errors --no-progress ;;
    gcs) (cd "$1" && find . -type f ! -name "$3" | sed 's|^\./||' | while read -r f; do gcloud storage cp "$f" "$2/$f" --no-clobber --quiet || exit 1; done) ;;
  esac
}

# Prints the object at a URL.
store_cat() {
  case $STORE in
    s3) aws s3 cp "$1" - --only-show-errors ;;
    gcs) gcloud storage cat "$1" ;;
  esac
}

# Every object below URL prefix $1/, one path relative to it per line.
store_list() {
  case $STORE in
    # "2026-03-01 02:00:00   1234 postgres/20260301T020000Z/users.dump"
    s3) aws s3 ls "$1/" --recursive | awk '{ $1 = $2 = $3 = ""; sub(/^ +/, ""); print }' | sed "s|^${1#s3://*/}/||" ;;
    # "gs://bucket/postgres/20260301T020000Z/users.dump"
    gcs) gcloud storage ls "$1/**" | sed -n "s|^$1/||p" ;;
  esac
}

# Deletes the objects named on stdin (paths relative to URL prefix $1), in batches.
store_delete() {
  case $STORE in
    s3)
      bucket=${1#s3://}
      prefix=${bucket#*/}
      bucket=${bucket%%/*}
      batch=$(mktemp)
      # delete-objects takes up to 1000 keys per call; the names are [0-9A-Za-z._/-] only.
      split -l 1000 - "$batch." 
      for part in "$batch".*; do
        [ -s "$part" ] || continue
        { printf '{"Quiet":true,"Objects":['; sed "s|.*|{\"Key\":\"$prefix/&\"}|" "$part" | paste -sd, -; printf ']}'; } > "$batch.json"
        aws s3api delete-objects --bucket "$bucket" --delete "file://$batch.json" > /dev/null || return 1
        rm -f "$part"
      done
      rm -f "$batch" "$batch.json"
      ;;
    gcs) sed "s|^|$1/|" | gcloud storage rm -I --quiet ;;
  esac
}
