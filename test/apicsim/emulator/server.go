// Package emulator is an APIC emulator for the classes fabric-reconciler
// uses: a management information tree with class metadata, the REST API's
// write and query semantics, login/refresh/logout and certificate-signature
// authentication, fault injection and a request log. Real clients
// (aci-go-client, Ansible's cisco.aci) drive it unchanged.
package emulator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// Options configure an emulator.
type Options struct {
	// Users maps user names to passwords for aaaLogin.
	Users map[string]string
	// TokenTTL is the session lifetime (refreshTimeoutSeconds); default 600 s.
	TokenTTL time.Duration
	// DuplicateCookie is how several APIC-Cookie values are read: first
	// (default), last or any.
	DuplicateCookie string
	// Now replaces the clock (tests).
	Now func() time.Time
	// Journal records, for every write a client commits over HTTP, each
	// object it created, modified or deleted, children removed with a
	// deleted parent included (Journal, JournalEntry). Off by default: each
	// commit then costs a walk of the whole tree.
	Journal bool
	// SubscriptionTimeout is how long a subscription lives without a
	// refresh when its query names no refresh-timeout (default
	// DefaultSubscriptionTimeout; see subscribe.go).
	SubscriptionTimeout time.Duration
}

// Counters are the emulator's counters.
type Counters struct {
	Logins, FailedLogins, Refreshes, Logouts int
	SignedRequests, BadSignatures            int
	DuplicateCookies                         int
	Commits, RejectedPosts                   int
	FaultsFired                              int
}

// Request is one logged request.
type Request struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Query  string `json:"query"`
	Status int    `json:"status"` // 0: the connection was reset
	// User is who the request acted for (the logged-in or signing user),
	// as an APIC's audit log records it; "" when it was not authenticated.
	// Tests read it; /_emulator/requests keeps to method, path, query, status.
	User  string    `json:"-"`
	Time  time.Time `json:"-"`
	Body  string    `json:"-"`
	Fault string    `json:"-"`
}

// Sim is one emulated APIC.
type Sim struct {
	opts Options

	mu       sync.Mutex
	tree     *tree
	sessions map[string]*session
	issued   []string
	certs    map[string]*rsa.PublicKey
	faults   []*Fault
	log      []Request
	journal  []JournalEntry
	counters Counters
	subs     subState // query subscriptions (subscribe.go)
	// oper are the operational objects a test set (oper.go).
	oper []OperMO
}

// New returns an emulator with an empty tree (just uni).
func New(opts Options) *Sim {
	if opts.TokenTTL == 0 {
		opts.TokenTTL = 600 * time.Second
	}
	if opts.Users == nil {
		opts.Users = map[string]string{}
	}
	return &Sim{opts: opts, tree: newTree(), sessions: map[string]*session{}, certs: map[string]*rsa.PublicKey{}}
}

func (s *Sim) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// FaultKind names an injected failure.
type FaultKind string

const (
	// FaultLatency delays the request by Delay, then answers normally.
	FaultLatency FaultKind = "latency"
	// FaultThrottle answers with nginx's HTML error page, status 503 (or
	// Status, e.g. 429) and a Retry-After header when RetryAfter is set.
	FaultThrottle FaultKind = "throttle"
	// FaultServerError answers with Status (default 500) and an APIC error.
	FaultServerError FaultKind = "server-error"
	// FaultTokenTimeout ends the request's session and answers 403 Token timeout.
	FaultTokenTimeout FaultKind = "token-timeout"
	// FaultReset resets the TCP connection before the request is processed.
	FaultReset FaultKind = "reset"
	// FaultResetAfterCommit processes the request, then resets the
	// connection instead of answering: the client cannot know it worked.
	FaultResetAfterCommit FaultKind = "reset-after-commit"
	// FaultLatencyAfterCommit processes the request, then holds the answer
	// for Delay: a client whose deadline passes first gives up on a write
	// the APIC has committed. The safety review saw this against the
	// emulator when a Retry-After wait used up the call's deadline and the
	// retried POST then committed (case 5.4); a busy APIC answering a large
	// POST late does the same.
	FaultLatencyAfterCommit FaultKind = "latency-after-commit"
)

// Fault is one failure to inject into matching requests.
type Fault struct {
	Kind FaultKind `json:"kind"`
	// Method and PathPrefix select requests ("" matches any).
	Method     string `json:"method,omitempty"`
	PathPrefix string `json:"pathPrefix,omitempty"`
	// Skip lets this many matching requests through first; Times is how many
	// it then hits (0: every one until ClearFaults).
	Skip       int           `json:"skip,omitempty"`
	Times      int           `json:"times,omitempty"`
	Delay      time.Duration `json:"delay,omitempty"`
	Status     int           `json:"status,omitempty"`
	RetryAfter string        `json:"retryAfter,omitempty"`

	hits int
}

var faultKinds = map[FaultKind]bool{FaultLatency: true, FaultThrottle: true, FaultServerError: true, FaultTokenTimeout: true,
	FaultReset: true, FaultResetAfterCommit: true, FaultLatencyAfterCommit: true}

// AddFault injects a failure.
func (s *Sim) AddFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every injected failure.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// fault returns the fault that hits this request, if any (with s.mu held).
func (s *Sim) fault(r *http.Request) *Fault {
	for _, f := range s.faults {
		if (f.Method != "" && f.Method != r.Method) || !strings.HasPrefix(r.URL.Path, f.PathPrefix) {
			continue
		}
		if f.Times > 0 && f.hits >= f.Skip+f.Times {
			continue
		}
		f.hits++
		if f.hits <= f.Skip {
			continue
		}
		s.counters.FaultsFired++
		return f
	}
	return nil
}

// Requests returns the request log.
func (s *Sim) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// ResetLog clears the request log and the counters.
func (s *Sim) ResetLog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
	s.journal = nil
	s.counters = Counters{}
}

// Counters returns the counters.
func (s *Sim) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counters
}

// Count is the number of logged requests with this method whose path starts
// with prefix.
func (s *Sim) Count(method, prefix string) int {
	n := 0
	for _, r := range s.Requests() {
		if (method == "" || r.Method == method) && strings.HasPrefix(r.Path, prefix) {
			n++
		}
	}
	return n
}

// ServeHTTP is the emulator's single handler. Paths are parsed by hand:
// DNs hold '/' and brackets that a mux would clean or split.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/socket") {
		s.serveSocket(w, r) // subscription notifications (subscribe.go)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	if r.URL.Path == "/_emulator/faults" {
		// The program's switch for faults: POST one Fault as JSON (delay in
		// nanoseconds), DELETE them all.
		switch r.Method {
		case http.MethodPost:
			var f Fault
			if err := json.Unmarshal(body, &f); err != nil || !faultKinds[f.Kind] {
				http.Error(w, "want a JSON fault with a known kind", http.StatusBadRequest)
				return
			}
			s.AddFault(f)
		case http.MethodDelete:
			s.ClearFaults()
		default:
			http.Error(w, "POST or DELETE", http.StatusMethodNotAllowed)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.URL.Path == "/_emulator/requests" {
		out := s.Requests()
		if out == nil {
			out = []Request{}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
		return
	}
	entry := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Time: time.Now(), Body: string(body)}

	s.mu.Lock()
	f := s.fault(r)
	s.mu.Unlock()
	if f != nil {
		entry.Fault = string(f.Kind)
		switch f.Kind {
		case FaultLatency:
			time.Sleep(f.Delay)
			f = nil
		case FaultReset:
			s.record(entry, 0)
			resetConn(w)
			return
		}
	}

	s.mu.Lock()
	rec := &statusRecorder{ResponseWriter: w}
	var late *bufferedAnswer
	switch {
	case f != nil && f.Kind == FaultResetAfterCommit:
		entry.User = s.route(&discard{header: http.Header{}}, r, body)
	case f != nil && f.Kind == FaultLatencyAfterCommit:
		late = &bufferedAnswer{header: http.Header{}}
		entry.User = s.route(late, r, body)
		rec.status = late.status
	case f != nil:
		s.injected(rec, r, f)
	default:
		entry.User = s.route(rec, r, body)
	}
	status := rec.status
	if f != nil && f.Kind == FaultResetAfterCommit {
		status = 0
	}
	entry.Status = status
	s.log = append(s.log, entry)
	s.mu.Unlock()
	switch {
	case f != nil && f.Kind == FaultResetAfterCommit:
		resetConn(w)
	case late != nil:
		// Committed; the answer leaves after Delay, or never if the
		// client hung up first.
		select {
		case <-time.After(f.Delay):
			late.copyTo(w)
		case <-r.Context().Done():
		}
	}
}

// bufferedAnswer keeps an answer to send later (FaultLatencyAfterCommit).
type bufferedAnswer struct {
	header http.Header
	status int
	body   []byte
}

func (b *bufferedAnswer) Header() http.Header { return b.header }
func (b *bufferedAnswer) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = 200
	}
	b.body = append(b.body, p...)
	return len(p), nil
}
func (b *bufferedAnswer) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedAnswer) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body)
}

func (s *Sim) record(e Request, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Status = status
	s.log = append(s.log, e)
}

// injected answers a request with a failure (with s.mu held).
func (s *Sim) injected(w http.ResponseWriter, r *http.Request, f *Fault) {
	switch f.Kind {
	case FaultThrottle:
		st := f.Status
		if st == 0 {
			st = 503
		}
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(st)
		fmt.Fprintf(w, nginxPage, st, http.StatusText(st), st, http.StatusText(st))
	case FaultServerError:
		st := f.Status
		if st == 0 {
			st = 500
		}
		writeError(w, errf(st, "500", "Internal error occurred in the APIC (injected)"))
	case FaultTokenTimeout:
		for _, tok := range apicCookies(r) {
			delete(s.sessions, tok)
		}
		writeError(w, errf(403, "403", textTokenTimeout))
	}
}

const nginxPage = "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"

// resetConn closes the client's TCP connection with a reset.
func resetConn(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if tcp, ok := raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = raw.Close()
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.ResponseWriter.Write(b)
}

type discard struct {
	header http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(code int)        { d.status = code }

// route answers one request (with s.mu held) and returns the user it was
// made for.
func (s *Sim) route(w http.ResponseWriter, r *http.Request, body []byte) (user string) {
	p := r.URL.Path
	switch {
	case p == "/api/aaaLogin.json" && r.Method == http.MethodPost:
		if s.handleLogin(w, body) == http.StatusOK {
			return loginName(body)
		}
		return ""
	case p == "/api/aaaLogin.json":
		writeError(w, errf(400, "400", "Request failed, aaaLogin needs POST"))
		return ""
	}
	if !strings.HasPrefix(p, "/api/") {
		notFound(w)
		return ""
	}
	tok, user, aerr := s.authenticate(r, body)
	if aerr != nil {
		writeError(w, aerr)
		return ""
	}
	switch p {
	case "/api/aaaRefresh.json":
		if tok == "" {
			writeError(w, errf(403, "403", textNeedToken))
			return user
		}
		s.counters.Refreshes++
		s.issue(w, user)
		s.sessionRefreshed(tok, s.issued[len(s.issued)-1])
		return user
	case "/api/subscriptionRefresh.json":
		s.handleSubscriptionRefresh(w, r)
		return user
	case "/api/aaaLogout.json":
		delete(s.sessions, tok)
		s.counters.Logouts++
		writeJSON(w, 200, imdata(nil, 0))
		return user
	}
	s.routeAPI(w, r, body)
	return user
}

// routeAPI answers the object and class requests of an authenticated user.
func (s *Sim) routeAPI(w http.ResponseWriter, r *http.Request, body []byte) {
	p := r.URL.Path
	rest := strings.TrimPrefix(p, "/api/")
	rest = strings.TrimPrefix(rest, "node/")
	if !strings.HasSuffix(rest, ".json") {
		notFound(w)
		return
	}
	rest = strings.TrimSuffix(rest, ".json")
	switch {
	case rest == "mo" && r.Method == http.MethodPost:
		s.handlePost(w, r, "", body)
	case strings.HasPrefix(rest, "mo/"):
		dn := CanonicalDN(strings.TrimPrefix(rest, "mo/"))
		switch r.Method {
		case http.MethodGet:
			s.handleGetMO(w, r, dn)
		case http.MethodPost:
			s.handlePost(w, r, dn, body)
		case http.MethodDelete:
			s.handleDelete(w, r, dn)
		default:
			writeError(w, errf(405, "405", "Method not allowed"))
		}
	case strings.HasPrefix(rest, "class/") && r.Method == http.MethodGet:
		spec := strings.TrimPrefix(rest, "class/")
		scope, class := "", spec
		if i := strings.LastIndexByte(spec, '/'); i >= 0 {
			scope, class = spec[:i], spec[i+1:]
		}
		o, err := parseQuery(r.URL.Query())
		if err != nil {
			writeError(w, err)
			return
		}
		if operClasses[class] {
			props, total := s.queryOperClass(scope, class, o)
			writeJSON(w, 200, imdata(props, total))
			return
		}
		props, total, qerr := s.queryClass(s.tree, scope, class, o)
		if qerr != nil {
			writeError(w, qerr)
			return
		}
		if subscribeRequested(r) {
			id, serr := s.subscribe(r, "class", scope, class, o)
			if serr != nil {
				writeError(w, serr)
				return
			}
			writeJSON(w, 200, withSubscription(imdata(props, total), id))
			return
		}
		writeJSON(w, 200, imdata(props, total))
	default:
		notFound(w)
	}
}

func (s *Sim) handleGetMO(w http.ResponseWriter, r *http.Request, dn string) {
	o, err := parseQuery(r.URL.Query())
	if err != nil {
		writeError(w, err)
		return
	}
	if isOperDN(dn) {
		props, total := s.queryOper(dn, o)
		writeJSON(w, 200, imdata(props, total))
		return
	}
	props, total := s.queryMO(s.tree, dn, o)
	if subscribeRequested(r) {
		id, serr := s.subscribe(r, "mo", dn, "", o)
		if serr != nil {
			writeError(w, serr)
			return
		}
		writeJSON(w, 200, withSubscription(imdata(props, total), id))
		return
	}
	writeJSON(w, 200, imdata(props, total))
}

// handlePost applies a payload atomically: on a copy of the tree, swapped
// in only when every object was accepted.
func (s *Sim) handlePost(w http.ResponseWriter, r *http.Request, dn string, body []byte) {
	n, perr := parsePayload(body)
	if perr != nil {
		s.counters.RejectedPosts++
		writeError(w, perr)
		return
	}
	work := s.tree.clone()
	res, changes, err := s.applyPost(work, dn, n, s.now())
	if err != nil {
		s.counters.RejectedPosts++
		writeError(w, err)
		return
	}
	s.commit(r, work)
	if len(changes) > 0 {
		s.counters.Commits++
	}
	if r.URL.Query().Get("rsp-subtree") == "modified" && len(changes) > 0 {
		writeJSON(w, 200, imdata([]Props{res.toProps(true)}, 1))
		return
	}
	writeJSON(w, 200, imdata(nil, 0))
}

func (s *Sim) handleDelete(w http.ResponseWriter, r *http.Request, dn string) {
	classes, _, err := resolveDN(dn)
	if err != nil {
		writeError(w, err)
		return
	}
	work := s.tree.clone()
	n := &node{class: classes[len(classes)-1].Name, attrs: map[string]string{"dn": dn, "status": "deleted"}}
	if _, _, err := s.applyPost(work, dn, n, s.now()); err != nil {
		writeError(w, err)
		return
	}
	s.commit(r, work)
	writeJSON(w, 200, imdata(nil, 0))
}

// response is the APIC's answer envelope (totalCount first, as the APIC
// writes it).
type response struct {
	TotalCount string `json:"totalCount"`
	Imdata     []any  `json:"imdata"`
}

func imdata(props []Props, total int) response {
	out := response{TotalCount: fmt.Sprint(total), Imdata: []any{}}
	for _, p := range props {
		out.Imdata = append(out.Imdata, p)
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) int {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return status
}

func writeError(w http.ResponseWriter, e *apicError) int {
	return writeJSON(w, e.HTTP, response{TotalCount: "1", Imdata: []any{
		map[string]any{"error": map[string]any{"attributes": map[string]string{"code": e.Code, "text": e.Text}}},
	}})
}

func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(404)
	fmt.Fprint(w, "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
}

// Post applies a payload to a DN directly, as an HTTP POST would (for
// seeding a baseline). It is atomic like one.
func (s *Sim) Post(dn string, payload []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := parsePayload(payload)
	if err != nil {
		return err
	}
	work := s.tree.clone()
	if _, _, err := s.applyPost(work, dn, n, s.now()); err != nil {
		return err
	}
	raiseFaults(work, s.now())
	old := s.tree
	s.tree = work
	s.publish(old, work)
	return nil
}

// Lookup returns an object's class and configured properties.
func (s *Sim) Lookup(dn string) (class string, attrs map[string]string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.tree.lookup(dn)
	if m == nil {
		return "", nil, false
	}
	return m.Class, copyMap(m.Attrs), true
}

// Secret returns a write-only property as stored (tests only: the API
// never reports it).
func (s *Sim) Secret(dn, attr string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.tree.lookup(dn); m != nil && m.Secret != nil {
		return m.Secret[attr]
	}
	return ""
}

// Delete removes an object and its subtree, as an out-of-band change would.
func (s *Sim) Delete(dn string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.tree.lookup(dn)
	if m == nil || dn == "uni" {
		return false
	}
	delete(s.tree.lookup(ParentDN(dn)).Children, lastRN(dn))
	s.notifyDeleted(s.tree, m)
	raiseFaults(s.tree, s.now())
	return true
}

// SetAttr changes one property of an object directly (tests: another
// owner's annotation, hand edits). It skips validation on purpose.
func (s *Sim) SetAttr(dn, attr, value string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.tree.lookup(dn)
	if m == nil {
		return false
	}
	old := m.Attrs[attr]
	m.Attrs[attr] = value
	s.notifyModified(s.tree, m, attr, old)
	raiseFaults(s.tree, s.now())
	return true
}

// DumpEntry is one object of a Dump.
type DumpEntry struct {
	DN    string            `json:"dn"`
	Class string            `json:"class"`
	Attrs map[string]string `json:"attrs"`
}

// Dump lists the subtree under dn, sorted by DN, with the configured
// properties only (no modTs/uid), for golden-file comparisons.
func (s *Sim) Dump(dn string) []DumpEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.tree.lookup(dn)
	if m == nil {
		return nil
	}
	var out []DumpEntry
	m.walk(func(o *MO) {
		if o.Class != faultClass { // faults are listed by Faults
			out = append(out, DumpEntry{DN: o.DN, Class: o.Class, Attrs: copyMap(o.Attrs)})
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].DN < out[j].DN })
	return out
}

// Server is a running emulator behind TLS.
type Server struct {
	*Sim
	// URL is https://host:port.
	URL string
	// CertPEM is the server's self-signed certificate, to use as a CA file.
	CertPEM []byte
	srv     *http.Server
	ln      net.Listener
}

// Start serves the emulator over TLS with a fresh self-signed certificate
// for 127.0.0.1, ::1 and localhost. addr is host:port ("127.0.0.1:0" picks
// a free port). HTTP/2 is off, as on the APIC's nginx.
func Start(sim *Sim, addr string) (*Server, error) {
	cert, certPEM, err := selfSigned()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{
		Handler:           sim,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	s := &Server{Sim: sim, URL: "https://" + ln.Addr().String(), CertPEM: certPEM, srv: srv, ln: ln}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error {
	err := s.srv.Close()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "apicsim", Organization: []string{"fabric-reconciler APIC emulator"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	return c, certPEM, err
}
