package aci

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptrace"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ciscoecosystem/aci-go-client/v2/client"
	"github.com/ciscoecosystem/aci-go-client/v2/container"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

// Retry tuning. retryablehttp retries connection errors, 429 and 5xx; a
// Retry-After on 429/503 is honoured up to maxRetryAfter.
const (
	retryMax      = 4
	retryWaitMin  = 250 * time.Millisecond
	retryWaitMax  = 5 * time.Second
	maxRetryAfter = 30 * time.Second
)

// silenceStdLog: aci-go-client logs every request (and, with certificate
// login, each request's signature) through the standard library's global
// logger. The project logs through log/slog with its own handlers, so the
// global logger is sent nowhere once an APIC client exists.
var silenceStdLog sync.Once

// APIError is an error answer of the APIC: HTTP status plus the code and
// text of imdata[0].error.
type APIError struct {
	Status int
	Code   string
	Text   string
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("APIC answered HTTP %d", e.Status)
	}
	return fmt.Sprintf("APIC answered HTTP %d, error %s: %s", e.Status, oneLine(e.Code), oneLine(e.Text))
}

// apic is one APIC connection: an aci-go-client client over a
// go-retryablehttp client, used by one caller at a time. Serialising every
// call avoids the client's data race on its token and its re-login stampede;
// the session is refreshed before it expires, so the client's own re-login
// (on a 403) only runs when the APIC ends a session early.
type apic struct {
	cfg     APIC
	fabric  string
	metrics drivers.RequestObserver

	mu        sync.Mutex
	c         *client.Client
	transport *http.Transport
	password  string // password login only
	certAuth  bool
	token     string
	ttl       time.Duration
	expires   time.Time
	refresh   time.Time
}

func newAPIC(cfg APIC, fabric string, metrics drivers.RequestObserver) *apic {
	return &apic{cfg: cfg, fabric: fabric, metrics: metrics}
}

// connect builds the client on first use: it reads the secret files and
// the CA bundle, and contacts nothing.
func (a *apic) connect() error {
	if a.c != nil {
		return nil
	}
	silenceStdLog.Do(func() { log.SetOutput(io.Discard) })
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if a.cfg.CAFile != "" {
		pem, err := os.ReadFile(a.cfg.CAFile)
		if err != nil {
			return fmt.Errorf("apic.caFile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("apic.caFile %s: no PEM certificate in it", a.cfg.CAFile)
		}
		tlsCfg.RootCAs = pool
	}
	if a.cfg.InsecureSkipVerify {
		tlsCfg.InsecureSkipVerify = true
	}
	if a.cfg.Username == "" {
		return errors.New("apic.username: required")
	}

	rc := retryablehttp.NewClient()
	rc.Logger = nil
	rc.RetryMax = retryMax
	rc.RetryWaitMin, rc.RetryWaitMax = retryWaitMin, retryWaitMax
	rc.Backoff = honourRetryAfter
	// Keep the APIC's own error body after the last retry instead of
	// "giving up after N attempts".
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	// Every attempt of a tracked request is classified: was it possibly
	// committed? (see sendTrack)
	rc.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if t, ok := ctx.Value(trackKey{}).(*sendTrack); ok {
			t.attempt(resp, err)
		}
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	a.transport = &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSClientConfig:     tlsCfg,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
	rc.HTTPClient.Transport = a.transport
	hc := rc.StandardClient()
	hc.Transport = &oneCookie{next: hc.Transport}

	timeout := a.cfg.Timeout.Duration
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := []client.Option{
		client.HttpClient(hc),
		// >= 1 so that a request replayed after a re-login keeps its body.
		client.MaxRetries(1),
		client.BackoffMinDelay(1), client.BackoffMaxDelay(2), client.BackoffDelayFactor(1),
		client.ReqTimeout(uint32((timeout + time.Second - 1) / time.Second)),
		client.SkipLoggingPayload(true),
		client.MoURL("/api/mo"),
	}
	switch {
	case a.cfg.PasswordFile != "":
		pw, err := config.ReadSecretFile(a.cfg.PasswordFile)
		if err != nil {
			return fmt.Errorf("apic.passwordFile: %w", err)
		}
		if pw == "" {
			return errors.New("apic.passwordFile: the file is empty")
		}
		a.password = pw
		opts = append(opts, client.Password(pw))
	case a.cfg.PrivateKeyFile != "":
		key, err := config.ReadSecretFile(a.cfg.PrivateKeyFile)
		if err != nil {
			return fmt.Errorf("apic.privateKeyFile: %w", err)
		}
		if !strings.Contains(key, "PRIVATE KEY-----") {
			return errors.New("apic.privateKeyFile: not a PEM private key")
		}
		// The client takes the key text itself (it would otherwise take the
		// argument for a file name).
		a.certAuth = true
		opts = append(opts, client.PrivateKey(key+"\n"), client.AdminCert(a.cfg.CertificateName))
	default:
		return errors.New("apic: passwordFile or privateKeyFile+certificateName is required")
	}
	a.c = client.NewClient(strings.TrimSuffix(a.cfg.URL, "/"), a.cfg.Username, opts...)
	return nil
}

// honourRetryAfter waits as long as a 429/503 answer's Retry-After says
// (capped), else backs off exponentially.
func honourRetryAfter(waitMin, waitMax time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			var d time.Duration
			if secs, err := strconv.Atoi(ra); err == nil && secs >= 0 {
				d = time.Duration(secs) * time.Second
			} else if t, err := http.ParseTime(ra); err == nil {
				d = time.Until(t)
			}
			return max(0, min(d, maxRetryAfter))
		}
	}
	return retryablehttp.DefaultBackoff(waitMin, waitMax, attempt, nil)
}

// oneCookie sends a single APIC-Cookie: when aci-go-client logs in again
// after a 403 it adds the new token to the request that still carries the
// old one, and an APIC that reads the first cookie would refuse it again.
// The newest token (the last one added) is kept.
type oneCookie struct{ next http.RoundTripper }

func (o *oneCookie) RoundTrip(r *http.Request) (*http.Response, error) {
	cookies := r.Cookies()
	n := 0
	for _, c := range cookies {
		if strings.EqualFold(c.Name, "APIC-Cookie") {
			n++
		}
	}
	if n < 2 {
		return o.next.RoundTrip(r)
	}
	r2 := r.Clone(r.Context())
	r2.Header.Del("Cookie")
	seen := 0
	for _, c := range cookies {
		if strings.EqualFold(c.Name, "APIC-Cookie") {
			seen++
			if seen < n {
				continue
			}
		}
		r2.AddCookie(c)
	}
	return o.next.RoundTrip(r2)
}

// ensureSession logs in, or refreshes a session past half its life, so
// that no request goes out with a token about to expire (password login
// only; signed requests need no session).
func (a *apic) ensureSession(ctx context.Context) error {
	if a.certAuth {
		return nil
	}
	now := time.Now()
	margin := min(a.ttl/10, 5*time.Second)
	switch {
	case a.token == "" || !now.Before(a.expires.Add(-margin)):
		return a.login(ctx)
	case !now.Before(a.refresh):
		if err := a.refreshSession(ctx); err != nil {
			return a.login(ctx)
		}
	}
	return nil
}

type loginPayload struct {
	AaaUser struct {
		Attributes struct {
			Name string `json:"name"`
			Pwd  string `json:"pwd"`
		} `json:"attributes"`
	} `json:"aaaUser"`
}

func (a *apic) login(ctx context.Context) error {
	var p loginPayload
	p.AaaUser.Attributes.Name, p.AaaUser.Attributes.Pwd = a.cfg.Username, a.password
	body, _ := json.Marshal(p)
	req, err := a.c.MakeRestRequestRaw("POST", "/api/aaaLogin.json", body, false)
	if err != nil {
		return fmt.Errorf("APIC login: %w", err)
	}
	began := time.Now()
	cont, resp, err := a.c.Do(req.WithContext(ctx))
	a.observe("login", time.Since(began), err)
	if err != nil {
		return fmt.Errorf("APIC login: %w", scrub(err))
	}
	if e := apiError(cont, resp); e != nil {
		return fmt.Errorf("APIC login as %s: %w", a.cfg.Username, e)
	}
	return a.takeSession(cont, "aaaLogin")
}

func (a *apic) refreshSession(ctx context.Context) error {
	req, err := a.c.MakeRestRequestRaw("GET", "/api/aaaRefresh.json", nil, true)
	if err != nil {
		return err
	}
	began := time.Now()
	cont, resp, err := a.c.Do(req.WithContext(ctx))
	a.observe("refresh", time.Since(began), err)
	if err != nil {
		return scrub(err)
	}
	if e := apiError(cont, resp); e != nil {
		return e
	}
	return a.takeSession(cont, "aaaLogin")
}

// takeSession reads the token and its lifetime from an aaaLogin answer and
// hands it to the client.
func (a *apic) takeSession(cont *container.Container, cls string) error {
	at := cont.S("imdata").Index(0).S(cls, "attributes")
	tok, _ := at.S("token").Data().(string)
	if tok == "" {
		return errors.New("APIC login: the answer holds no token")
	}
	ttl := 600 * time.Second
	if s, ok := at.S("refreshTimeoutSeconds").Data().(string); ok {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			ttl = time.Duration(n) * time.Second
		}
	}
	now := time.Now()
	a.token, a.ttl = tok, ttl
	a.expires, a.refresh = now.Add(ttl), now.Add(ttl/2)
	a.c.AuthToken = &client.Auth{Token: tok, Expiry: a.expires}
	return nil
}

// adoptToken notices a re-login the client did by itself after a 403.
func (a *apic) adoptToken() {
	if a.certAuth || a.c.AuthToken == nil || a.c.AuthToken.Token == a.token {
		return
	}
	now := time.Now()
	a.token = a.c.AuthToken.Token
	a.expires, a.refresh = now.Add(a.ttl), now.Add(a.ttl/2)
	a.c.AuthToken.Expiry = a.expires
}

// errNotApplied is wrapped by the error of a write that the APIC certainly
// did not apply: it failed before the request was sent, or every attempt
// was answered by a refusal (an APIC error answer, a throttling page, a
// token timeout).
var errNotApplied = errors.New("the APIC did not apply it")

// sendTrack follows one request through every attempt the retrying
// clients make (go-retryablehttp's, aci-go-client's own, the replay after a
// re-login), to tell a write that may have been committed from one that
// certainly was not. An attempt may have been committed when:
//   - it was written out whole and then failed without an answer (a reset,
//     a timeout, the call's deadline): the APIC may have processed it;
//   - it was answered 2xx (committed), whatever happened after;
//   - it was answered 5xx other than 503: a proxy's 502/504 or an internal
//     error says nothing about the transaction behind it.
//
// 429 and 503 are nginx's throttling answers, given before the request
// reaches the APIC [Cisco, "Cisco ACI support for NGINX rate limit"]; 401
// and 403 refuse the session; other 4xx answers are the APIC refusing the
// request, which it applies all or nothing (aci-apic-notes.md section 1.3:
// one transaction per POST, a single error on any validation failure).
type sendTrack struct {
	mu      sync.Mutex
	written bool // the current attempt was written out whole
	maybe   bool // some attempt may have been committed
}

type trackKey struct{}

func (t *sendTrack) wrote(info httptrace.WroteRequestInfo) {
	if info.Err == nil {
		t.mu.Lock()
		t.written = true
		t.mu.Unlock()
	}
}

func (t *sendTrack) attempt(resp *http.Response, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case err != nil || resp == nil:
		t.maybe = t.maybe || t.written
	case resp.StatusCode < 300:
		t.maybe = true
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusServiceUnavailable:
		t.maybe = true
	}
	t.written = false
}

// earlierMaybe says whether an attempt before the last, answered one may
// have been committed.
func (t *sendTrack) earlierMaybe() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.maybe
}

// finish accounts for an attempt that ended without reaching CheckRetry (the
// client gave up while reading the answer) and says whether the request may
// have been committed.
func (t *sendTrack) finish() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.maybe || t.written
}

// request sends one call with a deadline and returns the parsed answer, or
// an *APIError for an APIC error answer. The error of a failed write wraps
// drivers.ErrOutcomeUnknown when the APIC may have committed it, and
// errNotApplied when it certainly did not.
func (a *apic) request(ctx context.Context, op, method, path string, body []byte) (*container.Container, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	notSent := func(err error) error {
		return fmt.Errorf("%s %s: %w: %w", method, stripQuery(path), errNotApplied, err)
	}
	if err := a.connect(); err != nil {
		return nil, notSent(err)
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout())
	defer cancel()
	if err := a.ensureSession(ctx); err != nil {
		return nil, notSent(err)
	}
	req, err := a.c.MakeRestRequestRaw(method, path, body, true)
	if err != nil {
		a.observe(op, 0, err) // nothing was sent
		return nil, notSent(scrub(err))
	}
	track := &sendTrack{}
	ctx = httptrace.WithClientTrace(context.WithValue(ctx, trackKey{}, track), &httptrace.ClientTrace{WroteRequest: track.wrote})
	began := time.Now()
	cont, resp, err := a.c.Do(req.WithContext(ctx))
	a.adoptToken()
	if err == nil {
		if e := apiError(cont, resp); e != nil {
			err = e
		}
	} else {
		err = scrub(err)
	}
	a.observe(op, time.Since(began), err)
	switch {
	case err == nil:
		return cont, nil
	case method != http.MethodGet && refusedBeforeCommit(err) && !track.earlierMaybe():
		return nil, notSent(err)
	case method != http.MethodGet && track.finish():
		return nil, fmt.Errorf("%s %s: %w: %w", method, stripQuery(path), drivers.ErrOutcomeUnknown, err)
	case method != http.MethodGet:
		return nil, notSent(err)
	}
	return nil, fmt.Errorf("%s %s: %w", method, stripQuery(path), err)
}

// refusedBeforeCommit reports whether an error is an APIC answer that says
// the attempt was not applied: a client error (4xx, throttling's 429
// included) or 503, or an error document in the answer (see sendTrack).
// Other 5xx answers and transport errors are not known to be refusals.
// It decides from the answer, not from whether the attempt was seen
// written: net/http may report the write (httptrace WroteRequest) after
// the answer came back, which made a refusal read as "outcome unknown" at
// random. An earlier attempt that may have been committed (a reset, then
// a retry answered 103) still makes the outcome unknown.
func refusedBeforeCommit(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.Status >= 400 && ae.Status < 500 || ae.Status == http.StatusServiceUnavailable || ae.Status < 400 && ae.Code != ""
}

func (a *apic) timeout() time.Duration {
	if a.cfg.Timeout.Duration > 0 {
		return a.cfg.Timeout.Duration
	}
	return 30 * time.Second
}

func (a *apic) observe(op string, took time.Duration, err error) {
	if a.metrics != nil {
		a.metrics.ObserveRequest(a.fabric, "aci", op, took, err)
	}
}

func (a *apic) close() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.c == nil {
		return
	}
	defer a.transport.CloseIdleConnections()
	if a.certAuth || a.token == "" || time.Now().After(a.expires) {
		return
	}
	// End the session; a failure here changes nothing.
	body := []byte(`{"aaaUser":{"attributes":{"name":` + strconv.Quote(a.cfg.Username) + `}}}`)
	if req, err := a.c.MakeRestRequestRaw("POST", "/api/aaaLogout.json", body, true); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, _, _ = a.c.Do(req.WithContext(ctx))
	}
	a.token = ""
}

// apiError parses an error answer: HTTP status and imdata[0].error. The
// client itself reports no error for 4xx and swallows some codes (103, 202).
func apiError(cont *container.Container, resp *http.Response) *APIError {
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	var code, text string
	if cont != nil {
		e := cont.S("imdata").Index(0).S("error", "attributes")
		code, _ = e.S("code").Data().(string)
		text, _ = e.S("text").Data().(string)
	}
	if status >= 400 || code != "" {
		return &APIError{Status: status, Code: code, Text: text}
	}
	if cont == nil {
		return &APIError{Status: status, Text: "empty answer"}
	}
	return nil
}

// scrub shortens the client's connection errors; they never hold secrets
// (requests are not logged or echoed), only the URL.
func scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	return errors.New(msg)
}

func stripQuery(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		return p[:i]
	}
	return p
}
