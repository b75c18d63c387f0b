package deploy

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// requireImageTools: the image test builds with podman and runs the image's
// entrypoint under chroot, as root. Under -short it is skipped; otherwise
// it fails without them (make setup installs podman; CI runs as root).
func requireImageTools(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs podman and root (chroot): run make test")
	}
	if os.Geteuid() != 0 {
		if os.Getenv(testenv.SkipRootEnv) == "1" {
			t.Skipf("needs root (chroot); skipped: %s=1", testenv.SkipRootEnv)
		}
		t.Fatal("this test needs root (chroot into the image's filesystem): run it as root (make test does), or go test -short to skip it")
	}
	podman, err := exec.LookPath("podman")
	if err != nil {
		t.Fatal("podman is not installed: make setup installs it (scripts/apt-needs.d/image.txt)")
	}
	return podman
}

func command(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s%s", name, strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// TestImage builds the OCI image as a release would (scripts/build-image.sh:
// podman, FROM scratch, no daemon, nothing pulled), then checks what
// `podman image inspect` says (a version tag, a non-root user, the
// entrypoint), exports the image's filesystem (podman create + export, as
// podman run cannot run containers on this machine's cgroups) and runs the
// entrypoint as the image's user under chroot: `version` gives the stamped
// version and commit, the Deployment's arguments are flags run knows, and
// `plan --offline` on the reference lab prints exactly what the host's
// binary prints.
func TestImage(t *testing.T) {
	t.Parallel()
	podman := requireImageTools(t)
	root := testenv.RepoRoot()

	start := time.Now()
	out := command(t, root, filepath.Join(root, "scripts/build-image.sh"))
	ref := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	t.Logf("built %s in %s", ref, time.Since(start).Round(100*time.Millisecond))
	version := strings.TrimSpace(command(t, root, filepath.Join(root, "scripts/version.sh")))
	commit := strings.TrimSpace(command(t, root, "git", "rev-parse", "HEAD"))
	if !strings.HasSuffix(ref, ":"+version) || strings.HasSuffix(ref, ":latest") {
		t.Errorf("image %s: want it tagged with the version %s", ref, version)
	}

	var inspect []struct {
		RepoTags []string
		Config   struct {
			User       string
			Entrypoint []string
			Cmd        []string
			Labels     map[string]string
		}
	}
	if err := json.Unmarshal([]byte(command(t, root, podman, "image", "inspect", ref)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("podman image inspect %s: %v", ref, err)
	}
	img := inspect[0].Config
	uid, gid, _ := strings.Cut(img.User, ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Fatalf("image user %q: want a numeric non-root uid (a pod's runAsNonRoot checks it)", img.User)
	}
	if gid == "" {
		gid = uid
	}
	if len(img.Entrypoint) != 1 {
		t.Fatalf("entrypoint %v", img.Entrypoint)
	}
	if img.Labels["org.opencontainers.image.version"] != version || img.Labels["org.opencontainers.image.revision"] != commit {
		t.Errorf("labels %v: want version %s, revision %s", img.Labels, version, commit)
	}
	if strings.Join(img.Cmd, " ") != "run --config=/etc/fabric-reconciler/fabric.yaml" {
		t.Errorf("cmd %v", img.Cmd)
	}

	// The image's filesystem, as a container would see it.
	rootfs := filepath.Join(t.TempDir(), "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(command(t, root, podman, "create", ref))
	defer command(t, root, podman, "rm", id)
	tarball := filepath.Join(t.TempDir(), "rootfs.tar")
	command(t, root, podman, "export", "-o", tarball, id)
	command(t, root, "tar", "-C", rootfs, "-xf", tarball)

	entry := filepath.Join(rootfs, img.Entrypoint[0])
	f, err := elf.Open(entry)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a dynamic loader (PT_INTERP): not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs %v", libs)
	}
	f.Close()
	if _, err := os.Stat(filepath.Join(rootfs, "etc/ssl/certs/ca-certificates.crt")); err != nil {
		t.Errorf("no CA bundle in the image: %v", err)
	}

	// The reference lab, readable by the image's user, inside the image.
	lab := filepath.Join(rootfs, "lab")
	command(t, root, "cp", "-r", filepath.Join(root, "examples/haystack"), lab)
	command(t, root, "chmod", "-R", "a+rX", lab)

	inImage := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command("chroot", append([]string{"--userspec=" + uid + ":" + gid, rootfs, img.Entrypoint[0]}, args...)...)
		cmd.Env = []string{"HOME=/home/nonroot"}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("chroot: %v", err)
		}
		return stdout.String(), stderr.String(), code
	}

	got, stderr, code := inImage("version")
	if code != 0 || !strings.Contains(got, "fabric-reconciler "+version+" (commit "+commit) {
		t.Errorf("version in the image: exit %d, %q %s; want version %s, commit %s", code, got, stderr, version, commit)
	}

	// The Deployment's arguments are flags run knows: it gets as far as
	// reading the (absent) configuration.
	_, stderr, _ = inImage(deploymentArgs(t)...)
	if !strings.Contains(stderr, "/etc/fabric-reconciler/fabric.yaml") || strings.Contains(stderr, "unknown flag") {
		t.Errorf("run with the Deployment's arguments: %s", stderr)
	}

	// The same plan as the host's binary, from the same relative paths.
	args := []string{"plan", "--offline", "--config", "lab/fabric.yaml", "--cluster-state", "lab/cluster"}
	imagePlan, stderr, code := inImage(args...)
	// The count follows the example lab; the comparison below is the test.
	if code != 0 || !regexp.MustCompile(`Plan: [1-9][0-9]* to add`).MatchString(imagePlan) {
		t.Fatalf("plan in the image: exit %d\n%s\n%s", code, imagePlan, stderr)
	}
	host := filepath.Join(t.TempDir(), "fabric-reconciler")
	command(t, root, "go", "build", "-o", host, "./cmd/fabric-reconciler")
	if hostPlan := command(t, rootfs, host, args...); hostPlan != imagePlan {
		t.Errorf("the image's plan differs from the host binary's:\n--- image\n%s\n--- host\n%s", imagePlan, hostPlan)
	}
}

// deploymentArgs reads the container's args from examples/deploy.
func deploymentArgs(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples/deploy/base/deployment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^[ \t]+args:\n((?:[ \t]+- .*\n)+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no args in examples/deploy/base/deployment.yaml")
	}
	var args []string
	for _, l := range strings.Split(strings.TrimSpace(string(m[1])), "\n") {
		args = append(args, strings.TrimPrefix(strings.TrimSpace(l), "- "))
	}
	if len(args) == 0 || args[0] != "run" {
		t.Fatalf("Deployment args %v do not start with run", args)
	}
	return args
}
