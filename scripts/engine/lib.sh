# shellcheck shell=bash
# Shared helpers for scripts/engine/*.sh: versions, cache layout, cache key.
# Source it; it defines functions and variables, runs nothing else.

ENGINE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ENGINE_REPO="$(cd "$ENGINE_DIR/../.." && pwd)"
ENGINE_MODULES="$ENGINE_DIR/modules"
ENGINE_CACHE="${ORDERS_ENGINE_CACHE:-$HOME/.cache/orders-platform/engine}"

export GOTOOLCHAIN=local
export GOFLAGS="${ENGINE_GOFLAGS:--mod=readonly}"

engine_log() { printf '[engine %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
engine_die() { engine_log "ERROR: $*"; exit 1; }

# Version of an npm package as the lockfile resolved it (the single source for SDK versions).
lock_version() {
    node -e '
        const l = require(process.argv[1]);
        const p = l.packages && l.packages["node_modules/" + process.argv[2]];
        if (!p || !p.version) { console.error("not in lockfile: " + process.argv[2]); process.exit(1); }
        console.log(p.version);' "$ENGINE_REPO/package-lock.json" "$1"
}

# Version a wrapper go.mod requires (or replaces to) for a module path.
gomod_version() { # <module dir> <module path>
    (cd "$1" && go mod edit -json) | node -e '
        let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
            const m = JSON.parse(s), want = process.argv[1];
            const r = (m.Replace || []).find((x) => x.Old.Path === want && x.New.Version);
            const q = (m.Require || []).find((x) => x.Path === want);
            const v = r ? r.New.Version : q ? q.Version : "";
            if (!v) { console.error("not in go.mod: " + want); process.exit(1); }
            console.log(v);
        });' "$2"
}

# Loads every version the toolchain is pinned to into ENGINE_* variables.
engine_versions() {
    [ -n "${ENGINE_PULUMI_VERSION:-}" ] && return 0
    ENGINE_GO_VERSION="$(go env GOVERSION)"
    # npm side (what the program and policy pack run with).
    ENGINE_PULUMI_VERSION="$(lock_version @pulumi/pulumi)"
    ENGINE_K8S_SDK_VERSION="$(lock_version @pulumi/kubernetes)"
    ENGINE_RANDOM_SDK_VERSION="$(lock_version @pulumi/random)"
    # Go side (what the wrapper modules build).
    ENGINE_PULUMI_PKG_VERSION="$(gomod_version "$ENGINE_MODULES/pulumi" github.com/pulumi/pulumi/pkg/v3)"
    ENGINE_PULUMI_SDK_GO_VERSION="$(gomod_version "$ENGINE_MODULES/pulumi" github.com/pulumi/pulumi/sdk/v3)"
    ENGINE_K8S_PROVIDER_MODULE_VERSION="$(gomod_version "$ENGINE_MODULES/kubernetes" github.com/pulumi/pulumi-kubernetes/provider/v4)"
    # The provider module is only served as a pseudo-version; the sdk/v4 module of the same commit
    # is published under the release tag, so its version names the provider release (v4.25.0).
    ENGINE_K8S_PROVIDER_VERSION="$(gomod_version "$ENGINE_MODULES/kubernetes" github.com/pulumi/pulumi-kubernetes/sdk/v4)"
    ENGINE_K8S_PROVIDER_VERSION="${ENGINE_K8S_PROVIDER_VERSION#v}"
    ENGINE_KUBE_VERSION="$(gomod_version "$ENGINE_MODULES/kube" k8s.io/kubernetes)"
    ENGINE_ETCD_VERSION="$(gomod_version "$ENGINE_MODULES/etcd" go.etcd.io/etcd/server/v3)"
    ENGINE_KWOK_VERSION="$(gomod_version "$ENGINE_MODULES/kwok" sigs.k8s.io/kwok)"
    export ENGINE_GO_VERSION ENGINE_PULUMI_VERSION ENGINE_K8S_SDK_VERSION ENGINE_RANDOM_SDK_VERSION \
        ENGINE_PULUMI_PKG_VERSION ENGINE_PULUMI_SDK_GO_VERSION ENGINE_K8S_PROVIDER_MODULE_VERSION \
        ENGINE_K8S_PROVIDER_VERSION ENGINE_KUBE_VERSION ENGINE_ETCD_VERSION ENGINE_KWOK_VERSION
}

# Files whose content defines a component's build (besides the versions folded into the key).
component_inputs() { # <component>
    local m="$ENGINE_MODULES"
    case "$1" in
        pulumi) echo "$m/pulumi/go.mod" "$m/pulumi/go.sum" ;;
        langhost) echo "$m/pulumi/go.mod" "$m/pulumi/go.sum"; find "$m/pulumi/cmd/pulumi-language-nodejs" -type f | sort ;;
        random) echo "$m/pulumi/go.mod" "$m/pulumi/go.sum"; find "$m/pulumi/cmd/pulumi-resource-random" -type f | sort ;;
        kubernetes) echo "$m/kubernetes/go.mod" "$m/kubernetes/go.sum" "$m/kubernetes/main.go" ;;
        kube) echo "$m/kube/go.mod" "$m/kube/go.sum" ;;
        etcd) echo "$m/etcd/go.mod" "$m/etcd/go.sum" ;;
        kwok) echo "$m/kwok/go.mod" "$m/kwok/go.sum" "$m/kube/go.mod" ;;
        *) engine_die "unknown component $1" ;;
    esac
}

# shellcheck source=scripts/engine/recipes.sh
source "$ENGINE_DIR/recipes.sh"

ENGINE_COMPONENTS=(pulumi langhost random kubernetes kube etcd kwok)

# Hash of one component: its recipe (recipes.sh) with the values of the ENGINE_* variables the
# recipe uses, its wrapper sources, Go version and platform.
component_hash() { # <component>
    local recipe v
    recipe="$(declare -f "build_$1")"
    {
        echo "component=$1 go=$ENGINE_GO_VERSION $(go env GOOS)/$(go env GOARCH)"
        echo "$recipe"
        # (paths are left out: with -trimpath the binaries do not depend on where things are)
        for v in $(grep -o 'ENGINE_[A-Z0-9_]*' <<<"$recipe" | grep -vE '^ENGINE_(MODULES|CACHE|DIR|REPO)$' | sort -u); do
            echo "$v=${!v}"
        done
        # shellcheck disable=SC2046
        for f in $(component_inputs "$1"); do
            printf '%s ' "${f#"$ENGINE_MODULES"/}"
            sha256sum "$f" | cut -d' ' -f1
        done
    } | sha256sum | cut -c1-16
}

# Bump when build.sh assembles <key>/ differently (its layout is not part of any component hash).
ENGINE_LAYOUT=2

# The versioned directory of the whole toolchain: changes whenever any component changes.
engine_key() {
    engine_versions
    local c all="layout=$ENGINE_LAYOUT;"
    for c in "${ENGINE_COMPONENTS[@]}"; do all+="$c=$(component_hash "$c");"; done
    printf 'pulumi-v%s-k8s-%s-%s\n' "$ENGINE_PULUMI_VERSION" "$ENGINE_KUBE_VERSION" \
        "$(printf '%s' "$all" | sha256sum | cut -c1-12)"
}

# Directory holding bin/, pulumi-home/ and build-report.txt of the current sources.
engine_root() { echo "$ENGINE_CACHE/$(engine_key)"; }
