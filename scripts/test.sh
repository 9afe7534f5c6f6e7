#!/usr/bin/env bash
# The test command: the README's and CI's. Offline, credential-free; small named steps, each timed.
#   gofmt       every Go file is gofmt-clean
#   shellcheck  installs Debian's shellcheck when missing; the test step then lints every boot script with it
#   test        go test -vet=all ./...: every go vet analyzer on every package, then the tests (the generated
#               docs/stacks pages are checked there), in one build; results kept in Go's test cache
#   docs        Markdown structure and tables (markdownlint-cli2), relative links and anchors
#               (remark-validate-links); tools pinned in scripts/doclint, installed once into .cache/doclint
#               in the background while Go builds
#   actionlint  the GitHub Actions workflows
# Two more steps run only when named, and .ci/run runs them after this command:
#   lint        golangci-lint, pinned below, configured in .golangci.yml: staticcheck, errcheck, ineffassign,
#               unused, revive (doc comments), misspell and go vet's analyzers; building it is a third of a
#               cold run's CPU, so it is not in the default list
#   race        go test -race ./...
# TEST_STEPS="lint test" runs only those steps. Timings are printed per step and at the end.
set -Eeuo pipefail

case "${1:-}" in
  -h | --help)
    cat <<'EOF'
Usage: bash scripts/test.sh

The test command (what .ci/run runs), offline, no credentials. Steps, each timed: gofmt, shellcheck (installs
it when missing, for the boot script tests), test (go test -vet=all ./...: go vet's analyzers, then the tests),
docs (markdownlint-cli2, relative links and anchors), actionlint (the GitHub workflows).
TEST_STEPS="lint test" runs only those steps. Two steps run only when named (.ci/run adds them):
lint (golangci-lint, .golangci.yml) and race (go test -race ./...).
Exits non-zero on the first failing step and names it.
EOF
    exit 0
    ;;
  "") ;;
  *) echo "test.sh: takes no arguments (see --help)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
# The Go compiler collects its garbage less often: a cold build of the tests spends about 18% less CPU
# (docs/testing.md), and its largest process grows from about 3.4 to 4.6 GB.
export GOGC="${GOGC:-400}"

doclint=.cache/doclint

step_gofmt() {
  local unformatted
  unformatted=$(gofmt -l $(git ls-files -co --exclude-standard -- '*.go' 2>/dev/null || find . -name '*.go' -not -path './.*'))
  if [ -n "$unformatted" ]; then
    echo "gofmt would change:" $unformatted >&2
    return 1
  fi
}

# doclint_install installs the pinned Markdown tools unless the installed lock file is the committed one.
# It runs in the background from the start, so that a cold install overlaps the Go build.
doclint_install() {
  if cmp -s scripts/doclint/package-lock.json "$doclint/package-lock.json" && [ -x "$doclint/node_modules/.bin/remark" ]; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    echo "npm not found: the docs step needs Node.js 20 or later and npm" >&2
    return 1
  fi
  rm -rf "$doclint"
  mkdir -p "$doclint"
  cp scripts/doclint/package.json scripts/doclint/package-lock.json scripts/doclint/.remarkrc.json "$doclint/"
  npm ci --prefix "$doclint" --no-audit --no-fund --loglevel=error >"$doclint.log" 2>&1 || { cat "$doclint.log" >&2; rm -f "$doclint/package-lock.json"; return 1; }
}

step_docs() {
  wait "$doclint_pid" || { echo "installing the Markdown tools failed (npm ci in $doclint)" >&2; return 1; }
  "$doclint/node_modules/.bin/markdownlint-cli2"
  # The settings file sits beside the installed plugin, which remark resolves from there.
  "$doclint/node_modules/.bin/remark" --rc-path "$doclint/.remarkrc.json" --frail --quiet --no-stdout --no-color \
    $(git ls-files -co --exclude-standard -- '*.md' 2>/dev/null || find . -name '*.md' -not -path './.*')
}

# The first run builds golangci-lint (its linters are many modules); go run keeps the binary in Go's
# build cache, so later runs start it at once.
step_lint() { go run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0 run ./...; }

step_actionlint() { go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12; }

# The boot script tests (stack/boot_test.go) lint every script a server runs at boot with shellcheck, which
# Debian and Ubuntu package; this step installs it when missing and makes those tests require it.
step_shellcheck() {
  if ! command -v shellcheck >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      echo "shellcheck is missing: install it (sudo apt-get install shellcheck) to lint the servers' boot scripts" >&2
      return 1
    fi
    echo "installing shellcheck (apt-get) to lint the servers' boot scripts" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q shellcheck >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q shellcheck >/dev/null; }
  fi
  shellcheck --version | sed -n 2p
  export FOOTBALL_REQUIRE_SHELLCHECK=1
}

# -vet=all: go vet's whole set of analyzers rather than go test's short list, on every package (those
# without tests too), scheduled with the compiles, links and test runs of the same build.
step_test() { go test -vet=all ./...; }

# The race detector rebuilds every package instrumented (the AWS provider's too): as long again as the
# rest of this command on a cold cache, so it is a step of its own; the test step has vetted the code.
step_race() { go test -race -vet=off ./...; }

# now prints the time in microseconds; seconds turns a difference of two into seconds with one decimal.
now() { local t=${EPOCHREALTIME/[.,]/}; echo "${t#0}"; }
seconds() { local d=$(( ($1 + 50000) / 100000 )); echo "$((d / 10)).$((d % 10))"; }

steps=${TEST_STEPS:-gofmt shellcheck test docs actionlint}
current=
timings=()
started=$(now)
report() {
  local rc=$?
  [ ${#timings[@]} -gt 0 ] && printf '%s\n' "${timings[@]}"
  if [ "$rc" -ne 0 ] && [ -n "$current" ]; then
    echo "FAILED: step $current" >&2
  fi
  exit "$rc"
}
trap report EXIT

doclint_pid=
if [[ " $steps " == *" docs "* ]]; then
  doclint_install &
  doclint_pid=$!
fi
for s in $steps; do
  current=$s
  t0=$(now)
  echo "--- $s"
  "step_$s"
  timings+=("$(printf '%-12s %7s s' "$s" "$(seconds $(($(now) - t0)))")")
done
current=
timings+=("$(printf '%-12s %7s s' total "$(seconds $(($(now) - started)))")")
