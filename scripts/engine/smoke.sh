#!/usr/bin/env bash
# Smoke test of the whole chain: real Pulumi CLI + our Node.js language host + the Kubernetes and
# random provider plugins + the orders-platform policy pack, against a fresh kwok cluster.
#
# A tiny TypeScript project in a temp dir (using this repository's node_modules) creates a
# Namespace, a default-deny NetworkPolicy, a ConfigMap, a Secret, a Deployment, a Service, a Job, a
# random.RandomPassword, a helm.v4.Chart (local chart) and a yaml.v2.ConfigGroup. Steps: up; a
# second up that must change nothing; preview with the policy pack (must pass); preview with
# one violating Deployment added (the pack must block it); destroy; stack rm; cluster down.
#
# Needs `npm ci` in the repository root first (the policy pack and the program use its
# node_modules), and go and node on PATH. Cost on 2 cores: it builds the engine toolchain first when
# it is missing (npm run engine:build: about 26 min cold); with the toolchain built, 67-131 s.
#
# Usage: npm run engine:smoke [-- --keep]      (bash scripts/engine/smoke.sh [--keep])
#   --keep      leave the cluster and the temp dir for a look
#   -h, --help  this text
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

[ -d "$ENGINE_REPO/node_modules/@pulumi/pulumi" ] || engine_die "run npm ci in $ENGINE_REPO first"
[ -d "$ENGINE_REPO/node_modules/@pulumi/policy" ] || engine_die "run npm ci in $ENGINE_REPO first (no @pulumi/policy)"

T_ALL=$(date +%s)
ROOT="$(bash "$ENGINE_DIR/build.sh" --print-root)"
export ORDERS_ENGINE_ROOT="$ROOT"
export ENGINE_CLUSTER_NAME="orders-smoke-$$"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/orders-engine-smoke.XXXXXX")"

cleanup() {
    local rc=$?
    if [ "$KEEP" = 1 ]; then
        engine_log "kept: project $WORK/project, cluster $ENGINE_CLUSTER_NAME (cluster.sh down with ENGINE_CLUSTER_NAME=$ENGINE_CLUSTER_NAME)"
    else
        bash "$ENGINE_DIR/cluster.sh" down >/dev/null 2>&1 || true
        rm -rf "$WORK"
    fi
    exit $rc
}
trap cleanup EXIT

t0=$(date +%s)
bash "$ENGINE_DIR/cluster.sh" up
T_CLUSTER=$(($(date +%s) - t0))
eval "$(bash "$ENGINE_DIR/cluster.sh" env)"
export PULUMI_BACKEND_URL="file://$WORK/state"
export PULUMI_CONFIG_PASSPHRASE="engine-smoke"
mkdir -p "$WORK/state" "$WORK/project"
# The repository's devDependency "pulumi" (npm) puts a downloader named `pulumi` into
# node_modules/.bin, which `npm run` puts first on PATH: always call the built CLI by path.
PULUMI="$ROOT/bin/pulumi"

P="$WORK/project"
ln -s "$ENGINE_REPO/node_modules" "$P/node_modules"
cat >"$P/Pulumi.yaml" <<'EOF'
name: engine-smoke
description: scripts/engine/smoke.sh
runtime:
  name: nodejs
  options:
    typescript: true
EOF
cat >"$P/package.json" <<'EOF'
{ "name": "engine-smoke", "private": true, "main": "index.ts" }
EOF
cat >"$P/tsconfig.json" <<'EOF'
{ "compilerOptions": { "strict": true, "target": "es2022", "module": "commonjs", "moduleResolution": "node", "skipLibCheck": true }, "files": ["index.ts"] }
EOF
mkdir -p "$P/chart/templates"
cat >"$P/chart/Chart.yaml" <<'EOF'
apiVersion: v2
name: smoke-chart
version: 0.1.0
EOF
cat >"$P/chart/values.yaml" <<'EOF'
message: from-chart-defaults
EOF
cat >"$P/chart/templates/configmap.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-chart
data:
  message: {{ .Values.message | quote }}
EOF
cat >"$P/index.ts" <<'EOF'
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";

const namespace = "engine-smoke";
const ns = new k8s.core.v1.Namespace("smoke", { metadata: { name: namespace } });
const meta = (name: string) => ({ name, namespace: ns.metadata.name });

new k8s.networking.v1.NetworkPolicy("default-deny", {
    metadata: meta("default-deny"),
    spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
});
const password = new random.RandomPassword("smoke-password", { length: 24, special: false });
const config = new k8s.core.v1.ConfigMap("smoke-config", { metadata: meta("smoke"), data: { greeting: "hello" } });
const secret = new k8s.core.v1.Secret("smoke-secret", { metadata: meta("smoke"), stringData: { password: password.result } });

// Provider-side components (Construct): a local Helm chart and a YAML ConfigGroup.
new k8s.helm.v4.Chart("smoke-chart", { chart: "./chart", namespace, values: { message: "from-values" } }, { dependsOn: ns });
new k8s.yaml.v2.ConfigGroup("smoke-yaml", {
    yaml: `apiVersion: v1
kind: ConfigMap
metadata:
  name: smoke-yaml
  namespace: ${namespace}
data:
  source: yaml-v2
`,
}, { dependsOn: ns });

// A container that passes every resource policy of the orders-platform pack.
function container(image: string) {
    return {
        name: "main",
        image,
        ports: [{ containerPort: 8080 }],
        envFrom: [{ configMapRef: { name: config.metadata.name } }],
        env: [{ name: "PASSWORD", valueFrom: { secretKeyRef: { name: secret.metadata.name, key: "password" } } }],
        resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
        readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
        livenessProbe: { httpGet: { path: "/live", port: 8080 } },
        securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
        },
    };
}
const podSecurity = { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } };

function web(name: string, image: string) {
    const labels = { app: name };
    return new k8s.apps.v1.Deployment(name, {
        metadata: meta(name),
        spec: {
            replicas: 1,
            selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: { securityContext: podSecurity, containers: [container(image)] } },
        },
    });
}

const deployment = web("smoke-web", "registry.example.invalid/smoke/web:1.0.0");
// Services never get endpoints on this cluster (EndpointSlices refuse loopback pod IPs), so the
// provider's Service await would run into its timeout: skip it (README.md, "Addresses").
new k8s.core.v1.Service("smoke-web", {
    metadata: { ...meta("smoke-web"), annotations: { "pulumi.com/skipAwait": "true" } },
    spec: { selector: { app: "smoke-web" }, ports: [{ port: 80, targetPort: 8080 }] },
});
// The provider waits for the Job to complete: kwok's pod-complete stage has to finish its pod.
const job = new k8s.batch.v1.Job("smoke-job", {
    metadata: meta("smoke-job"),
    spec: {
        backoffLimit: 0,
        template: {
            spec: {
                restartPolicy: "Never",
                securityContext: podSecurity,
                containers: [container("registry.example.invalid/smoke/migrate:1.0.0")],
            },
        },
    },
});
if (process.env.SMOKE_VIOLATE === "1") {
    web("smoke-latest", "registry.example.invalid/smoke/web:latest"); // k8s-no-latest-image must block this
}

export const readyReplicas = deployment.status.readyReplicas;
export const jobSucceeded = job.status.succeeded;
export const passwordLength = password.result.apply((r) => r.length);
EOF

step() { # <name> <expect: ok|fail> <cmd...>
    local name="$1" expect="$2" t0 rc
    shift 2
    t0=$(date +%s)
    set +e
    (cd "$P" && "$@") >"$WORK/$name.log" 2>&1
    rc=$?
    set -e
    local secs=$(($(date +%s) - t0))
    if { [ "$expect" = ok ] && [ $rc -ne 0 ]; } || { [ "$expect" = fail ] && [ $rc -eq 0 ]; }; then
        engine_log "$name: exit $rc (expected $expect) after ${secs}s; output:"
        cat "$WORK/$name.log" >&2
        exit 1
    fi
    engine_log "$name: exit $rc in ${secs}s"
    echo "$name ${secs}s" >>"$WORK/timings"
}
summary() { # <log>: the Resources block of a pulumi run
    sed -n '/^Resources:/,/^$/p' "$WORK/$1.log" | sed 's/^/    /'
}

step stack-init ok "$PULUMI" stack init smoke --non-interactive
step up ok "$PULUMI" up --yes --non-interactive
echo "== pulumi up"; summary up
grep -E '^\s+(readyReplicas|jobSucceeded|passwordLength)' "$WORK/up.log" | sed 's/^/    /' || true
COUNT="$(cd "$P" && "$PULUMI" stack export | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s).deployment.resources||[];console.log(r.length+" resources in state: "+[...new Set(r.map(x=>x.type))].join(", "))})')"
echo "    $COUNT"
kubectl -n engine-smoke get deploy,job,svc,pods,configmap,secret,networkpolicy -o wide 2>&1 | sed 's/^/    /'

step up-again ok "$PULUMI" up --yes --non-interactive --expect-no-changes
echo "== second pulumi up (--expect-no-changes)"; summary up-again

step preview-policy ok "$PULUMI" preview --non-interactive --expect-no-changes --policy-pack "$ENGINE_REPO/policy"
echo "== pulumi preview --policy-pack policy"
sed -n '/^Policies:/,/^$/p' "$WORK/preview-policy.log" | sed 's/^/    /'
summary preview-policy

step preview-violation fail env SMOKE_VIOLATE=1 "$PULUMI" preview --non-interactive --policy-pack "$ENGINE_REPO/policy"
echo "== pulumi preview --policy-pack policy, with a :latest image added (must fail)"
grep -E 'k8s-no-latest-image|mandatory' "$WORK/preview-violation.log" | head -n 4 | sed 's/^/    /'
grep -q 'k8s-no-latest-image' "$WORK/preview-violation.log" || engine_die "the policy pack did not report k8s-no-latest-image"

step destroy ok "$PULUMI" destroy --yes --non-interactive
echo "== pulumi destroy"; summary destroy
step stack-rm ok "$PULUMI" stack rm smoke --yes --non-interactive
LEFT="$(kubectl get namespace engine-smoke -o name 2>/dev/null || true)"
echo "== after destroy: namespace engine-smoke ${LEFT:+still present (terminating)}${LEFT:-gone}"

echo "== timings"
echo "    cluster up ${T_CLUSTER}s"
sed 's/^/    /' "$WORK/timings"
echo "    smoke total $(($(date +%s) - T_ALL))s (toolchain $(basename "$ROOT"))"
echo "smoke test passed"
