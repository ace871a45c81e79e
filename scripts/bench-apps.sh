#!/usr/bin/env bash
# Benchmark of the users and orders services against the local PostgreSQL, with authentication on.
#   npm run bench:apps            (or: bash scripts/bench-apps.sh)
# Builds both apps with tsc into a temp dir, creates a throwaway signing key, starts one process of
# each on a fresh database, seeds users (each through POST /api/users with its own token), then
# runs wrk (-t2 -c50 -d10s --latency) with per-user bearer tokens on
#   GET  /api/users/:id   target >= 10000 req/s and p99 < 15 ms (each user reads their own profile)
#   POST /api/orders      target >= 4500 req/s and 0 non-2xx (per-user tokens over all seeded users,
#                         profile lookup + Idempotency-Key)
# and reports the RSS (VmRSS) of each process after start-up, 2 s after a short warm-up and 2 s
# after the benchmark (transient: V8 keeps the heap it grew until it sees the process idle), and
# the idle RSS: after the benchmark, once the process has had no traffic for BENCH_IDLE_SECONDS
# (30 s; V8's memory reducer returns the grown heap within ~10-20 s; target <= 80 MB), PASS/FAIL per target,
# and stops everything it started. Node runs with the flags of the image's CMD (apps/Dockerfile).
# Env knobs: BENCH_DURATION (10s), BENCH_CONNECTIONS (50), BENCH_THREADS (2), BENCH_USERS (1000),
# BENCH_ADMIN_URL, BENCH_IDLE_SECONDS, DB_POOL_MAX, BENCH_NODE_FLAGS (replaces the flags of the image's CMD).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-50}
THREADS=${BENCH_THREADS:-2}
SEED_USERS=${BENCH_USERS:-1000}
ADMIN_URL=${BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/test}
USERS_PORT=${BENCH_USERS_PORT:-28081}
ORDERS_PORT=${BENCH_ORDERS_PORT:-28082}
GET_RPS_TARGET=10000
GET_P99_TARGET_MS=15
POST_RPS_TARGET=4500
RSS_TARGET_MB=80
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-30}

log() { printf '== %s\n' "$*"; }

# --- prerequisites -----------------------------------------------------------
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
if ! command -v wrk >/dev/null; then
    log "installing wrk"
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

WORK=$(mktemp -d /tmp/bench-apps.XXXXXX)
DB="bench_$(date +%s)_$$"
PIDS=()
cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT INT TERM

# --- build -------------------------------------------------------------------
log "building users and orders with tsc into $WORK"
for app in users orders; do
    node_modules/.bin/tsc -p "apps/$app/tsconfig.build.json" --outDir "$WORK/$app/dist"
    node apps/service-kit/tools/relink.cjs "$WORK/$app/dist" >/dev/null
    ln -s "$ROOT/node_modules" "$WORK/$app/node_modules" # resolve deps as in the workspace
done

# --- auth: a throwaway key, its JWKS in the apps' env, one token per user -----
TOKEN=(node_modules/.bin/tsx scripts/token.ts --key-dir "$WORK/auth")
eval "$("${TOKEN[@]}" --env)"
export AUTH_ISSUER AUTH_AUDIENCES AUTH_JWKS
mapfile -t SUBS < <(seq -f "bench-user-%g" 0 $((SEED_USERS - 1)))
"${TOKEN[@]}" --ttl 3600 $(printf -- '--sub %s ' "${SUBS[@]}") >"$WORK/tokens.txt"

# --- start -------------------------------------------------------------------
# The same V8 flags as the image (its CMD line), so memory figures hold for the pods.
# BENCH_NODE_FLAGS replaces them, to compare settings.
if [ -n "${BENCH_NODE_FLAGS+set}" ]; then
    read -r -a NODE_FLAGS <<<"$BENCH_NODE_FLAGS"
else
    mapfile -t NODE_FLAGS < <(node -e '
        const cmd = require("fs").readFileSync("apps/Dockerfile", "utf8").match(/^CMD (\[.*\])$/m);
        if (!cmd) throw new Error("apps/Dockerfile has no CMD in exec form");
        const argv = JSON.parse(cmd[1]);
        for (const flag of argv.slice(1, -1)) console.log(flag);')
fi
psql -q "$ADMIN_URL" -c "CREATE DATABASE \"$DB\"" >/dev/null
DB_URL=$(node -e 'const u=new URL(process.argv[1]); u.pathname="/"+process.argv[2]; console.log(u.toString())' "$ADMIN_URL" "$DB")
export NODE_ENV=production LOG_LEVEL=${LOG_LEVEL:-warn} DATABASE_URL=$DB_URL
PORT=$USERS_PORT node "${NODE_FLAGS[@]}" "$WORK/users/dist/users/src/main.js" >"$WORK/users.log" 2>&1 &
PIDS+=($!)
PORT=$ORDERS_PORT USERS_URL=http://127.0.0.1:$USERS_PORT node "${NODE_FLAGS[@]}" "$WORK/orders/dist/orders/src/main.js" >"$WORK/orders.log" 2>&1 &
PIDS+=($!)
for url in "http://127.0.0.1:$USERS_PORT/readyz" "http://127.0.0.1:$ORDERS_PORT/readyz"; do
    for _ in $(seq 1 100); do curl -sf "$url" >/dev/null && break; sleep 0.2; done
    curl -sf "$url" >/dev/null || { echo "not ready: $url" >&2; cat "$WORK"/*.log >&2; exit 1; }
done
log "users pid ${PIDS[0]} on :$USERS_PORT, orders pid ${PIDS[1]} on :$ORDERS_PORT, database $DB, node flags: ${NODE_FLAGS[*]:-none}"

rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
START_RSS=("$(rss_mb "${PIDS[0]}")" "$(rss_mb "${PIDS[1]}")")

# --- seed --------------------------------------------------------------------
log "seeding $SEED_USERS users through POST /api/users, each with its own token"
node - "$USERS_PORT" "$WORK/tokens.txt" "$WORK/ids.txt" <<'JS'
const fs = require("fs");
const [port, tokensFile, out] = process.argv.slice(2);
const tokens = fs.readFileSync(tokensFile, "utf8").trim().split("\n");
const ids = new Array(tokens.length);
let next = 0;
async function worker() {
    while (next < tokens.length) {
        const i = next++;
        const res = await fetch(`http://127.0.0.1:${port}/api/users`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${tokens[i]}` },
            body: JSON.stringify({ email: `bench-${i}@example.com`, name: `Bench User ${i}` }),
        });
        if (res.status !== 201) throw new Error(`seed failed: ${res.status} ${await res.text()}`);
        ids[i] = (await res.json()).id;
    }
}
Promise.all(Array.from({ length: 16 }, worker)).then(() => fs.writeFileSync(out, ids.join("\n") + "\n"));
JS

LUA_IDS=$(awk '{printf "\"%s\",", $0}' "$WORK/ids.txt")
LUA_TOKENS=$(awk '{printf "\"Bearer %s\",", $0}' "$WORK/tokens.txt")
cat >"$WORK/get.lua" <<LUA
local ids = { $LUA_IDS }
local tokens = { $LUA_TOKENS }
local i = math.random(1, #ids)
local headers = {}
request = function()
    i = i % #ids + 1
    headers["Authorization"] = tokens[i]
    return wrk.format("GET", "/api/users/" .. ids[i], headers)
end
LUA
cat >"$WORK/post.lua" <<LUA
local tokens = { $LUA_TOKENS }
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end
local n = 0
local prefix
local headers = { ["Content-Type"] = "application/json" }
request = function()
    if prefix == nil then prefix = (os.getenv("BENCH_PHASE") or "run") .. "-" .. tostring(tid) .. "-" end
    n = n + 1
    local body = '{"items":[{"sku":"SKU-' .. (n % 97) .. '","quantity":' .. (n % 5 + 1)
        .. ',"unitPriceCents":1999},{"sku":"GIFT-WRAP","quantity":1,"unitPriceCents":0}]}'
    headers["Authorization"] = tokens[n % #tokens + 1]
    headers["Idempotency-Key"] = prefix .. n
    return wrk.format("POST", "/api/orders", headers, body)
end
LUA

# --- run ---------------------------------------------------------------------
# "<req/s> <p99 ms> <non-2xx> <socket errors> <requests>" from wrk's output.
summarize() {
    awk '
        /Requests\/sec:/ { rps = $2 }
        /^ +99%/ { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); p99 = v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v); p99 = v } else if (v ~ /s$/) { sub(/s$/, "", v); p99 = v * 1000 } }
        /Non-2xx or 3xx responses:/ { non2xx = $5 }
        /Socket errors:/ { gsub(",", ""); errs = $4 + $6 + $8 + $10 }
        /requests in/ { reqs = $1 }
        END { printf "%s %.2f %d %d %d\n", rps, p99, non2xx + 0, errs + 0, reqs }' "$1"
}

GET_CMD=(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$WORK/get.lua" "http://127.0.0.1:$USERS_PORT")
POST_CMD=(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$WORK/post.lua" "http://127.0.0.1:$ORDERS_PORT")

log "short warm-up (2s, 4 connections each), then RSS 2 s later"
wrk -t1 -c4 -d2s -s "$WORK/get.lua" "http://127.0.0.1:$USERS_PORT" >/dev/null
BENCH_PHASE=short wrk -t1 -c4 -d2s -s "$WORK/post.lua" "http://127.0.0.1:$ORDERS_PORT" >/dev/null
sleep 2
WARM_RSS=("$(rss_mb "${PIDS[0]}")" "$(rss_mb "${PIDS[1]}")")

log "warm-up (3s each at full load)"
wrk -t"$THREADS" -c"$CONNS" -d3s -s "$WORK/get.lua" "http://127.0.0.1:$USERS_PORT" >/dev/null
BENCH_PHASE=warmup wrk -t"$THREADS" -c"$CONNS" -d3s -s "$WORK/post.lua" "http://127.0.0.1:$ORDERS_PORT" >/dev/null
ORDERS_BEFORE=$(psql -tAq "$DB_URL" -c "SELECT count(*) FROM orders")

log "GET /api/users/:id: ${GET_CMD[*]}"
"${GET_CMD[@]}" | tee "$WORK/get.txt"
log "POST /api/orders: ${POST_CMD[*]}"
BENCH_PHASE=run "${POST_CMD[@]}" | tee "$WORK/post.txt"
ORDERS_AFTER=$(psql -tAq "$DB_URL" -c "SELECT count(*) FROM orders")
sleep 2
LOADED_RSS=("$(rss_mb "${PIDS[0]}")" "$(rss_mb "${PIDS[1]}")")
log "no traffic for ${IDLE_SECONDS}s, then idle RSS"
sleep $((IDLE_SECONDS - 2))
IDLE_RSS=("$(rss_mb "${PIDS[0]}")" "$(rss_mb "${PIDS[1]}")")

read -r GET_RPS GET_P99 GET_NON2XX GET_ERRS GET_REQS < <(summarize "$WORK/get.txt")
read -r POST_RPS POST_P99 POST_NON2XX POST_ERRS POST_REQS < <(summarize "$WORK/post.txt")
CREATED=$((ORDERS_AFTER - ORDERS_BEFORE))

verdict() { if [ "$1" = 1 ]; then echo PASS; else echo FAIL; fi; }
check() { awk "BEGIN { print ($*) ? 1 : 0 }"; }
GET_RPS_OK=$(check "$GET_RPS >= $GET_RPS_TARGET && $GET_NON2XX == 0 && $GET_ERRS == 0")
GET_P99_OK=$(check "$GET_P99 < $GET_P99_TARGET_MS")
POST_RPS_OK=$(check "$POST_RPS >= $POST_RPS_TARGET && $POST_ERRS == 0")
POST_NON2XX_OK=$(check "$POST_NON2XX == 0")
USERS_RSS_OK=$(check "${IDLE_RSS[0]} <= $RSS_TARGET_MB")
ORDERS_RSS_OK=$(check "${IDLE_RSS[1]} <= $RSS_TARGET_MB")

echo
echo "================ results ($(nproc) cores, node $(node --version), wrk -t$THREADS -c$CONNS -d$DURATION, auth on) ================"
printf '%-22s %10s %10s %9s %9s\n' endpoint "req/s" "p99 ms" "non-2xx" "sock-err"
printf '%-22s %10s %10s %9s %9s\n' "GET /api/users/:id" "$GET_RPS" "$GET_P99" "$GET_NON2XX" "$GET_ERRS"
printf '%-22s %10s %10s %9s %9s\n' "POST /api/orders" "$POST_RPS" "$POST_P99" "$POST_NON2XX" "$POST_ERRS"
echo "orders created during the POST run: $CREATED (wrk counted $POST_REQS responses in the window; requests in flight when it stopped were completed too)"
echo "RSS MB after start-up: users ${START_RSS[0]}, orders ${START_RSS[1]}; 2 s after the short warm-up: users ${WARM_RSS[0]}, orders ${WARM_RSS[1]}; 2 s after the benchmark: users ${LOADED_RSS[0]}, orders ${LOADED_RSS[1]}"
echo "idle RSS MB (${IDLE_SECONDS} s without traffic after the benchmark): users ${IDLE_RSS[0]}, orders ${IDLE_RSS[1]}"
echo
echo "targets:"
echo "  GET  req/s >= $GET_RPS_TARGET (no errors):   $(verdict "$GET_RPS_OK")"
echo "  GET  p99 < $GET_P99_TARGET_MS ms:                $(verdict "$GET_P99_OK")"
echo "  POST req/s >= $POST_RPS_TARGET (no errors):   $(verdict "$POST_RPS_OK")"
echo "  POST 0 non-2xx:                  $(verdict "$POST_NON2XX_OK")"
echo "  users  idle RSS <= $RSS_TARGET_MB MB:        $(verdict "$USERS_RSS_OK")"
echo "  orders idle RSS <= $RSS_TARGET_MB MB:        $(verdict "$ORDERS_RSS_OK")"
if grep -q '"level":"error"' "$WORK"/*.log; then echo "errors were logged:"; grep -h '"level":"error"' "$WORK"/*.log | head -5; fi
[ "$GET_RPS_OK$GET_P99_OK$POST_RPS_OK$POST_NON2XX_OK$USERS_RSS_OK$ORDERS_RSS_OK" = 111111 ]
