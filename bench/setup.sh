#!/usr/bin/env bash
# Makes sure the benchmark's peers are installed: dtach, tmux, script
# (util-linux) and perl (the startup test's session command), and what
# builds the outer pty's reader (bench/outer-reader.c): cc and zlib's header.
set -euo pipefail
missing=()
for tool in dtach tmux script perl; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
command -v cc >/dev/null || missing+=(gcc)
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "bench: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends dtach tmux util-linux perl gcc libc6-dev zlib1g-dev >/dev/null
else
  echo "bench: please install ${missing[*]} (Debian: apt-get install dtach tmux util-linux perl gcc libc6-dev zlib1g-dev)" >&2
  exit 1
fi
