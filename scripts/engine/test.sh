#!/usr/bin/env bash
# npm run test:engine — the real program through the real Pulumi engine against a kwok cluster
# (test/engine/*.engine.ts): preview with the policy pack, up, a no-op up, a canary-weight diff,
# refused variants, the canary tool, destroy, stack rm. Needs the toolchain (npm run engine:build,
# about 26 min cold on 2 cores; this script refuses to run without it) and `npm ci`. Cost on 2
# cores: about 8.5 min with warm caches, 15 min right after a cold build.
#
# Usage: npm run test:engine [-- --keep]      (bash scripts/engine/test.sh [--keep])
#   --keep      leave the cluster, state and work dir for a look
#   -h, --help  this text
# Environment: ENGINE_CLUSTER_NAME is set per run; ORDERS_ENGINE_CACHE (toolchain cache)
set -euo pipefail
# -h, --help prints this header.
case " $* " in *" -h "* | *" --help "*)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
esac
# shellcheck source=scripts/engine/lib.sh
source "$(dirname "$0")/lib.sh"

KEEP=0
case "${1:-}" in
    "") ;;
    --keep) KEEP=1 ;;
    *) engine_die "unknown argument $1 (--keep, --help)" ;;
esac

ROOT="$(engine_root)"
if [ ! -f "$ROOT/.complete" ]; then
    engine_die "no toolchain at $ROOT: run \`npm run engine:build\` first (cold: about 26 min on 2 cores, see scripts/engine/README.md)"
fi
[ -d "$ENGINE_REPO/node_modules/@pulumi/pulumi" ] || engine_die "run npm ci in $ENGINE_REPO first"

export ORDERS_ENGINE_ROOT="$ROOT"
export ENGINE_CLUSTER_NAME="orders-test-$$"
ENGINE_WORK="$(mktemp -d "${TMPDIR:-/tmp}/orders-engine-test.XXXXXX")"
export ENGINE_WORK
export ENGINE_TEST_LOG="$ENGINE_WORK/engine-test.log"
STACK_FILE="$ENGINE_REPO/test/engine/project/Pulumi.engine.yaml"

cleanup() {
    local rc=$?
    if [ "$KEEP" = 1 ]; then
        engine_log "kept: work dir $ENGINE_WORK, cluster $ENGINE_CLUSTER_NAME (ENGINE_CLUSTER_NAME=$ENGINE_CLUSTER_NAME bash scripts/engine/cluster.sh down)"
    else
        bash "$ENGINE_DIR/cluster.sh" down >/dev/null 2>&1 || true
        rm -f "$STACK_FILE"
        [ "$rc" = 0 ] && rm -rf "$ENGINE_WORK"
    fi
    [ "$rc" = 0 ] || engine_log "failed (exit $rc); commands and their output: $ENGINE_TEST_LOG"
    exit "$rc"
}
trap cleanup EXIT

started=$(date +%s)
bash "$ENGINE_DIR/cluster.sh" up
eval "$(bash "$ENGINE_DIR/cluster.sh" env)"
export PULUMI_BACKEND_URL="file://$ENGINE_WORK/state"
export PULUMI_CONFIG_PASSPHRASE="engine-test-$$"
mkdir -p "$ENGINE_WORK/state"
rm -f "$STACK_FILE"

cd "$ENGINE_REPO"
npx --no-install mocha --no-config -r tsx/cjs --bail --reporter spec --timeout 0 'test/engine/*.engine.ts'
engine_log "real-engine tests passed in $(($(date +%s) - started))s (cluster start included)"
[ -f "$ENGINE_WORK/report.txt" ] && cat "$ENGINE_WORK/report.txt"
