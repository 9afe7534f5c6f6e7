#!/usr/bin/env bash
# The test command: the README's and CI's. Formatting, vet, workflow lint, then every test (mock engine, offline).
set -euo pipefail

case "${1:-}" in
  -h | --help)
    cat <<'EOF'
Usage: bash scripts/test.sh

The test command (what .ci/run runs), offline, no credentials: gofmt check, go vet ./..., actionlint on
the GitHub workflows, then every Go test under the mock engine. Exits non-zero on the first failing step.
EOF
    exit 0
    ;;
  "") ;;
  *) echo "test.sh: takes no arguments (see --help)" >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files -co --exclude-standard -- '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:" $unformatted >&2
  exit 1
fi
go vet ./...
# The GitHub Actions workflows must parse and use their actions correctly before they can land.
go run github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
go test -race -count=1 ./...
