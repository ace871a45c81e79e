# shellcheck shell=bash
# How each component is built: build_<component> <output dir> (sourced by build.sh and lib.sh).
# The text of a component's function (and the shared settings above them) is part of that
# component's cache key (lib.sh: component_hash): changing a flag rebuilds that component only.
# build.sh's orchestration and report are not part of any key.

ENGINE_LDSTRIP="-s -w"
# Where kwok would download from if asked for anything not given to it: a local path that does
# not exist, so a missing flag fails on this machine instead of reaching for the internet.
ENGINE_OFFLINE="/nonexistent/orders-engine-offline"

build_pulumi() { # <output dir>
    local o="$1" m="$ENGINE_MODULES"
    cd "$m/pulumi"
    go build -trimpath -tags osusergo,grpcnotrace -o "$o/" \
        -ldflags "$ENGINE_LDSTRIP -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$ENGINE_PULUMI_VERSION" \
        github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}

build_langhost() { # <output dir>
    local o="$1" m="$ENGINE_MODULES"
    cd "$m/pulumi"
    go build -trimpath -tags osusergo,grpcnotrace -o "$o/" \
        -ldflags "$ENGINE_LDSTRIP -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$ENGINE_PULUMI_VERSION" \
        ./cmd/pulumi-language-nodejs
}

build_random() { # <output dir>
    local o="$1" m="$ENGINE_MODULES"
    cd "$m/pulumi"
    go build -trimpath -tags osusergo -o "$o/" \
        -ldflags "$ENGINE_LDSTRIP -X main.Version=$ENGINE_RANDOM_SDK_VERSION+orders.standin" ./cmd/pulumi-resource-random
}

build_kubernetes() { # <output dir>
    local o="$1" m="$ENGINE_MODULES"
    # Staging copy: our main.go + go.mod/go.sum, plus the two JSON files upstream embeds,
    # generated from the module's schema.json / terraform-mapping.json (as upstream's
    # generate.go does: schema with "version" set, both compacted).
    local st="$ENGINE_CACHE/staging/kubernetes" src
    rm -rf "$st" && mkdir -p "$st" && cp "$m/kubernetes/go.mod" "$m/kubernetes/go.sum" "$m/kubernetes/main.go" "$st/"
    cd "$st"
    # `go list -m` names no directory until the module is in the module cache (a fresh machine).
    go mod download github.com/pulumi/pulumi-kubernetes/provider/v4
    src="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)"
    [ -n "$src" ] || { echo "github.com/pulumi/pulumi-kubernetes/provider/v4: no module directory after go mod download" >&2; return 1; }
    src="$src/cmd/pulumi-resource-kubernetes"
    node -e '
        const fs = require("fs"), [src, dst, ver] = process.argv.slice(1);
        const s = JSON.parse(fs.readFileSync(src + "/schema.json", "utf8"));
        s.version = ver;
        fs.writeFileSync(dst + "/schema-embed.json", JSON.stringify(s));
        const t = JSON.parse(fs.readFileSync(src + "/terraform-mapping.json", "utf8"));
        fs.writeFileSync(dst + "/terraform-mapping-embed.json", JSON.stringify(t));' \
        "$src" "$st" "$ENGINE_K8S_PROVIDER_VERSION" || return 1
    go build -trimpath -o "$o/pulumi-resource-kubernetes" \
        -ldflags "$ENGINE_LDSTRIP -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$ENGINE_K8S_PROVIDER_VERSION" .
}

build_kube() { # <output dir>
    local o="$1" m="$ENGINE_MODULES"
    cd "$m/kube"
    local v="$ENGINE_KUBE_VERSION" major minor date ld=""
    major="${v#v}"; major="${major%%.*}"
    minor="${v#v*.}"; minor="${minor%%.*}"
    date="$(go list -m -f '{{.Time}}' k8s.io/kubernetes | sed -E 's/^([0-9-]+) ([0-9:]+).*/\1T\2Z/')"
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ld+=" -X $p.gitVersion=$v -X $p.gitMajor=$major -X $p.gitMinor=$minor"
        ld+=" -X $p.gitTreeState=clean -X $p.buildDate=$date"
    done
    go build -trimpath -o "$o/" -ldflags "$ENGINE_LDSTRIP$ld" \
        k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
        k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
}

build_etcd() { # <output dir>
    local o="$1" m="$ENGINE_MODULES"
    cd "$m/etcd"
    go build -trimpath -o "$o/etcd" -ldflags "$ENGINE_LDSTRIP" go.etcd.io/etcd/server/v3
}

build_kwok() { # <output dir>
    local o="$1" m="$ENGINE_MODULES"
    cd "$m/kwok"
    local k="sigs.k8s.io/kwok/pkg/consts" ld="" p
    ld+=" -X $k.Version=${ENGINE_KWOK_VERSION#v} -X $k.KubeVersion=${ENGINE_KUBE_VERSION#v}"
    for p in BinaryPrefix KubeBinaryPrefix KubeBinaryUnofficialPrefix EtcdBinaryPrefix KectlBinaryPrefix \
        KindBinaryPrefix PrometheusBinaryPrefix JaegerBinaryPrefix MetricsServerBinaryPrefix \
        MetricsServerManifestPrefix SchedulerPluginsManifestPrefix KueueManifestPrefix \
        JobSetManifestPrefix LWSManifestPrefix DeschedulerManifestPrefix; do
        ld+=" -X $k.$p=$ENGINE_OFFLINE"
    done
    go build -trimpath -o "$o/" -ldflags "$ENGINE_LDSTRIP$ld" sigs.k8s.io/kwok/cmd/kwok sigs.k8s.io/kwok/cmd/kwokctl
}

build_component() { "build_$1" "$2"; }
