#!/usr/bin/env bash
# Builds fabric-reconciler's OCI image without a daemon and without pulling
# anything: the static binary (CGO off, the version and commit stamped in
# with -ldflags -X), a root filesystem laid out here (the binary, Debian's CA
# bundle, a passwd entry for the non-root user 65532), and `podman build` of
# image/Containerfile (FROM scratch). Docker works too: CONTAINER_TOOL=docker.
# VERSION and COMMIT override what git says.
#
#   scripts/build-image.sh                 # localhost/fabric-reconciler:<version>
#   IMAGE=registry.example.net/fabric-reconciler scripts/build-image.sh
#
# The image is tagged with the version (scripts/version.sh), never only
# "latest". The last line printed is the image reference. Go's build cache
# and podman's layer cache make a rebuild of an unchanged tree take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE="${IMAGE:-localhost/fabric-reconciler}"
VERSION="${VERSION:-$(scripts/version.sh)}"
COMMIT="${COMMIT:-$(git rev-parse HEAD)}"
TOOL="${CONTAINER_TOOL:-podman}"
CA_BUNDLE="${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
# The build context; kept between runs so that an unchanged tree rebuilds
# from the caches.
CONTEXT="${IMAGE_CONTEXT:-${CACHE_DIR:-$HOME/.cache/fabric-reconciler}/image-context}"

[[ "$VERSION" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || { echo "build-image: version $VERSION is not a valid image tag" >&2; exit 1; }
command -v "$TOOL" >/dev/null || { echo "build-image: $TOOL is not installed (make setup installs podman)" >&2; exit 1; }
[ -r "$CA_BUNDLE" ] || { echo "build-image: no CA bundle at $CA_BUNDLE (Debian: ca-certificates)" >&2; exit 1; }

rm -rf "$CONTEXT"
mkdir -p "$CONTEXT/rootfs/usr/local/bin" "$CONTEXT/rootfs/etc/ssl/certs"
pkg=github.com/fabric-reconciler/fabric-reconciler/internal/buildinfo
CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false \
  -ldflags "-s -w -X $pkg.version=$VERSION -X $pkg.commit=$COMMIT" \
  -o "$CONTEXT/rootfs/usr/local/bin/fabric-reconciler" ./cmd/fabric-reconciler
install -m 0644 "$CA_BUNDLE" "$CONTEXT/rootfs/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$CONTEXT/rootfs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' > "$CONTEXT/rootfs/etc/group"
sed -e "s/@VERSION@/$VERSION/g" -e "s/@COMMIT@/$COMMIT/g" image/Containerfile > "$CONTEXT/Containerfile"
# Same content, same layer: fixed times and modes.
find "$CONTEXT/rootfs" -exec touch -h -d @0 {} +

ref="$IMAGE:$VERSION"
"$TOOL" build --quiet -f "$CONTEXT/Containerfile" -t "$ref" "$CONTEXT" >/dev/null
echo "$ref"
