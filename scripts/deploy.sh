#!/usr/bin/env bash
# The main job. Always prints what the stack would build (offline plan, no credentials needed). With the
# Pulumi CLI and AWS credentials present it then runs `pulumi up` on that stack.
#
#   bash scripts/deploy.sh [stack]          # default stack: dev
#
# State goes to a local file backend in ./.pulumi-state unless PULUMI_BACKEND_URL says otherwise
# (s3://bucket/prefix for a shared S3 backend, https://api.pulumi.com for Pulumi Cloud).
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:-dev}"

go run ./cmd/plan -stack "$stack"

if ! command -v pulumi >/dev/null 2>&1; then
  echo; echo "Pulumi CLI not found: stopping after the offline plan. Install it to deploy: https://www.pulumi.com/docs/install/"
  exit 0
fi
if [ -z "${AWS_ACCESS_KEY_ID:-}${AWS_PROFILE:-}${AWS_WEB_IDENTITY_TOKEN_FILE:-}" ] && [ ! -f "${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}" ]; then
  echo; echo "No AWS credentials found: stopping after the offline plan."
  exit 0
fi

export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
mkdir -p .pulumi-state
if [ "${PULUMI_BACKEND_URL#file://}" != "$PULUMI_BACKEND_URL" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  echo "Set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE): it encrypts this stack's secrets in the file backend." >&2
  exit 2
fi
pulumi login "$PULUMI_BACKEND_URL"
pulumi stack select --create "$stack"
pulumi up --stack "$stack"
