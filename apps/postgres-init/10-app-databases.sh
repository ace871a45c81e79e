# One database and role per app, like the cluster's bootstrap Job. The postgres image runs the
# files of /docker-entrypoint-initdb.d once, when the data volume is new (apps/compose.yaml).
for app in users orders; do
    psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v app="$app" -v pw="$APP_DB_PASSWORD" <<'SQL'
CREATE ROLE :"app" LOGIN PASSWORD :'pw';
CREATE DATABASE :"app" OWNER :"app";
SQL
done
