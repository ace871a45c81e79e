#!/usr/bin/env bash
# Runs the dev stack on a local kind cluster with a local file backend: no cloud account.
#   npm run up        create/update the dev stack (kind cluster, registry, platform, apps)
#   npm run preview   show what `up` would change, with the policy pack (advisory in dev)
#   npm run destroy   delete everything, kind cluster and registry included
set -euo pipefail
cd "$(dirname "$0")/.."

action="${1:-up}"
stack="${STACK:-dev}"

# The kind release that published the pinned node image (components/versions.ts).
KIND_MIN="$(npx --no-install tsx scripts/versions.ts kind)"

missing=()
for tool in docker kind kubectl; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "error: the dev stack needs ${missing[*]} on PATH (Docker engine running, kind >= ${KIND_MIN}, kubectl)." >&2
    echo "       See README.md, 'Prerequisites'." >&2
    exit 1
fi
kind_version="$(kind version | grep -oE 'v[0-9]+\.[0-9]+\.[0-9]+' | head -n1)"
if [ "$(printf '%s\n%s\n' "$KIND_MIN" "$kind_version" | sort -V | head -n1)" != "$KIND_MIN" ]; then
    echo "error: kind $kind_version is older than $KIND_MIN, the release the pinned node image was built for; upgrade kind." >&2
    exit 1
fi
if ! docker info >/dev/null 2>&1; then
    echo "error: docker is installed but its engine is not reachable (is the Docker daemon running?)" >&2
    exit 1
fi

# Local state, outside any cloud. Override PULUMI_BACKEND_URL to share state.
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
mkdir -p .pulumi-state
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    # Only protects secrets of a throwaway local stack; set your own for anything shared.
    export PULUMI_CONFIG_PASSPHRASE="orders-dev-local"
    echo "note: PULUMI_CONFIG_PASSPHRASE not set; using the local dev passphrase"
fi

# An installed `pulumi` on PATH wins over the npm package's downloading wrapper.
pulumi_bin="$(npx --no-install tsx scripts/lib/pulumiCli.ts)" || exit 1
pulumi() { "$pulumi_bin" "$@"; }

pulumi stack select "$stack" --create --non-interactive >/dev/null
policy=(--policy-pack policy --policy-pack-config "policy/config/${stack}.json")

case "$action" in
    up) pulumi up --yes --stack "$stack" "${policy[@]}" ;;
    preview) pulumi preview --diff --stack "$stack" "${policy[@]}" ;;
    destroy) pulumi destroy --yes --stack "$stack" ;;
    *)
        echo "usage: $0 up|preview|destroy" >&2
        exit 2
        ;;
esac

if [ "$action" = "up" ]; then
    echo
    echo "edge:    $(pulumi stack output edgeUrl --stack "$stack")"
    echo "grafana: $(pulumi stack output grafanaUrl --stack "$stack")"
    echo "jaeger:  $(pulumi stack output jaegerUrl --stack "$stack")"
    echo "token:   every /api request needs one: TOKEN=\$(npm run --silent token -- --stack $stack --user <name>)"
    echo "         then curl -H \"authorization: Bearer \$TOKEN\" $(pulumi stack output edgeUrl --stack "$stack")/api/users"
fi
