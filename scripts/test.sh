#!/usr/bin/env bash
# The test command: the README's and CI's. Formatting, vet, workflow lint, then every test (mock engine, offline).
set -euo pipefail
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
