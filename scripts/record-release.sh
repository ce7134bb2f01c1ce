#!/usr/bin/env bash
# Records a published release's compiled code as a test fixture, so that the state-contract tests
# (test/integration/state-contract.test.ts) can create resources with that release and then drive
# them with this checkout's code, as a user upgrading the package would.
# Usage: bash scripts/record-release.sh COMMIT VERSION   e.g. bash scripts/record-release.sh b39302e 0.1.0
set -euo pipefail
cd "$(dirname "$0")/.."
commit=$1
version=$2
out=test/fixtures/releases/$version
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git archive "$commit" src tsconfig.json | tar -x -C "$work"
ln -s "$PWD/node_modules" "$work/node_modules"
node_modules/.bin/tsc -p "$work/tsconfig.json" --sourceMap false --declaration false --outDir "$work/dist"
rm -rf "$out"
mkdir -p "$out"
cp -r "$work/dist" "$out/dist"
cat > "$out/package.json" <<JSON
{
  "name": "pulumi-copied-object",
  "version": "$version",
  "description": "pulumi-copied-object $version as released (commit $commit), compiled by scripts/record-release.sh: a test fixture.",
  "main": "dist/index.js",
  "private": true
}
JSON
echo "recorded $version (commit $commit) in $out: $(find "$out/dist" -name '*.js' | wc -l) files"
