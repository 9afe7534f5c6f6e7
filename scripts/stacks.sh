#!/usr/bin/env bash
# Lists the project's stacks (one Pulumi.<stack>.yaml each) with the environment each deploys through.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: bash scripts/stacks.sh [--github-output]

Lists every stack of the project (a Pulumi.<stack>.yaml beside Pulumi.yaml), one "stack environment" line
each. The environment is football:environment when the file sets it, else the stack name's profile (dev,
dev-*: dev; prod, prod-*: prod); it is also the GitHub environment that gates the stack's deploy.

  --github-output  print all=, dev= and prod= lines with JSON lists of stack names instead, for
                   $GITHUB_OUTPUT (the workflows' stack matrix)
  -h, --help       print this help
EOF
}

github=false
case "${1:-}" in
  -h | --help) usage; exit 0 ;;
  --github-output) github=true ;;
  "") ;;
  *) echo "stacks.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."

all=() dev=() prod=()
status=0
names=()
for file in Pulumi.*.yaml; do
  [ -e "$file" ] || continue
  name=${file#Pulumi.}
  names+=("${name%.yaml}")
done
# In name order, the order the offline planner lists them in.
mapfile -t names < <(printf '%s\n' ${names[@]+"${names[@]}"} | LC_ALL=C sort)
for stack in "${names[@]}"; do
  [ -n "$stack" ] || continue
  file=Pulumi.$stack.yaml
  if ! [[ $stack =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
    echo "stacks.sh: $file: a stack name is letters, digits, '.', '_' and '-'" >&2
    status=2
    continue
  fi
  env=$(sed -nE 's/^[[:space:]]+football:environment:[[:space:]]*["'\'']?([A-Za-z0-9-]*)["'\'']?[[:space:]]*(#.*)?$/\1/p' "$file" | head -n 1)
  if [ -z "$env" ]; then
    case "$stack" in
      dev | dev-*) env=dev ;;
      prod | prod-*) env=prod ;;
    esac
  fi
  case "$env" in
    dev) dev+=("$stack") ;;
    prod) prod+=("$stack") ;;
    *)
      echo "stacks.sh: $file: football:environment is ${env:-not set} and the name picks no profile; set it to dev or prod" >&2
      status=2
      continue
      ;;
  esac
  all+=("$stack")
  $github || echo "$stack $env"
done

# json prints its arguments as a JSON list of strings (the names need no escaping: checked above).
json() {
  local out="" s
  for s in "$@"; do out+="${out:+,}\"$s\""; done
  echo "[$out]"
}
if $github && [ "$status" -eq 0 ]; then
  echo "all=$(json "${all[@]}")"
  echo "dev=$(json "${dev[@]}")"
  echo "prod=$(json "${prod[@]}")"
fi
exit "$status"
