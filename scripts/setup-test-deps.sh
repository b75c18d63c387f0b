#!/usr/bin/env bash
# Installs what `make test` needs on a fresh Debian machine (CI runs as root
# on a clean checkout). Idempotent: it installs only what is missing, so a
# second run takes about a second. Each test suite's needs are listed below.
set -euo pipefail
cd "$(dirname "$0")/.."

# "<debian package> <file that proves it is installed>"
APT_NEEDS=(
  "git /usr/bin/git"
)

missing=()
for need in "${APT_NEEDS[@]}"; do
  pkg=${need%% *}
  file=${need#* }
  [ -e "$file" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: root is needed to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Package scripts must not start daemons here: the tests start their own.
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Built binaries the tests need are cached under $CACHE_DIR (see Makefile).
for step in scripts/setup.d/*.sh; do
  [ -e "$step" ] || continue
  echo "setup: $step"
  bash "$step"
done
echo "setup: test dependencies are in place"
