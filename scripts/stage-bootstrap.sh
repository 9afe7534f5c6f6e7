#!/usr/bin/env bash
# Stages the bootstrap program as a project of its own in DEST, for tools that copy a project directory
# and nothing above it (the real-engine harness, shared/realengine): bootstrap/ alone cannot build, because
# its Go module is the repository's (../go.mod). DEST gets the repository's files, bootstrap's Pulumi.yaml
# at the top with `main: bootstrap/` (Pulumi then builds bootstrap/ inside the copied module) and
# bootstrap's stack files beside it. Real runs need none of this: `cd bootstrap && pulumi up`.
#
#   bash scripts/stage-bootstrap.sh DEST      # then: shared/realengine/preview.sh DEST <stack>
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:?usage: stage-bootstrap.sh DEST}
mkdir -p "$dest"
# Keep DEST's path (the harness keys its state by it) but start from a clean copy.
find "$dest" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
# The repository's files (tracked and new, not ignored); without git, everything but .git and caches.
files() {
  git ls-files -co --exclude-standard -z 2>/dev/null ||
    find . -type f -not -path './.git/*' -not -path './.cache/*' -not -path './.pulumi-state/*' -printf '%P\0'
}
files | while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue
  mkdir -p "$dest/$(dirname "$f")"
  cp -p "$f" "$dest/$f"
done
rm -f "$dest"/Pulumi.*.yaml
{ cat bootstrap/Pulumi.yaml; echo "main: bootstrap/"; } > "$dest/Pulumi.yaml"
cp bootstrap/Pulumi.*.yaml "$dest/"
echo "staged bootstrap in $dest (stacks: $(cd bootstrap && ls Pulumi.*.yaml | sed 's/^Pulumi\.//; s/\.yaml$//' | tr '\n' ' '))"
