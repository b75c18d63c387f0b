package emulator

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The APIC's authentication texts.
const (
	textNeedToken    = "Need a valid webtoken cookie (named APIC-Cookie) or a signed request with signature in the cookie APIC-Request-Signature for all REST API requests"
	textTokenTimeout = "Token was invalid (Error: Token timeout)"
	textBadLogin     = "Username or password is incorrect - FAILED local authentication"
)

// Duplicate-cookie handling: which of several APIC-Cookie values counts.
// How a real APIC picks is not documented (see the design notes); "first"
// is the strictest and the default.
const (
	CookieFirst = "first"
	CookieLast  = "last"
	CookieAny   = "any"
)

type session struct {
	user    string
	created time.Time
	expires time.Time
}

func newToken() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// loginBody is the aaaLogin / aaaLogout payload.
type loginBody struct {
	AaaUser struct {
		Attributes struct {
			Name string `json:"name"`
			Pwd  string `json:"pwd"`
		} `json:"attributes"`
	} `json:"aaaUser"`
}

// issue creates a session and answers in the aaaLogin shape, with exactly
// one Set-Cookie header.
func (s *Sim) issue(w http.ResponseWriter, user string) int {
	now := s.now()
	tok := newToken()
	s.sessions[tok] = &session{user: user, created: now, expires: now.Add(s.opts.TokenTTL)}
	s.issued = append(s.issued, tok)
	ttl := strconv.Itoa(int(s.opts.TokenTTL / time.Second))
	attrs := map[string]string{
		"token": tok, "siteFingerprint": "emulator", "refreshTimeoutSeconds": ttl, "maximumLifetimeSeconds": "86400",
		"guiIdleTimeoutSeconds": "1200", "restTimeoutSeconds": "90", "creationTime": strconv.FormatInt(now.Unix(), 10),
		"firstLoginTime": strconv.FormatInt(now.Unix(), 10), "userName": user, "remoteUser": "false", "unixUserId": "15374",
		"sessionId": newToken()[:24], "lastName": "", "firstName": "", "changePassword": "no", "version": "6.0(2h)",
		"buildTime": "Sat Nov 18 01:41:05 UTC 2023", "node": "topology/pod-1/node-1",
	}
	body := Props{Class: "aaaLogin", Attrs: attrs, Children: []Props{
		{Class: "aaaUserDomain", Attrs: map[string]string{"name": "all", "rolesR": "admin", "rolesW": "admin"}},
		{Class: "DnDomainMapEntry", Attrs: map[string]string{"dn": "uni/tn-common", "readPrivileges": "admin", "writePrivileges": "admin"}},
	}}
	w.Header().Set("Set-Cookie", "APIC-cookie="+tok+"; path=/; HttpOnly; Secure")
	return writeJSON(w, 200, imdata([]Props{body}, 1))
}

func (s *Sim) handleLogin(w http.ResponseWriter, body []byte) int {
	var lb loginBody
	if err := json.Unmarshal(body, &lb); err != nil || lb.AaaUser.Attributes.Name == "" {
		return writeError(w, errf(400, "400", "JSON parsing failed - invalid aaaUser payload at line: 1"))
	}
	pw, ok := s.opts.Users[lb.AaaUser.Attributes.Name]
	if !ok || pw != lb.AaaUser.Attributes.Pwd {
		s.counters.FailedLogins++
		return writeError(w, errf(401, "401", textBadLogin))
	}
	s.counters.Logins++
	return s.issue(w, lb.AaaUser.Attributes.Name)
}

// loginName is the user an aaaLogin body names.
func loginName(body []byte) string {
	var lb loginBody
	_ = json.Unmarshal(body, &lb)
	return lb.AaaUser.Attributes.Name
}

// apicCookies returns the APIC-Cookie values of a request in order. The
// cookie name is matched case-insensitively: clients spell it APIC-Cookie
// and APIC-cookie.
func apicCookies(r *http.Request) []string {
	var out []string
	for _, c := range r.Cookies() {
		if strings.EqualFold(c.Name, "APIC-cookie") {
			out = append(out, c.Value)
		}
	}
	return out
}

func cookieValue(r *http.Request, name string) string {
	for _, c := range r.Cookies() {
		if strings.EqualFold(c.Name, name) {
			return c.Value
		}
	}
	return ""
}

// authenticate checks a request's token or signature. It returns the token
// the request used ("" for a signed request) and the user it acts for, or an
// error answer.
func (s *Sim) authenticate(r *http.Request, body []byte) (tok, user string, aerr *apicError) {
	toks := apicCookies(r)
	if len(toks) == 0 {
		if cookieValue(r, "APIC-Request-Signature") != "" {
			if err := s.verifySignature(r, body); err != nil {
				return "", "", err
			}
			s.counters.SignedRequests++
			return "", certUser(cookieValue(r, "APIC-Certificate-DN")), nil
		}
		return "", "", errf(403, "403", textNeedToken)
	}
	if len(toks) > 1 {
		s.counters.DuplicateCookies++
		switch s.opts.DuplicateCookie {
		case CookieLast:
			toks = toks[len(toks)-1:]
		case CookieAny:
		default:
			toks = toks[:1]
		}
	}
	now := s.now()
	for _, tok := range toks {
		if ss, ok := s.sessions[tok]; ok && now.Before(ss.expires) {
			return tok, ss.user, nil
		}
	}
	return "", "", errf(403, "403", textTokenTimeout)
}

// certUser reads the user out of uni/userext/user-<u>/usercert-<name>.
func certUser(dn string) string {
	u, _, _ := strings.Cut(strings.TrimPrefix(dn, "uni/userext/user-"), "/")
	return u
}

// verifySignature checks a certificate-signed request: RSA PKCS#1 v1.5
// with SHA-256 over method + request URI + body, with the certificate named
// by APIC-Certificate-DN (uni/userext/user-<u>/usercert-<name>).
func (s *Sim) verifySignature(r *http.Request, body []byte) *apicError {
	certDN := cookieValue(r, "APIC-Certificate-DN")
	pub, ok := s.certs[certDN]
	if !ok || cookieValue(r, "APIC-Certificate-Algorithm") != "v1.0" {
		s.counters.BadSignatures++
		return errf(403, "403", textNeedToken)
	}
	sig, err := base64.StdEncoding.DecodeString(cookieValue(r, "APIC-Request-Signature"))
	if err != nil {
		s.counters.BadSignatures++
		return errf(403, "403", textNeedToken)
	}
	payload := r.Method + r.RequestURI
	if len(body) > 0 && string(body) != "{}" {
		payload += string(body)
	}
	sum := sha256.Sum256([]byte(payload))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		s.counters.BadSignatures++
		return errf(403, "403", textNeedToken)
	}
	return nil
}

// AddUser creates a local user (or changes its password) while the
// emulator serves.
func (s *Sim) AddUser(name, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Users[name] = password
}

// AddCertificate registers a user's X.509 certificate (PEM) under a name,
// as uni/userext/user-<user>/usercert-<name>, for signature login.
func (s *Sim) AddCertificate(user, name string, certPEM []byte) error {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return fmt.Errorf("no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("the APIC signs with RSA keys only")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.certs[fmt.Sprintf("uni/userext/user-%s/usercert-%s", user, name)] = pub
	return nil
}

// Tokens lists every token the emulator issued (tests grep outputs for them).
func (s *Sim) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// ExpireTokens ends every session now, as a token timeout would.
func (s *Sim) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessions = map[string]*session{}
}
