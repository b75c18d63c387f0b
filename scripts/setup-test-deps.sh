#!/usr/bin/env bash
# Installs what `make test` needs on a fresh Debian machine (CI runs as root
# on a clean checkout). Idempotent: it installs only what is missing, so a
# second run takes about a second.
#
#   scripts/apt-needs.d/<area>.txt   lines "<debian package> <file proving it is installed>"
#   scripts/setup.d/<NN-area>.sh     build steps (e.g. a cached kube-apiserver)
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for list in scripts/apt-needs.d/*.txt; do
  [ -e "$list" ] || continue
  while read -r pkg file; do
    case "$pkg" in ''|'#'*) continue ;; esac
    [ -e "$file" ] || missing+=("$pkg")
  done < "$list"
done

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: root is needed to install: ${missing[*]}" >&2
    exit 1
  fi
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Package scripts may try to start daemons; the tests start their own.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

for step in scripts/setup.d/*.sh; do
  [ -e "$step" ] || continue
  echo "setup: $step"
  bash "$step"
done
echo "setup: test dependencies are in place"
