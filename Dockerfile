# fabric-reconciler image: a static binary on a distroless base, running as
# a non-root user with nothing else in the image (no shell, no libc).
#   docker build -t <registry>/fabric-reconciler:<tag> .
# examples/deploy runs it with a read-only root filesystem.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# CGO off: a static binary that needs no libc (test/deploy checks it).
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/fabric-reconciler ./cmd/fabric-reconciler

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/fabric-reconciler /usr/local/bin/fabric-reconciler
# 65532 is distroless' "nonroot"; the Deployment also insists on non-root.
USER 65532:65532
EXPOSE 9090
ENTRYPOINT ["/usr/local/bin/fabric-reconciler"]
CMD ["run", "--config=/etc/fabric-reconciler/fabric.yaml"]
