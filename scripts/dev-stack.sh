#!/usr/bin/env bash
# Runs the dev stack on a local kind cluster with a local file backend: no cloud account.
#   npm run up        create/update the dev stack (kind cluster, registry, platform, apps)
#   npm run preview   show what `up` would change, with the policy pack (advisory in dev)
#   npm run destroy   delete everything, kind cluster and registry included
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'USAGE'
usage: npm run up | npm run preview | npm run destroy      (bash scripts/dev-stack.sh up|preview|destroy)

The dev stack on a local kind cluster: kind cluster, local registry, platform and apps, with a local
file state backend (.pulumi-state) and no cloud account.
  up        create or update the dev stack, then print its URLs and how to get a token
  preview   show what `up` would change (pulumi preview --diff, with the policy pack)
  destroy   delete everything, the kind cluster and the registry included

Prerequisites, all checked before anything runs (every missing one is listed with how to get it):
a running Docker engine, kind (the pinned release or newer), kubectl, the Pulumi CLI,
Node.js >= 22, and `npm ci`.

environment:
  STACK                       stack to use (default dev)
  PULUMI_BACKEND_URL          state backend (default file://$PWD/.pulumi-state)
  PULUMI_CONFIG_PASSPHRASE    encrypts the stack's secrets (default: a fixed local dev passphrase)

options:
  -h, --help   this text
USAGE
}

for arg in "$@"; do
    case "$arg" in
        -h | --help)
            usage
            exit 0
            ;;
    esac
done
action="${1:-up}"
if [ "$#" -gt 1 ]; then
    echo "error: unexpected argument \"$2\"" >&2
    usage >&2
    exit 2
fi
case "$action" in
    up | preview | destroy) ;;
    *)
        echo "error: unknown action \"$action\"" >&2
        usage >&2
        exit 2
        ;;
esac
stack="${STACK:-dev}"

if [ ! -x node_modules/.bin/tsx ]; then
    echo "error: the project's packages are not installed; run \`npm ci\` first" >&2
    exit 1
fi
tsx=(node_modules/.bin/tsx)

# Every prerequisite at once, before anything runs (scripts/lib/prerequisites.ts says how to get each).
"${tsx[@]}" scripts/lib/prerequisites.ts "npm run $action" || exit 1

# Local state, outside any cloud. Override PULUMI_BACKEND_URL to share state.
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
mkdir -p .pulumi-state
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    # Only protects secrets of a throwaway local stack; set your own for anything shared.
    export PULUMI_CONFIG_PASSPHRASE="orders-dev-local"
    echo "note: PULUMI_CONFIG_PASSPHRASE not set; using the local dev passphrase"
fi

# An installed `pulumi` on PATH wins over the npm package's wrapper.
pulumi_bin="$("${tsx[@]}" scripts/lib/pulumiCli.ts)" || exit 1
pulumi() { "$pulumi_bin" "$@"; }

pulumi stack select "$stack" --create --non-interactive >/dev/null
policy=(--policy-pack policy --policy-pack-config "policy/config/${stack}.json")

case "$action" in
    up) pulumi up --yes --stack "$stack" "${policy[@]}" ;;
    preview) pulumi preview --diff --stack "$stack" "${policy[@]}" ;;
    destroy) pulumi destroy --yes --stack "$stack" ;;
esac

if [ "$action" = "up" ]; then
    echo
    echo "edge:    $(pulumi stack output edgeUrl --stack "$stack")"
    echo "grafana: $(pulumi stack output grafanaUrl --stack "$stack")"
    echo "jaeger:  $(pulumi stack output jaegerUrl --stack "$stack")"
    echo "token:   every /api request needs one: TOKEN=\$(npm run --silent token -- --stack $stack --user alice)"
    echo "         then curl -H \"authorization: Bearer \$TOKEN\" $(pulumi stack output edgeUrl --stack "$stack")/api/users"
fi
