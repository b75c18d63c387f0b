#!/usr/bin/env bash
# Prints the build's version: the nearest v* tag as `git describe` gives it
# (v1.2.0, or v1.2.0-3-gabc123def456 three commits later, "-dirty" with
# uncommitted changes), else v0.0.0-<commits>-g<commit> before the first tag.
# It is a valid image tag. scripts/build-image.sh stamps it into the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
if v=$(git describe --tags --match 'v[0-9]*' --abbrev=12 --dirty 2>/dev/null); then
  echo "$v"
  exit 0
fi
dirty=""
git diff --quiet HEAD -- 2>/dev/null || dirty="-dirty"
echo "v0.0.0-$(git rev-list --count HEAD)-g$(git rev-parse --short=12 HEAD)$dirty"
