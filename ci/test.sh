#!/usr/bin/env bash
# Runs every test: the type check, then the vitest suite against the built product.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
tsc --noEmit -p tsconfig.json
vitest run "$@"
