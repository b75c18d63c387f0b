#!/usr/bin/env bash
# Builds kube-apiserver and kubectl from k8s.io/kubernetes for the controller's
# tests (test/kubeapi) and caches them under $CACHE_DIR/kube/<version>/, so
# only the first run pays (about 7 minutes on 2 cores); later runs return in
# well under a second.
#
# k8s.io/kubernetes replaces its k8s.io/<staging> modules with ./staging/...
# paths, which `go install` refuses. A small wrapper module requires it and
# replaces each staging module with its published v0.<minor>.<patch> release.
# Older releases do not build here: the module proxy lacks some of their
# staging modules. Checksum-database look-ups fail for some of these modules,
# so GOSUMDB is switched off for this build only (the project's own go.sum is
# untouched).
set -euo pipefail

KUBE_VERSION="${KUBE_VERSION:-v1.34.2}"
CACHE_DIR="${CACHE_DIR:-$HOME/.cache/fabric-reconciler}"
out="$CACHE_DIR/kube/$KUBE_VERSION"

if [ -x "$out/kube-apiserver" ] && [ -x "$out/kubectl" ]; then
  echo "kube-apiserver $KUBE_VERSION: cached in $out"
  exit 0
fi

# v1.34.2 -> v0.34.2 for the staging modules.
staging_version="v0.${KUBE_VERSION#v1.}"
work="$CACHE_DIR/kube/build-$KUBE_VERSION"
mkdir -p "$work" "$out"
cd "$work"

export GOFLAGS=-mod=mod GOSUMDB=off GOTOOLCHAIN=local CGO_ENABLED=0
start=$(date +%s)

# Kubernetes' own go.mod names the staging modules (k8s.io/x => ./staging/src/k8s.io/x).
kgomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
[ -f "$kgomod" ] || { echo "could not download k8s.io/kubernetes@$KUBE_VERSION" >&2; exit 1; }
mapfile -t staging < <(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*#\1#p' "$kgomod" | sort -u)
if [ ${#staging[@]} -lt 20 ]; then
  echo "found only ${#staging[@]} staging modules in $kgomod; its layout changed?" >&2
  exit 1
fi
goversion=$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$kgomod")

{
  echo "module fabric-reconciler.local/kubebuild"
  echo
  echo "go $goversion"
  echo
  echo "require k8s.io/kubernetes $KUBE_VERSION"
  echo
  for m in "${staging[@]}"; do echo "replace $m => $m $staging_version"; done
} > go.mod
cat > tools.go <<'GO'
//go:build tools

package kubebuild

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO

echo "building kube-apiserver and kubectl $KUBE_VERSION (${#staging[@]} staging modules at $staging_version); the first build takes minutes"
go mod tidy -e >/dev/null 2>&1 || true
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
go build -trimpath -ldflags "$ldflags" -o "$out/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
go build -trimpath -ldflags "$ldflags" -o "$out/kubectl.tmp" k8s.io/kubernetes/cmd/kubectl
mv "$out/kube-apiserver.tmp" "$out/kube-apiserver"
mv "$out/kubectl.tmp" "$out/kubectl"
"$out/kube-apiserver" --version
echo "built in $(( $(date +%s) - start )) s into $out"
