#!/usr/bin/env bash
# Prints the newest glibc symbol version that the given ELF files need
# (e.g. 2.34): the oldest glibc they can run on, so the installer's minimum.
# objdump -T lists every dynamic symbol with the version it binds to.
set -euo pipefail
[ "$#" -gt 0 ] || { echo "usage: $0 ELF-FILE..." >&2; exit 2; }
floor=$(objdump -T "$@" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -Vu | tail -n 1)
[ -n "$floor" ] || { echo "glibc-floor: no GLIBC_ symbol versions in $*" >&2; exit 1; }
echo "$floor"
