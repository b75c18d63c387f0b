// Package buildinfo is the build's identity: the version and commit the
// release build stamps in with the linker,
//
//	go build -ldflags "-X github.com/fabric-reconciler/fabric-reconciler/internal/buildinfo.version=$(git describe ...)
//	                   -X github.com/fabric-reconciler/fabric-reconciler/internal/buildinfo.commit=$(git rev-parse HEAD)"
//
// (scripts/build-image.sh does), and the Go version. A plain `go build`
// falls back to what the Go toolchain recorded (module version, VCS
// revision), else "devel" and "unknown".
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set by the linker (-X); empty in a plain build.
var (
	version string
	commit  string
)

// Info is what `fabric-reconciler version` prints and build_info exports.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the build's identity.
func Get() Info {
	i := Info{Version: version, Commit: commit, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && i.Commit == "" {
				i.Commit = s.Value
			}
		}
	}
	if i.Version == "" {
		i.Version = "devel"
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	return i
}
