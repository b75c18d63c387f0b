// Package kubeapi runs a real kube-apiserver (with etcd) on 127.0.0.1 for
// tests. scripts/setup.d/50-kube-apiserver.sh builds kube-apiserver and
// kubectl from k8s.io/kubernetes and caches them under
// $CACHE_DIR/kube/<version>/; etcd is Debian's etcd-server.
//
//	srv := kubeapi.Start(t, kubeapi.Options{CRDs: kubeapi.AllCRDs})
//	client := kubernetes.NewForConfigOrDie(srv.Config())
//
// Every server listens on random loopback ports, keeps its data on tmpfs
// when there is one, and is torn down by t.Cleanup. The apiserver can be
// stopped and started again on the same port and etcd (StopAPIServer,
// StartAPIServer) to test what survives an apiserver restart.
package kubeapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// Version is the Kubernetes release the setup script builds.
const Version = "v1.34.2"

// SkipEnv, set to 1, turns tests that need the built kube-apiserver into
// skips when it is missing. CI never sets it: `make test` builds the binary
// first (scripts/setup.d/50-kube-apiserver.sh).
const SkipEnv = "FABRIC_RECONCILER_SKIP_KUBEAPI_TESTS"

// ServiceCIDR is the apiserver's service cluster IP range: the reference
// lab's, so that its exported Services keep their cluster IPs.
const ServiceCIDR = "172.28.0.0/16"

// CRD manifests under test/crds.
var (
	CalicoCRDV1 = "test/crds/calico-crd-v1.yaml"
	CalicoV3    = "test/crds/calico-v3.yaml"
	MetalLB     = "test/crds/metallb.yaml"
	PureLB      = "test/crds/purelb.yaml"
	// ServiceMonitor is the Prometheus operator's monitoring.coreos.com/v1
	// ServiceMonitor (a minimal stand-in), for the deployment manifests.
	ServiceMonitor = "test/crds/servicemonitor.yaml"
	// AllCRDs but the projectcalico.org/v3 stand-ins: what a cluster with
	// Calico's Kubernetes datastore and MetalLB/PureLB serves.
	AllCRDs = []string{CalicoCRDV1, MetalLB, PureLB}
)

// Authorization modes.
const (
	AlwaysAllow = "AlwaysAllow"
	RBAC        = "RBAC"
)

// User is an extra bearer-token identity.
type User struct {
	Name   string
	Groups []string
}

// Options shape one server.
type Options struct {
	// Authorization is AlwaysAllow (the default) or RBAC.
	Authorization string
	// CRDs are manifest files, relative to the repository root or
	// absolute, installed (and waited for) after start.
	CRDs []string
	// Users get a bearer token each besides the admin (system:masters).
	Users []User
	// NodePortRange replaces the apiserver's node port range (default
	// 30000-32767): a cluster of many Local LoadBalancer services needs a
	// health-check node port each.
	NodePortRange string
}

// Binaries are the programs a server runs.
type Binaries struct {
	APIServer, Kubectl, Etcd string
}

// FindBinaries locates kube-apiserver and kubectl in the build cache
// ($KUBE_APISERVER and $KUBECTL override) and etcd on $PATH ($ETCD overrides).
func FindBinaries() (Binaries, error) {
	dir := filepath.Join(testenv.CacheDir(), "kube", Version)
	b := Binaries{
		APIServer: envOr("KUBE_APISERVER", filepath.Join(dir, "kube-apiserver")),
		Kubectl:   envOr("KUBECTL", filepath.Join(dir, "kubectl")),
		Etcd:      os.Getenv("ETCD"),
	}
	var missing []string
	for _, p := range []string{b.APIServer, b.Kubectl} {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			missing = append(missing, p)
		}
	}
	if b.Etcd == "" {
		p, err := exec.LookPath("etcd")
		if err != nil {
			missing = append(missing, "etcd on $PATH (Debian package etcd-server)")
		}
		b.Etcd = p
	}
	if len(missing) > 0 {
		return b, fmt.Errorf("missing %s: run `make setup` (scripts/setup-test-deps.sh builds kube-apiserver %s into %s)",
			strings.Join(missing, ", "), Version, dir)
	}
	return b, nil
}

// RequireBinaries returns the binaries. With -short (`make test-short`) it
// skips the test: starting kube-apiserver takes seconds per test, and
// building it minutes. Otherwise it fails the test when they are missing
// (`make test` builds them first), or skips it with
// FABRIC_RECONCILER_SKIP_KUBEAPI_TESTS=1.
func RequireBinaries(t testing.TB) Binaries {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a built kube-apiserver and etcd: run make test")
	}
	b, err := FindBinaries()
	if err == nil {
		return b
	}
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("%v; skipped: %s=1", err, SkipEnv)
	}
	t.Fatalf("%v; or go test -short for the tests that do not need it", err)
	return b
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// Server is a running etcd and kube-apiserver.
type Server struct {
	bin      Binaries
	opts     Options
	dir      string
	etcdURL  string
	port     int
	host     string
	tokens   map[string]string // user -> token
	caFile   string
	logf     func(format string, a ...any)
	mu       sync.Mutex
	etcd     *process
	apiSrv   *process
	restarts int
}

// AdminUser is the identity of Config: a member of system:masters.
const AdminUser = "admin"

// Start runs etcd and kube-apiserver, waits for /readyz and installs the
// CRDs. It fails the test on any error; t.Cleanup stops everything.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := start(RequireBinaries(t), opts, t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func start(bin Binaries, opts Options, logf func(string, ...any)) (*Server, error) {
	if opts.Authorization == "" {
		opts.Authorization = AlwaysAllow
	}
	if opts.Authorization != AlwaysAllow && opts.Authorization != RBAC {
		return nil, fmt.Errorf("kubeapi: authorization %q: use AlwaysAllow or RBAC", opts.Authorization)
	}
	base := ""
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		base = "/dev/shm" // etcd fsyncs every write: tmpfs makes that free
	}
	dir, err := os.MkdirTemp(base, "kubeapi-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, opts: opts, dir: dir, tokens: map[string]string{}, logf: logf}
	ok := false
	defer func() {
		if !ok {
			s.Close()
		}
	}()
	if err := s.writeAuthFiles(); err != nil {
		return nil, err
	}
	// Free ports can be taken between probing and binding; retry then.
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if lastErr = s.startEtcd(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	for attempt := 0; attempt < 3; attempt++ {
		if s.port, lastErr = freePort(); lastErr != nil {
			return nil, lastErr
		}
		if lastErr = s.StartAPIServer(); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		return nil, lastErr
	}
	if len(opts.CRDs) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := InstallCRDs(ctx, s.Config(), opts.CRDs...); err != nil {
			return nil, err
		}
	}
	ok = true
	return s, nil
}

func (s *Server) writeAuthFiles() error {
	var lines []string
	add := func(name string, groups []string) error {
		tok, err := randomHex(16)
		if err != nil {
			return err
		}
		s.tokens[name] = tok
		// token,user,uid,"group1,group2"
		lines = append(lines, fmt.Sprintf("%s,%s,%s,\"%s\"", tok, name, name, strings.Join(groups, ",")))
		return nil
	}
	if err := add(AdminUser, []string{"system:masters"}); err != nil {
		return err
	}
	for _, u := range s.opts.Users {
		if u.Name == AdminUser || u.Name == "" || strings.ContainsAny(u.Name, ",\"\n") {
			return fmt.Errorf("kubeapi: bad user name %q", u.Name)
		}
		if err := add(u.Name, u.Groups); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(s.dir, "tokens.csv"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	// Service-account signing key, made fresh for each server.
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.dir, "sa.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) startEtcd() error {
	cport, err := freePort()
	if err != nil {
		return err
	}
	pport, err := freePort()
	if err != nil {
		return err
	}
	client := fmt.Sprintf("http://127.0.0.1:%d", cport)
	peer := fmt.Sprintf("http://127.0.0.1:%d", pport)
	data := filepath.Join(s.dir, "etcd")
	_ = os.RemoveAll(data)
	p, err := startProcess(filepath.Join(s.dir, "etcd.log"), s.bin.Etcd,
		"--name", "kubeapi", "--data-dir", data,
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "kubeapi="+peer, "--log-level", "warn")
	if err != nil {
		return err
	}
	s.etcd = p
	s.etcdURL = client
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("etcd exited: %s", p.tail())
		}
		resp, err := http.Get(client + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.stop()
	return fmt.Errorf("etcd did not become healthy in 30s: %s", p.tail())
}

// StartAPIServer starts kube-apiserver (again, after StopAPIServer) on the
// server's port and etcd, and waits until /readyz answers ok.
func (s *Server) StartAPIServer() error {
	s.mu.Lock()
	if s.apiSrv != nil && !s.apiSrv.exited() {
		s.mu.Unlock()
		return errors.New("kubeapi: apiserver is already running")
	}
	s.restarts++
	logName := fmt.Sprintf("kube-apiserver.%d.log", s.restarts)
	s.mu.Unlock()

	certDir := filepath.Join(s.dir, "certs")
	saKey := filepath.Join(s.dir, "sa.key")
	args := []string{
		"--etcd-servers", s.etcdURL,
		"--cert-dir", certDir,
		"--bind-address", "127.0.0.1",
		"--advertise-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(s.port),
		"--token-auth-file", filepath.Join(s.dir, "tokens.csv"),
		"--service-account-key-file", saKey,
		"--service-account-signing-key-file", saKey,
		"--service-account-issuer", "https://kubeapi.test",
		"--authorization-mode", s.opts.Authorization,
		"--service-cluster-ip-range", ServiceCIDR,
		"--disable-admission-plugins", "ServiceAccount",
		// No kube-controller-manager runs: nothing maintains the
		// kubernetes Service's endpoints, so the apiserver need not either.
		"--endpoint-reconciler-type", "none",
		"--profiling=false",
		"--v", "1",
	}
	if s.opts.NodePortRange != "" {
		args = append(args, "--service-node-port-range", s.opts.NodePortRange)
	}
	p, err := startProcess(filepath.Join(s.dir, logName), s.bin.APIServer, args...)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.apiSrv = p
	s.host = fmt.Sprintf("https://127.0.0.1:%d", s.port)
	s.caFile = filepath.Join(certDir, "apiserver.crt")
	s.mu.Unlock()
	if err := s.waitReady(p, 90*time.Second); err != nil {
		p.stop()
		return err
	}
	return nil
}

// StopAPIServer stops kube-apiserver (SIGTERM, then SIGKILL after 3 s),
// leaving etcd and its data in place.
func (s *Server) StopAPIServer() {
	s.mu.Lock()
	p := s.apiSrv
	s.mu.Unlock()
	if p != nil {
		p.stop()
	}
}

func (s *Server) waitReady(p *process, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	// The apiserver writes its self-signed certificate at start (and reuses
	// it on a restart).
	for {
		if _, err := os.Stat(s.caFile); err == nil {
			break
		}
		if p.exited() {
			return fmt.Errorf("kube-apiserver exited: %s", p.tail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kube-apiserver wrote no certificate in %s: %s", timeout, p.tail())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cfg := s.Config()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	var last string
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("kube-apiserver exited: %s", p.tail())
		}
		req, _ := http.NewRequest(http.MethodGet, cfg.Host+"/readyz", nil)
		resp, err := hc.Do(req)
		if err == nil {
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(b.String()))
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("kube-apiserver not ready after %s (last answer: %.300s): %s", timeout, last, p.tail())
}

// Host is the apiserver's URL.
func (s *Server) Host() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.host
}

// Config is a rest.Config for the admin (system:masters).
func (s *Server) Config() *rest.Config { return s.UserConfig(AdminUser) }

// UserConfig is a rest.Config authenticating as one of Options.Users.
func (s *Server) UserConfig(user string) *rest.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok, ok := s.tokens[user]
	if !ok {
		panic("kubeapi: no user " + user)
	}
	return &rest.Config{
		Host:            s.host,
		BearerToken:     tok,
		TLSClientConfig: rest.TLSClientConfig{CAFile: s.caFile},
		QPS:             1000,
		Burst:           1000,
	}
}

// Kubeconfig writes a kubeconfig file for a user (AdminUser or one of
// Options.Users) and returns its path.
func (s *Server) Kubeconfig(user string) (string, error) {
	cfg := s.UserConfig(user)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["kubeapi"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthority: cfg.CAFile}
	kc.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["kubeapi"] = &clientcmdapi.Context{Cluster: "kubeapi", AuthInfo: user}
	kc.CurrentContext = "kubeapi"
	path := filepath.Join(s.dir, "kubeconfig-"+user)
	return path, clientcmd.WriteToFile(*kc, path)
}

// Dir is the server's scratch folder (logs, certificates, etcd data).
func (s *Server) Dir() string { return s.dir }

// Binaries are the programs the server runs (kubectl included).
func (s *Server) Binaries() Binaries { return s.bin }

// Close stops kube-apiserver and etcd and removes their data.
func (s *Server) Close() {
	s.mu.Lock()
	api, etcd := s.apiSrv, s.etcd
	s.mu.Unlock()
	if api != nil {
		api.stop()
	}
	if etcd != nil {
		etcd.stop()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// LogTail returns the end of the current apiserver's log, for failure messages.
func (s *Server) LogTail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.apiSrv == nil {
		return ""
	}
	return s.apiSrv.tail()
}

// process is a child process whose output goes to a log file.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	once sync.Once
}

func startProcess(logPath, bin string, args ...string) (*process, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	// The child dies with the test binary, even when that is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", filepath.Base(bin), err)
	}
	p := &process{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *process) stop() {
	p.once.Do(func() {
		if p.exited() {
			return
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(3 * time.Second):
			// kube-apiserver can take 10 s and more to drain its clients'
			// connections; what the tests need is that it is gone.
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// tail returns the last lines of the process's log.
func (p *process) tail() string {
	b, _ := os.ReadFile(p.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return "\n" + strings.Join(lines, "\n")
}
