#!/usr/bin/env bash
# The main job: prints what a stack would build (the offline plan: no credentials, network or Pulumi CLI
# needed), then deploys it with `pulumi up` when it can.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bash scripts/deploy.sh [--up | --plan] [stack] [-- pulumi-up-flags...]

Prints the offline plan of the stack (default: dev; its config is Pulumi.<stack>.yaml), then deploys it
with `pulumi up` when the Pulumi CLI and usable AWS credentials are present. Without them it says what is
missing and stops after the plan with exit 0.

  --up      deploy, or fail: exit 1 with the reason when the Pulumi CLI, AWS credentials or the secrets
            passphrase are missing
  --plan    print the offline plan only
  -h, --help
            print this help
  -- ...    pass the rest to `pulumi up` (e.g. -- --yes)

Backend: the one you are logged in to (`pulumi whoami -v`; PULUMI_BACKEND_URL and `pulumi login` choose
it); logged in nowhere, a local file backend in ./.pulumi-state (?metadata=skip). The stack is created
there if missing.
With a backend other than Pulumi Cloud, secrets need PULUMI_CONFIG_PASSPHRASE (or _FILE) unless the
stack file names another secrets provider.

AWS credentials are looked for the way the AWS SDK looks: `aws sts get-caller-identity` when the AWS CLI
is installed; otherwise the environment (AWS_ACCESS_KEY_ID), the profile (AWS_PROFILE, else default) in
~/.aws/config or ~/.aws/credentials (keys, SSO, credential_process, role_arn), a web identity token, and
container or EC2 instance roles.
EOF
}

mode=auto
stack=
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --up) mode=up ;;
    --plan) mode=plan ;;
    --) shift; break ;;
    -*) echo "deploy.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *)
      if [ -n "$stack" ]; then
        echo "deploy.sh: one stack at a time (got $stack and $1; see --help)" >&2
        exit 2
      fi
      stack=$1
      ;;
  esac
  shift
done
stack=${stack:-dev}
cd "$(dirname "$0")/.."

go run ./cmd/plan -stack "$stack"
[ "$mode" = plan ] && exit 0

# stop explains why nothing is deployed: a note after the plan, or a failure when --up asked for a deploy.
stop() {
  echo
  if [ "$mode" = up ]; then
    echo "deploy.sh: cannot deploy stack $stack: $*" >&2
    exit 1
  fi
  echo "Stopping after the offline plan: $*"
  echo "(bash scripts/deploy.sh --up $stack deploys or says why it cannot.)"
  exit 0
}

# ini_section prints the key = value lines of section [$2] of ini file $1.
ini_section() {
  [ -r "$1" ] || return 0
  awk -v want="$2" '
    /^[[:space:]]*\[/ { s = $0; gsub(/^[[:space:]]*\[[[:space:]]*|[[:space:]]*\][[:space:]]*$/, "", s); gsub(/[[:space:]]+/, " ", s); on = (s == want); next }
    on && /=/ { print }' "$1"
}

# static_credentials finds a credential source without the AWS CLI, in the AWS SDK's order; it sets
# found (the source) or problem (why none is usable).
static_credentials() {
  if [ -n "${AWS_ACCESS_KEY_ID:-}" ]; then
    if [ -n "${AWS_SECRET_ACCESS_KEY:-}" ]; then found="environment variables (AWS_ACCESS_KEY_ID)"; return 0; fi
    problem="AWS_ACCESS_KEY_ID is set without AWS_SECRET_ACCESS_KEY"; return 1
  fi
  local profile=${AWS_PROFILE:-${AWS_DEFAULT_PROFILE:-default}}
  local config=${AWS_CONFIG_FILE:-$HOME/.aws/config} creds=${AWS_SHARED_CREDENTIALS_FILE:-$HOME/.aws/credentials}
  local section="profile $profile" lines kind=
  [ "$profile" = default ] && section=default
  lines="$(ini_section "$creds" "$profile")
$(ini_section "$config" "$section")"
  [ "$profile" = default ] && lines="$lines
$(ini_section "$config" "profile default")"
  has() { printf '%s\n' "$lines" | grep -Eq "^[[:space:]]*($1)[[:space:]]*="; }
  if has 'aws_access_key_id'; then kind="access keys"
  elif has 'sso_session|sso_start_url|sso_account_id'; then kind="SSO (run aws sso login --profile $profile if its session expired)"
  elif has 'credential_process'; then kind="credential_process"
  elif has 'role_arn'; then kind="assumed role"
  elif has 'web_identity_token_file'; then kind="web identity"
  fi
  if [ -n "$kind" ]; then found="profile $profile: $kind"; return 0; fi
  if [ -n "${AWS_PROFILE:-}" ]; then
    problem="AWS_PROFILE=$AWS_PROFILE names no profile with credentials in $config or $creds"; return 1
  fi
  if [ -n "${AWS_WEB_IDENTITY_TOKEN_FILE:-}" ] && [ -n "${AWS_ROLE_ARN:-}" ]; then
    found="web identity token (AWS_ROLE_ARN=$AWS_ROLE_ARN)"; return 0
  fi
  if [ -n "${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:-}${AWS_CONTAINER_CREDENTIALS_FULL_URI:-}" ]; then
    found="container credentials"; return 0
  fi
  if [ "${AWS_EC2_METADATA_DISABLED:-}" != true ] && command -v curl >/dev/null 2>&1; then
    local token role
    if token=$(curl -fsS -m 1 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token 2>/dev/null) &&
      role=$(curl -fsS -m 1 -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/iam/security-credentials/ 2>/dev/null) &&
      [ -n "$role" ]; then
      found="EC2 instance role $role"; return 0
    fi
  fi
  problem="no AWS credentials found (environment, profile ${profile} in $config or $creds, web identity, container or instance role); configure some, e.g. aws configure sso"
  return 1
}

# credentials sets found or problem; the AWS CLI, where installed, asks AWS itself.
credentials() {
  found='' problem=''
  if command -v aws >/dev/null 2>&1; then
    local region out
    region=$(sed -nE 's/^[[:space:]]+aws:region:[[:space:]]*["'\'']?([a-z0-9-]+).*/\1/p' "Pulumi.$stack.yaml" | head -n 1)
    if out=$(aws sts get-caller-identity ${region:+--region "$region"} --query Arn --output text 2>&1); then
      found="$out (aws sts get-caller-identity)"; return 0
    fi
    problem="aws sts get-caller-identity failed: $(printf '%s\n' "$out" | grep -v '^[[:space:]]*$' | tail -n 1)"
    return 1
  fi
  static_credentials
}

command -v pulumi >/dev/null 2>&1 ||
  stop "the Pulumi CLI is not installed (https://www.pulumi.com/docs/install/)"
credentials || stop "$problem"
echo
echo "AWS credentials: $found"

# The backend the user is logged in to wins; logged in nowhere, PULUMI_BACKEND_URL or a local file backend.
if who=$(pulumi whoami -v --non-interactive 2>/dev/null); then
  backend=$(printf '%s\n' "$who" | sed -n 's/^Backend URL: //p')
else
  # metadata=skip: otherwise the file backend rewrites a sidecar <stack>.json.attrs in place at every
  # checkpoint, and the stack's reference to its own previous outputs, read meanwhile, can find it empty
  # ("failed to load checkpoint: EOF"). The checkpoints themselves are replaced atomically either way.
  backend=${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state?metadata=skip}
  if [ "$backend" = "file://$PWD/.pulumi-state?metadata=skip" ]; then mkdir -p .pulumi-state; fi
  pulumi login "$backend"
fi
echo "Pulumi backend: $backend"
case "$backend" in
  file://*metadata=skip*) ;;
  file://*) echo "Note: a file backend without ?metadata=skip can fail an update with \"failed to load checkpoint: EOF\"; log in to ${backend%%\?*}?metadata=skip (docs/operations.md, \"The file backend\")." ;;
esac

case "$backend" in
  https://* | http://*) ;; # Pulumi Cloud (or self-hosted): secrets are the service's
  *)
    if ! grep -Eq '^secretsprovider:' "Pulumi.$stack.yaml" && [ -z "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
      stop "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE): it encrypts this stack's secrets in $backend"
    fi
    ;;
esac

pulumi stack select --create "$stack"
pulumi up --stack "$stack" "$@"
