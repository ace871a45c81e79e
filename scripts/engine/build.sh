#!/usr/bin/env bash
# Builds the engine toolchain (Pulumi CLI, Node.js language host, providers, Kubernetes control
# plane, etcd, kwok) from Go modules only, into a versioned cache directory outside the checkout:
#
#   ${ORDERS_ENGINE_CACHE:-~/.cache/orders-platform/engine}/<key>/bin          binaries
#   ${ORDERS_ENGINE_CACHE:-~/.cache/orders-platform/engine}/<key>/pulumi-home  PULUMI_HOME with the plugins
#   ${ORDERS_ENGINE_CACHE:-~/.cache/orders-platform/engine}/<key>/build-report.txt
#
# <key> changes whenever a pinned version (package-lock.json, the wrapper go.mod files) or a
# wrapper source changes. A warm run builds nothing. Each component is also cached on its own
# (components/<name>-<hash>), so changing one wrapper rebuilds only that component.
#
# Needs go and node on PATH and the Go module proxy. Cost on 2 cores: cold (empty module and build
# caches) about 26 min; warm, nothing to build, 2.5-5 s (scripts/engine/README.md, "Timings").
#
# Usage: npm run engine:build [-- options]      (bash scripts/engine/build.sh [options])
#   --print-root            print the toolchain directory (building it first if needed) and nothing else on stdout
#   --sync-pulumi-version   rewrite modules/pulumi/go.mod(+go.sum) to the @pulumi/pulumi version of the lockfile
#   --jobs N                components built at the same time (default 2, or ENGINE_BUILD_JOBS; each
#                           `go build` also uses all cores)
#   -h, --help              this text
# Environment: ORDERS_ENGINE_CACHE (cache directory), ENGINE_BUILD_JOBS, ENGINE_GOFLAGS (default -mod=readonly)
set -euo pipefail
# -h, --help prints this header.
case " $* " in *" -h "* | *" --help "*)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
esac
# shellcheck source=scripts/engine/lib.sh
source "$(dirname "$0")/lib.sh"

PRINT_ROOT=0
SYNC=0
JOBS="${ENGINE_BUILD_JOBS:-2}"
while [ $# -gt 0 ]; do
    case "$1" in
        --print-root) PRINT_ROOT=1 ;;
        --sync-pulumi-version) SYNC=1 ;;
        --jobs) JOBS="$2"; shift ;;
        *) engine_die "unknown argument $1" ;;
    esac
    shift
done

command -v go >/dev/null || engine_die "go is not on PATH"
command -v node >/dev/null || engine_die "node is not on PATH"

if [ "$SYNC" = 1 ]; then
    v="v$(lock_version @pulumi/pulumi)"
    engine_log "pinning github.com/pulumi/pulumi/{pkg,sdk}/v3 to $v (from package-lock.json)"
    (cd "$ENGINE_MODULES/pulumi" && GOFLAGS=-mod=mod go get "github.com/pulumi/pulumi/pkg/v3@$v" \
        "github.com/pulumi/pulumi/sdk/v3@$v" && GOFLAGS=-mod=mod go mod tidy)
    engine_log "done: commit scripts/engine/modules/pulumi/go.mod and go.sum"
fi

engine_versions
# The CLI must be exactly the version of @pulumi/pulumi in the lockfile.
if [ "$ENGINE_PULUMI_PKG_VERSION" != "v$ENGINE_PULUMI_VERSION" ] ||
    [ "$ENGINE_PULUMI_SDK_GO_VERSION" != "v$ENGINE_PULUMI_VERSION" ]; then
    engine_die "package-lock.json has @pulumi/pulumi $ENGINE_PULUMI_VERSION but modules/pulumi/go.mod pins" \
        "pkg/v3 $ENGINE_PULUMI_PKG_VERSION, sdk/v3 $ENGINE_PULUMI_SDK_GO_VERSION: run $0 --sync-pulumi-version"
fi

KEY="$(engine_key)"
ROOT="$ENGINE_CACHE/$KEY"
out() { if [ "$PRINT_ROOT" = 1 ]; then engine_log "$*"; else echo "$*"; fi; }

if [ -f "$ROOT/.complete" ]; then
    out "reused cache: $ROOT (nothing built)"
    [ "$PRINT_ROOT" = 1 ] && echo "$ROOT"
    exit 0
fi

mkdir -p "$ENGINE_CACHE/components" "$ENGINE_CACHE/logs"
export GOCACHE="${ENGINE_GOCACHE:-$ENGINE_CACHE/go-build}"
export CGO_ENABLED=0
LOGDIR="$ENGINE_CACHE/logs/$KEY"
mkdir -p "$LOGDIR"
# Builds one component unless its cache entry exists; records wall time.
ensure_component() { # <component>
    local c="$1" h dir tmp t0 t1
    h="$(component_hash "$c")"
    dir="$ENGINE_CACHE/components/$c-$h"
    if [ -f "$dir/.complete" ]; then
        engine_log "$c: reused $dir"
        # .complete holds the wall seconds of the build that made the entry.
        echo "$c reused $(cat "$dir/.complete" 2>/dev/null || true) $dir" >"$LOGDIR/$c.time"
        return 0
    fi
    tmp="$dir.tmp.$$"
    rm -rf "$tmp" && mkdir -p "$tmp"
    engine_log "$c: building (log: $LOGDIR/$c.log)"
    t0=$(date +%s)
    if ! (build_component "$c" "$tmp") >"$LOGDIR/$c.log" 2>&1; then
        engine_log "$c: FAILED, last lines of $LOGDIR/$c.log:"
        tail -n 30 "$LOGDIR/$c.log" >&2
        return 1
    fi
    t1=$(date +%s)
    echo "$((t1 - t0))" >"$tmp/.complete"
    rm -rf "$dir" && mv "$tmp" "$dir"
    engine_log "$c: built in $((t1 - t0))s"
    echo "$c built $((t1 - t0)) $dir" >"$LOGDIR/$c.time"
}

T0=$(date +%s)
engine_log "toolchain $KEY: building what is missing, $JOBS at a time (GOCACHE=$GOCACHE)"
# Longest first, so the two lanes finish close together on 2 cores.
ORDER=(kube pulumi kubernetes kwok etcd langhost random)
pids=()
failed=0
for c in "${ORDER[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || failed=1; done
    ensure_component "$c" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done
[ "$failed" = 0 ] || engine_die "some components failed to build"
T1=$(date +%s)

# Assemble the toolchain directory.
tmp="$ROOT.tmp.$$"
rm -rf "$tmp" && mkdir -p "$tmp/bin" "$tmp/providers" "$tmp/pulumi-home"
for c in "${ENGINE_COMPONENTS[@]}"; do
    dir="$ENGINE_CACHE/components/$c-$(component_hash "$c")"
    for f in "$dir"/*; do
        # Provider plugins stay off bin/: a pulumi-resource-* on PATH would be used as an
        # "ambient" plugin whatever version the program asks for. The engine finds them in
        # PULUMI_HOME; providers/ only keeps the files they were installed from.
        case "$(basename "$f")" in pulumi-resource-*) d="$tmp/providers" ;; *) d="$tmp/bin" ;; esac
        cp -l "$f" "$d/" 2>/dev/null || cp "$f" "$d/"
    done
done

# Providers go into PULUMI_HOME under the version the npm SDK packages request: the engine
# (workspace.SelectCompatiblePlugin) only takes a cached plugin whose version EQUALS the one the
# program asks for. The binaries report their real source version (see README.md).
export PULUMI_HOME="$tmp/pulumi-home" PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true \
    PULUMI_DISABLE_REGISTRY_RESOLVE=true
"$tmp/bin/pulumi" plugin install resource kubernetes "$ENGINE_K8S_SDK_VERSION" \
    --file "$tmp/providers/pulumi-resource-kubernetes" >"$LOGDIR/plugins.log" 2>&1 ||
    { cat "$LOGDIR/plugins.log" >&2; engine_die "plugin install kubernetes failed"; }
"$tmp/bin/pulumi" plugin install resource random "$ENGINE_RANDOM_SDK_VERSION" \
    --file "$tmp/providers/pulumi-resource-random" >>"$LOGDIR/plugins.log" 2>&1 ||
    { cat "$LOGDIR/plugins.log" >&2; engine_die "plugin install random failed"; }

cat >"$tmp/versions.env" <<EOF
# Written by scripts/engine/build.sh; source it for the versions of this toolchain.
ENGINE_KEY=$KEY
ENGINE_GO_VERSION=$ENGINE_GO_VERSION
ENGINE_PULUMI_VERSION=$ENGINE_PULUMI_VERSION
ENGINE_K8S_SDK_VERSION=$ENGINE_K8S_SDK_VERSION
ENGINE_K8S_PROVIDER_VERSION=$ENGINE_K8S_PROVIDER_VERSION
ENGINE_K8S_PROVIDER_MODULE_VERSION=$ENGINE_K8S_PROVIDER_MODULE_VERSION
ENGINE_RANDOM_SDK_VERSION=$ENGINE_RANDOM_SDK_VERSION
ENGINE_KUBE_VERSION=$ENGINE_KUBE_VERSION
ENGINE_ETCD_VERSION=$ENGINE_ETCD_VERSION
ENGINE_KWOK_VERSION=$ENGINE_KWOK_VERSION
EOF

{
    echo "orders-platform engine toolchain $KEY"
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m), $(nproc) cores, $ENGINE_GO_VERSION, $JOBS components at a time"
    echo
    echo "component   result   wall_s  output   (wall_s of a reused component: its original build, if recorded)"
    for c in "${ORDER[@]}"; do
        read -r name how secs dir <"$LOGDIR/$c.time"
        if [ "$how" = reused ] && [ ! -s "$dir/.complete" ]; then dir="$secs"; secs="?"; fi
        printf '%-11s %-8s %6s  %s\n' "$name" "$how" "$secs" "$dir"
    done
    echo "total wall time of the component builds: $((T1 - T0))s"
    echo
    echo "versions:"
    sed -n 's/^ENGINE_/  /p' "$tmp/versions.env"
    echo
    echo "binaries (bin/, providers/):"
    for f in "$tmp"/bin/* "$tmp"/providers/*; do
        printf '  %-42s %s\n' "${f#"$tmp"/}" "$(du -h "$f" | cut -f1)"
    done
    echo
    echo "plugins (pulumi-home):"
    "$tmp/bin/pulumi" plugin ls 2>&1 | sed 's/^/  /'
    echo
    echo "self-reported versions:"
    echo "  pulumi version: $("$tmp/bin/pulumi" version 2>&1)"
    echo "  kube-apiserver --version: $("$tmp/bin/kube-apiserver" --version 2>&1)"
    echo "  kubectl version --client: $("$tmp/bin/kubectl" version --client 2>&1 | head -n1)"
    echo "  etcd --version: $("$tmp/bin/etcd" --version 2>&1 | head -n1)"
    echo "  kwokctl --version: $("$tmp/bin/kwokctl" --version 2>&1)"
} >"$tmp/build-report.txt"

touch "$tmp/.complete"
rm -rf "$ROOT" && mv "$tmp" "$ROOT"
ln -sfn "$KEY" "$ENGINE_CACHE/current"
out "built toolchain in $((T1 - T0))s: $ROOT"
[ "$PRINT_ROOT" = 1 ] && cat "$ROOT/build-report.txt" >&2 && echo "$ROOT"
[ "$PRINT_ROOT" = 1 ] || cat "$ROOT/build-report.txt"
