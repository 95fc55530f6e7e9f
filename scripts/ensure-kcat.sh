#!/usr/bin/env bash
# kcat (librdkafka's command-line client): the integration tests produce hostile records with a
# client this project did not write. Debian's package, installed once.
set -euo pipefail
if command -v kcat >/dev/null 2>&1; then
  echo "kcat: $(command -v kcat)"
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's kcat (once) ..."
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kcat >/dev/null
  echo "kcat: $(command -v kcat)"
  exit 0
fi
echo "kcat not found: install it (apt-get install kcat)" >&2
exit 1
