#!/bin/sh
# The installer's entry inside the makeself archive (started as `sh ./setup.sh`,
# so a noexec TMPDIR does not stop it). It checks the platform in plain sh
# before running any shipped binary, then runs the wizard with the shipped
# atsr executable: `atsr --atsr-run-script installer.cjs ARGS`.
# ci/build-installer.sh fills in the glibc floor: the highest GLIBC_ symbol
# version that atsr or pty.node needs.
GLIBC_FLOOR=@GLIBC_FLOOR@
NEED="Linux on x86-64 (64-bit) with glibc $GLIBC_FLOOR or newer"

reject() {
  echo "install-atsr: this system is not supported: found $1; atsr needs $NEED." >&2
  exit 3
}

# "2.17" -> "2017": compares as a number (minor versions stay below 1000).
version_number() {
  echo "$1" | awk -F. '{ printf "%d\n", $1 * 1000 + $2 }'
}

os=$(uname -s 2>/dev/null)
[ "$os" = Linux ] || reject "${os:-an unknown OS} ($(uname -a 2>/dev/null))"
cpu=$(uname -m 2>/dev/null)
[ "$cpu" = x86_64 ] || reject "Linux on ${cpu:-an unknown CPU}"
bits=$(getconf LONG_BIT 2>/dev/null)
[ "$bits" = 64 ] || reject "a ${bits:-unknown}-bit user space on x86_64"

# glibc answers GNU_LIBC_VERSION; musl has no such variable, and its ldd says musl.
libc=$(getconf GNU_LIBC_VERSION 2>/dev/null)
case $libc in
  glibc\ *) glibc=${libc#glibc } ;;
  *)
    if ldd --version 2>&1 | grep -qi musl; then
      reject "musl libc ($(ldd --version 2>&1 | grep -i '^version' | head -n 1))"
    fi
    glibc=$(ldd --version 2>/dev/null | head -n 1 | sed -n 's/.* \([0-9][0-9]*\.[0-9][0-9]*\)$/\1/p')
    [ -n "$glibc" ] || reject "no GNU C library (getconf GNU_LIBC_VERSION and ldd --version name none)"
    ;;
esac
if [ "$(version_number "$glibc")" -lt "$(version_number "$GLIBC_FLOOR")" ]; then
  reject "glibc $glibc"
fi

# makeself extracts with umask 077: the wizard sets each installed file's mode.
# Where TMPDIR is mounted noexec, the shipped executable cannot run from here:
# run it from a private copy in a directory that allows programs, removed after.
if ./atsr --version >/dev/null 2>&1; then
  exec ./atsr --atsr-run-script ./installer.cjs "$@"
fi
here=
for base in /var/tmp /dev/shm "${HOME:-/nonexistent}"; do
  copy=$(mktemp -d "$base/atsr-setup.XXXXXX" 2>/dev/null) || continue
  if cp -R . "$copy" && "$copy/atsr" --version >/dev/null 2>&1; then
    here=$copy
    break
  fi
  rm -rf "$copy"
done
if [ -z "$here" ]; then
  echo "install-atsr: cannot run programs from $(pwd), /var/tmp, /dev/shm or \$HOME (noexec file systems?);" >&2
  echo "  run the installer again with TMPDIR set to a directory that allows programs" >&2
  exit 3
fi
trap 'rm -rf "$here"' EXIT
trap 'exit 130' INT TERM HUP
"$here/atsr" --atsr-run-script "$here/installer.cjs" "$@"
