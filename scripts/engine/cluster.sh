#!/usr/bin/env bash
# A local Kubernetes API server for the real Pulumi engine: kwokctl's "binary" runtime with the
# binaries of scripts/engine/build.sh (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok-controller, kubectl), fake nodes and pods managed by kwok. Everything
# listens on, and every address in the cluster is in, 127.0.0.0/8 (see README.md).
#
# Usage: npm run engine:cluster -- <command>      (bash scripts/engine/cluster.sh <command>)
#   up          build the toolchain if needed, start the cluster, create the fake nodes
#   down        stop the cluster and delete its files
#   env         print `export` lines for the toolchain and this cluster (eval "$(cluster.sh env)")
#   status      print whether the cluster runs and the API server's /version
#   check       create a Deployment, a Job, a StatefulSet and a Service in a scratch namespace,
#               wait until kwok makes them Ready/Complete, delete the namespace
#   kubeconfig  print the kubeconfig path
#   -h, --help  this text
#
# Environment (all optional):
#   ORDERS_ENGINE_CACHE    toolchain cache (default ~/.cache/orders-platform/engine)
#   ENGINE_CLUSTER_NAME    kwok cluster name (default orders-engine)
#   ENGINE_CLUSTER_NODES   number of fake nodes (default 3)
#   KWOK_WORKDIR           kwokctl's work directory (default $ORDERS_ENGINE_CACHE/kwok)
set -euo pipefail
# -h, --help prints this header.
case " $* " in *" -h "* | *" --help "*)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
    ;;
esac
# shellcheck source=scripts/engine/lib.sh
source "$(dirname "$0")/lib.sh"

NAME="${ENGINE_CLUSTER_NAME:-orders-engine}"
NODES="${ENGINE_CLUSTER_NODES:-3}"
export KWOK_WORKDIR="${KWOK_WORKDIR:-$ENGINE_CACHE/kwok}"
STATE="$KWOK_WORKDIR/orders-engine/$NAME"
KUBECONFIG_PATH="$STATE/kubeconfig"

# Loopback plan (README.md, "Addresses"):
BIND_ADDRESS=127.0.0.1            # etcd, kube-apiserver (also its advertise address), controllers, kwok
NODE_IP_PREFIX=127.0.10           # fake node i gets InternalIP 127.0.10.(i+1)
POD_CIDR=127.1.0.0/16             # kwok assigns pod IPs from here
SERVICE_CIDR=127.96.0.0/16        # Service ClusterIPs (virtual: no kube-proxy, nothing routes them)

toolchain_root() { bash "$ENGINE_DIR/build.sh" --print-root; }

kctl() { "$ROOT/bin/kubectl" --kubeconfig "$KUBECONFIG_PATH" "$@"; }

print_env() {
    cat <<EOF
export PATH="$ROOT/bin:\$PATH"
export PULUMI_HOME="$ROOT/pulumi-home"
export KUBECONFIG="$KUBECONFIG_PATH"
export KWOK_WORKDIR="$KWOK_WORKDIR"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_DISABLE_REGISTRY_RESOLVE=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
export PULUMI_IGNORE_AMBIENT_PLUGINS=true
export ORDERS_ENGINE_ROOT="$ROOT"
EOF
}

write_config() {
    cat >"$STATE/kwokctl.yaml" <<EOF
# Written by scripts/engine/cluster.sh
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  runtime: binary
  kubeVersion: $ENGINE_KUBE_VERSION
  bindAddress: $BIND_ADDRESS
  cacheDir: $KWOK_WORKDIR/cache
  etcdBinary: $ROOT/bin/etcd
  kubeApiserverBinary: $ROOT/bin/kube-apiserver
  kubeControllerManagerBinary: $ROOT/bin/kube-controller-manager
  kubeSchedulerBinary: $ROOT/bin/kube-scheduler
  kwokControllerBinary: $ROOT/bin/kwok
  kubectlBinary: $ROOT/bin/kubectl
componentsPatches:
- name: kube-apiserver
  extraArgs:
  - key: advertise-address
    value: $BIND_ADDRESS
  - key: service-cluster-ip-range
    value: $SERVICE_CIDR
  - key: enable-aggregator-routing
    value: "true"
# Flags, not a KwokConfiguration document: kwokctl saves such a document without kwok's
# defaults (parallelism 0 etc.), which the kwok controller then refuses.
- name: kwok-controller
  extraArgs:
  - key: cidr
    value: $POD_CIDR
  - key: node-ip
    value: $NODE_IP_PREFIX.1
EOF
}

node_manifests() {
    local i zones=(zone-a zone-b zone-c)
    for ((i = 0; i < NODES; i++)); do
        cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    topology.kubernetes.io/region: local
    topology.kubernetes.io/zone: ${zones[$((i % 3))]}
    type: kwok
status:
  addresses:
  - type: InternalIP
    address: $NODE_IP_PREFIX.$((i + 1))
  - type: Hostname
    address: kwok-node-$i
  allocatable: {cpu: "64", memory: 256Gi, pods: "250", ephemeral-storage: 1Ti}
  capacity: {cpu: "64", memory: 256Gi, pods: "250", ephemeral-storage: 1Ti}
EOF
    done
}

is_running() {
    [ -f "$KUBECONFIG_PATH" ] && kctl get --raw /readyz >/dev/null 2>&1
}

cmd_up() {
    local t0 t1
    t0=$(date +%s)
    if is_running; then
        engine_log "cluster $NAME already runs (kubeconfig $KUBECONFIG_PATH)"
        return 0
    fi
    mkdir -p "$STATE"
    write_config
    engine_log "starting kwok cluster $NAME (kwokctl workdir $KWOK_WORKDIR)"
    "$ROOT/bin/kwokctl" create cluster --name "$NAME" --config "$STATE/kwokctl.yaml" \
        --kubeconfig "$KUBECONFIG_PATH" --wait 120s >"$STATE/create.log" 2>&1 ||
        { cat "$STATE/create.log" >&2; engine_die "kwokctl create cluster failed"; }
    node_manifests | kctl apply -f - >/dev/null
    kctl wait --for=condition=Ready node --all --timeout=120s >/dev/null
    t1=$(date +%s)
    engine_log "cluster $NAME up in $((t1 - t0))s: $(kctl version -o json | node -e \
        'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log("server "+JSON.parse(s).serverVersion.gitVersion))'), $NODES nodes"
    engine_log "kubeconfig: $KUBECONFIG_PATH"
}

cmd_down() {
    if [ -d "$KWOK_WORKDIR/clusters/$NAME" ]; then
        local out
        out="$("$ROOT/bin/kwokctl" delete cluster --name "$NAME" --kubeconfig "$KUBECONFIG_PATH" 2>&1)" ||
            { echo "$out" >&2; engine_log "kwokctl delete cluster failed"; }
    fi
    rm -rf "$STATE"
    engine_log "cluster $NAME deleted"
}

cmd_status() {
    if is_running; then
        echo "cluster $NAME runs; kubeconfig $KUBECONFIG_PATH"
        kctl get --raw /version
        echo
        kctl get nodes -o wide
    else
        echo "cluster $NAME is not running"
        return 1
    fi
}

cmd_check() {
    is_running || engine_die "cluster $NAME is not running"
    local ns="engine-check-$$" t0
    t0=$(date +%s)
    local v
    v="$(kctl get --raw /version | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).gitVersion))')"
    [ "$v" = "$ENGINE_KUBE_VERSION" ] || engine_die "API server /version says $v, expected $ENGINE_KUBE_VERSION"
    echo "API server /version: $v"
    kctl create namespace "$ns" >/dev/null
    kctl apply -n "$ns" -f - >/dev/null <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: example.invalid/web:1, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: example.invalid/db:1}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: example.invalid/migrate:1}]
EOF
    kctl -n "$ns" rollout status deployment/web --timeout=120s
    kctl -n "$ns" rollout status statefulset/db --timeout=120s
    kctl -n "$ns" wait --for=condition=Complete job/migrate --timeout=120s
    echo "pods:"
    kctl -n "$ns" get pods -o wide | sed 's/^/  /'
    echo "service web: clusterIP $(kctl -n "$ns" get svc web -o jsonpath='{.spec.clusterIP}')," \
        "endpoints: '$(kctl -n "$ns" get endpoints web -o jsonpath='{.subsets[*].addresses[*].ip}' 2>/dev/null)'"
    kctl delete namespace "$ns" --wait=false >/dev/null
    echo "check passed in $(($(date +%s) - t0))s"
}

cmd="${1:-}"
case "$cmd" in
    up | down | env | status | check | kubeconfig) ;;
    *)
        echo "unknown command \"$cmd\"; commands: up, down, env, status, check, kubeconfig (--help: the details)" >&2
        exit 2
        ;;
esac
engine_versions
ROOT="${ORDERS_ENGINE_ROOT:-}"
[ -n "$ROOT" ] && [ -x "$ROOT/bin/kwokctl" ] || ROOT="$(toolchain_root)"
case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    env) print_env ;;
    status) cmd_status ;;
    check) cmd_check ;;
    kubeconfig) echo "$KUBECONFIG_PATH" ;;
esac
