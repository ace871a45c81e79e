#!/usr/bin/env bash
# Benchmark of the users and orders services against the local PostgreSQL, with authentication on.
#   npm run bench:apps            (or: bash scripts/bench-apps.sh)
# Needs PostgreSQL on 127.0.0.1:5432 (started when installed but stopped) reachable as
# BENCH_ADMIN_URL (default postgres://postgres:postgres@127.0.0.1:5432/test), and wrk (installed
# with apt when missing). Takes about 90 s.
# Builds both apps with tsc into a temp dir, creates a throwaway signing key, starts one process of
# each on a fresh database, seeds BENCH_USERS users (each through POST /api/users with its own
# token, which carries the user's verified email), then runs wrk (-t2 -c50 -d10s --latency) with per-user bearer tokens on
#   GET  /api/users/:id   each user reads their own profile
#   POST /api/orders      per-user tokens, profile lookup + a fresh Idempotency-Key per request
# For each endpoint it reports req/s, p99, and the servers' CPU time per request: utime+stime of
# both processes from /proc/<pid>/stat over the run, divided by the requests answered (stable
# across machines of one kind, and much less sensitive than req/s to other work on the machine).
# Memory: peak RSS under load (VmHWM, reset before the load through /proc/<pid>/clear_refs, and
# sampled VmRSS as a cross-check), and idle RSS once the process has had no traffic for
# BENCH_IDLE_SECONDS (30 s; V8's memory reducer returns the grown heap within ~10-20 s).
# After the POST run the orders table is counted: every 2xx answer has its row, no request made
# two rows. PASS/FAIL per target (below), the machine it ran on (cores, CPU model, load average),
# and everything it started is stopped. Node runs with the flags of the image's CMD (apps/Dockerfile).
# Env knobs: BENCH_DURATION (10s), BENCH_CONNECTIONS (50), BENCH_THREADS (2), BENCH_USERS (1000),
# BENCH_ADMIN_URL, BENCH_IDLE_SECONDS, DB_POOL_MAX, BENCH_NODE_FLAGS (replaces the flags of the
# image's CMD), BENCH_CPU_PROF_DIR (writes a V8 CPU profile of each process there, for flame graphs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${BENCH_DURATION:-10s}
CONNS=${BENCH_CONNECTIONS:-50}
THREADS=${BENCH_THREADS:-2}
SEED_USERS=${BENCH_USERS:-1000}
ADMIN_URL=${BENCH_ADMIN_URL:-postgres://postgres:postgres@127.0.0.1:5432/test}
USERS_PORT=${BENCH_USERS_PORT:-28081}
ORDERS_PORT=${BENCH_ORDERS_PORT:-28082}
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-30}
# Targets on a machine of 2 cores (issue 26): CPU per request in ms, p99 in ms, RSS in MB.
GET_CPU_TARGET_MS=0.09
GET_P99_TARGET_MS=15
POST_CPU_TARGET_MS=0.15
POST_P99_TARGET_MS=25
PEAK_RSS_TARGET_MB=120
IDLE_RSS_TARGET_MB=80

log() { printf '== %s\n' "$*"; }

# --- prerequisites -----------------------------------------------------------
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
psql -q "$ADMIN_URL" -c "SELECT 1" >/dev/null || {
    echo "cannot connect as BENCH_ADMIN_URL=$ADMIN_URL (a role that may create databases is needed)" >&2
    exit 1
}
if ! command -v wrk >/dev/null; then
    log "installing wrk"
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null
fi

CORES=$(nproc)
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
CLK_TCK=$(getconf CLK_TCK)
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

WORK=$(mktemp -d /tmp/bench-apps.XXXXXX)
DB="bench_$(date +%s)_$$"
PIDS=()
SAMPLER=
cleanup() {
    local rc=$?
    [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
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
    # The runtime stage is the last one: its CMD is the last in the file.
    mapfile -t NODE_FLAGS < <(node -e '
        const cmd = [...require("fs").readFileSync("apps/Dockerfile", "utf8").matchAll(/^CMD (\[.*\])$/gm)].at(-1);
        if (!cmd) throw new Error("apps/Dockerfile has no CMD in exec form");
        const argv = JSON.parse(cmd[1]);
        for (const flag of argv.slice(1, -1)) console.log(flag);')
fi
PROF_FLAGS=()
if [ -n "${BENCH_CPU_PROF_DIR:-}" ]; then
    mkdir -p "$BENCH_CPU_PROF_DIR"
    PROF_FLAGS=(--cpu-prof --cpu-prof-dir "$BENCH_CPU_PROF_DIR")
fi
psql -q "$ADMIN_URL" -c "CREATE DATABASE \"$DB\"" >/dev/null
DB_URL=$(node -e 'const u=new URL(process.argv[1]); u.pathname="/"+process.argv[2]; console.log(u.toString())' "$ADMIN_URL" "$DB")
export NODE_ENV=production LOG_LEVEL=${LOG_LEVEL:-warn} DATABASE_URL=$DB_URL
PORT=$USERS_PORT node "${NODE_FLAGS[@]}" ${PROF_FLAGS[@]+"${PROF_FLAGS[@]}"} "$WORK/users/dist/users/src/main.js" >"$WORK/users.log" 2>&1 &
PIDS+=($!)
PORT=$ORDERS_PORT USERS_URL=http://127.0.0.1:$USERS_PORT node "${NODE_FLAGS[@]}" ${PROF_FLAGS[@]+"${PROF_FLAGS[@]}"} "$WORK/orders/dist/orders/src/main.js" >"$WORK/orders.log" 2>&1 &
PIDS+=($!)
for url in "http://127.0.0.1:$USERS_PORT/readyz" "http://127.0.0.1:$ORDERS_PORT/readyz"; do
    for _ in $(seq 1 100); do curl -sf "$url" >/dev/null && break; sleep 0.2; done
    curl -sf "$url" >/dev/null || { echo "not ready: $url" >&2; cat "$WORK"/*.log >&2; exit 1; }
done
log "users pid ${PIDS[0]} on :$USERS_PORT, orders pid ${PIDS[1]} on :$ORDERS_PORT, database $DB, node flags: ${NODE_FLAGS[*]:-none}"

rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
hwm_mb() { awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
# "<utime> <stime>" of both server processes together, in clock ticks.
servers_cpu() { cat "/proc/${PIDS[0]}/stat" "/proc/${PIDS[1]}/stat" | awk '{ u += $14; s += $15 } END { print u, s }'; }
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
            body: JSON.stringify({ name: `Bench User ${i}` }), // the email is the token's (bench-user-<i>@example.com)
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
# Every request has its own Idempotency-Key (phase-thread-counter), so the keys of the run
# count the POSTs that reached the database; done() prints how many requests were sent.
cat >"$WORK/post.lua" <<LUA
local tokens = { $LUA_TOKENS }
local threads = {}
function setup(thread)
    table.insert(threads, thread)
    thread:set("tid", #threads)
end
n = 0
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
function done(summary, latency, requests)
    local sent = 0
    for _, t in ipairs(threads) do sent = sent + t:get("n") end
    io.write(string.format("Requests sent: %d\n", sent))
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

# Samples VmRSS of both processes every 100 ms into "<users> <orders>" maxima (cross-checks VmHWM).
sample_rss() {
    local max0=0 max1=0 r0 r1
    while :; do
        r0=$(awk '/^VmRSS:/ { print $2 }' "/proc/${PIDS[0]}/status" 2>/dev/null || echo 0)
        r1=$(awk '/^VmRSS:/ { print $2 }' "/proc/${PIDS[1]}/status" 2>/dev/null || echo 0)
        [ "$r0" -gt "$max0" ] && max0=$r0
        [ "$r1" -gt "$max1" ] && max1=$r1
        echo "$max0 $max1" >"$WORK/rss-samples.new" && mv "$WORK/rss-samples.new" "$WORK/rss-samples"
        sleep 0.1
    done
}

GET_CMD=(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$WORK/get.lua" "http://127.0.0.1:$USERS_PORT")
POST_CMD=(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$WORK/post.lua" "http://127.0.0.1:$ORDERS_PORT")

log "short warm-up (2s, 4 connections each), then RSS 2 s later"
wrk -t1 -c4 -d2s -s "$WORK/get.lua" "http://127.0.0.1:$USERS_PORT" >/dev/null
BENCH_PHASE=short wrk -t1 -c4 -d2s -s "$WORK/post.lua" "http://127.0.0.1:$ORDERS_PORT" >/dev/null
sleep 2
WARM_RSS=("$(rss_mb "${PIDS[0]}")" "$(rss_mb "${PIDS[1]}")")

# The peak under load starts here: reset VmHWM to the current RSS (clear_refs 5), and sample too.
for pid in "${PIDS[@]}"; do echo 5 >"/proc/$pid/clear_refs" 2>/dev/null || true; done
sample_rss &
SAMPLER=$!

log "warm-up (3s each at full load)"
wrk -t"$THREADS" -c"$CONNS" -d3s -s "$WORK/get.lua" "http://127.0.0.1:$USERS_PORT" >/dev/null
BENCH_PHASE=warmup wrk -t"$THREADS" -c"$CONNS" -d3s -s "$WORK/post.lua" "http://127.0.0.1:$ORDERS_PORT" >/dev/null

GET_LOAD=$(loadavg)
log "GET /api/users/:id: ${GET_CMD[*]} (load average before: $GET_LOAD)"
read -r U0 S0 < <(servers_cpu)
"${GET_CMD[@]}" | tee "$WORK/get.txt"
read -r U1 S1 < <(servers_cpu)
GET_UTICKS=$((U1 - U0)) GET_STICKS=$((S1 - S0))

ORDERS_BEFORE=$(psql -tAq "$DB_URL" -c "SELECT count(*) FROM orders")
POST_LOAD=$(loadavg)
log "POST /api/orders: ${POST_CMD[*]} (load average before: $POST_LOAD)"
read -r U0 S0 < <(servers_cpu)
BENCH_PHASE=run "${POST_CMD[@]}" | tee "$WORK/post.txt"
read -r U1 S1 < <(servers_cpu)
POST_UTICKS=$((U1 - U0)) POST_STICKS=$((S1 - S0))
sleep 1 # answers in flight when wrk stopped
ORDERS_AFTER=$(psql -tAq "$DB_URL" -c "SELECT count(*) FROM orders")
RUN_KEYS=$(psql -tAq "$DB_URL" -c "SELECT count(*) FROM idempotency_keys WHERE key LIKE 'run-%'")
KEYLESS=$(psql -tAq "$DB_URL" -c "SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM idempotency_keys k WHERE k.order_id = o.id)")

PEAK_HWM=("$(hwm_mb "${PIDS[0]}")" "$(hwm_mb "${PIDS[1]}")")
kill "$SAMPLER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null || true
SAMPLER=
read -r R0 R1 <"$WORK/rss-samples"
PEAK_SAMPLED=("$(awk "BEGIN { printf \"%.1f\", $R0 / 1024 }")" "$(awk "BEGIN { printf \"%.1f\", $R1 / 1024 }")")
sleep 1
LOADED_RSS=("$(rss_mb "${PIDS[0]}")" "$(rss_mb "${PIDS[1]}")")
log "no traffic for ${IDLE_SECONDS}s, then idle RSS"
sleep $((IDLE_SECONDS - 2))
IDLE_RSS=("$(rss_mb "${PIDS[0]}")" "$(rss_mb "${PIDS[1]}")")

read -r GET_RPS GET_P99 GET_NON2XX GET_ERRS GET_REQS < <(summarize "$WORK/get.txt")
read -r POST_RPS POST_P99 POST_NON2XX POST_ERRS POST_REQS < <(summarize "$WORK/post.txt")
POST_SENT=$(awk '/^Requests sent:/ { print $3 }' "$WORK/post.txt")
CREATED=$((ORDERS_AFTER - ORDERS_BEFORE))
POST_OK=$((POST_REQS - POST_NON2XX))
# ms of CPU per request, from clock ticks.
per_request() { awk "BEGIN { printf \"%.3f\", $1 * 1000 / $CLK_TCK / ($2 > 0 ? $2 : 1) }"; }
GET_CPU=$(per_request "$((GET_UTICKS + GET_STICKS))" "$GET_REQS")
POST_CPU=$(per_request "$((POST_UTICKS + POST_STICKS))" "$POST_REQS")
GET_SPLIT="user $(per_request "$GET_UTICKS" "$GET_REQS"), system $(per_request "$GET_STICKS" "$GET_REQS")"
POST_SPLIT="user $(per_request "$POST_UTICKS" "$POST_REQS"), system $(per_request "$POST_STICKS" "$POST_REQS")"
max() { awk "BEGIN { print ($1 > $2) ? $1 : $2 }"; }
PEAK=("$(max "${PEAK_HWM[0]}" "${PEAK_SAMPLED[0]}")" "$(max "${PEAK_HWM[1]}" "${PEAK_SAMPLED[1]}")")
LOGGED_ERRORS=$(cat "$WORK"/*.log | grep -c '"level":"error"' || true)

verdict() { if [ "$1" = 1 ]; then echo PASS; else echo FAIL; fi; }
check() { awk "BEGIN { print ($*) ? 1 : 0 }"; }
GET_CPU_OK=$(check "$GET_CPU <= $GET_CPU_TARGET_MS")
GET_P99_OK=$(check "$GET_P99 < $GET_P99_TARGET_MS")
POST_CPU_OK=$(check "$POST_CPU <= $POST_CPU_TARGET_MS")
POST_P99_OK=$(check "$POST_P99 < $POST_P99_TARGET_MS")
ERRORS_OK=$(check "$GET_NON2XX + $GET_ERRS + $POST_NON2XX + $POST_ERRS + $LOGGED_ERRORS == 0")
# Every 2xx answer has its row (created >= answered) and no request made more than one (every row
# of the run has its own key, no row lacks one, and there are no more rows than requests sent).
ROWS_OK=$(check "$CREATED == $RUN_KEYS && $KEYLESS == 0 && $CREATED >= $POST_OK && $CREATED <= ${POST_SENT:-0}")
PEAK_OK=("$(check "${PEAK[0]} <= $PEAK_RSS_TARGET_MB")" "$(check "${PEAK[1]} <= $PEAK_RSS_TARGET_MB")")
IDLE_OK=("$(check "${IDLE_RSS[0]} <= $IDLE_RSS_TARGET_MB")" "$(check "${IDLE_RSS[1]} <= $IDLE_RSS_TARGET_MB")")

echo
echo "================ results: wrk -t$THREADS -c$CONNS -d$DURATION, auth on, $SEED_USERS users with their own ES256 tokens ================"
echo "machine: $CORES cores, $CPU_MODEL, node $(node --version), node flags: ${NODE_FLAGS[*]:-none}"
echo "load average before GET: $GET_LOAD, before POST: $POST_LOAD (above $CORES, other work shared the CPU: req/s and p99 suffer first)"
printf '%-22s %10s %10s %14s %9s %9s\n' endpoint "req/s" "p99 ms" "CPU ms/req" "non-2xx" "sock-err"
printf '%-22s %10s %10s %14s %9s %9s\n' "GET /api/users/:id" "$GET_RPS" "$GET_P99" "$GET_CPU" "$GET_NON2XX" "$GET_ERRS"
printf '%-22s %10s %10s %14s %9s %9s\n' "POST /api/orders" "$POST_RPS" "$POST_P99" "$POST_CPU" "$POST_NON2XX" "$POST_ERRS"
echo "(CPU ms/req: utime+stime of both server processes during the run / requests answered; GET: $GET_SPLIT; POST: $POST_SPLIT)"
echo "POST rows: $CREATED orders created during the run, $RUN_KEYS idempotency keys of the run, $KEYLESS orders without a key; wrk: $POST_OK 2xx answers in the window, ${POST_SENT:-?} requests sent"
echo "RSS MB after start-up: users ${START_RSS[0]}, orders ${START_RSS[1]}; after a short warm-up: users ${WARM_RSS[0]}, orders ${WARM_RSS[1]}; 1 s after the benchmark: users ${LOADED_RSS[0]}, orders ${LOADED_RSS[1]}"
echo "peak RSS MB under load: users ${PEAK[0]} (VmHWM ${PEAK_HWM[0]}, sampled ${PEAK_SAMPLED[0]}), orders ${PEAK[1]} (VmHWM ${PEAK_HWM[1]}, sampled ${PEAK_SAMPLED[1]})"
echo "idle RSS MB (${IDLE_SECONDS} s without traffic after the benchmark): users ${IDLE_RSS[0]}, orders ${IDLE_RSS[1]}"
echo
echo "targets:"
echo "  GET  CPU per request <= $GET_CPU_TARGET_MS ms:       $(verdict "$GET_CPU_OK")"
echo "  GET  p99 < $GET_P99_TARGET_MS ms:                    $(verdict "$GET_P99_OK")"
echo "  POST CPU per request <= $POST_CPU_TARGET_MS ms:      $(verdict "$POST_CPU_OK")"
echo "  POST p99 < $POST_P99_TARGET_MS ms:                   $(verdict "$POST_P99_OK")"
echo "  no errors (non-2xx, socket, logged):  $(verdict "$ERRORS_OK")"
echo "  no lost or duplicated order rows:     $(verdict "$ROWS_OK")"
echo "  users  peak RSS <= $PEAK_RSS_TARGET_MB MB:          $(verdict "${PEAK_OK[0]}")"
echo "  orders peak RSS <= $PEAK_RSS_TARGET_MB MB:          $(verdict "${PEAK_OK[1]}")"
echo "  users  idle RSS <= $IDLE_RSS_TARGET_MB MB:           $(verdict "${IDLE_OK[0]}")"
echo "  orders idle RSS <= $IDLE_RSS_TARGET_MB MB:           $(verdict "${IDLE_OK[1]}")"
if [ "$LOGGED_ERRORS" != 0 ]; then echo "errors were logged:"; cat "$WORK"/*.log | grep '"level":"error"' | head -5; fi
[ "$GET_CPU_OK$GET_P99_OK$POST_CPU_OK$POST_P99_OK$ERRORS_OK$ROWS_OK${PEAK_OK[0]}${PEAK_OK[1]}${IDLE_OK[0]}${IDLE_OK[1]}" = 1111111111 ]
