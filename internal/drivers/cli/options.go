package cli

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Peer options on CLI platforms: what FRR and NX-OS share of the session
// options (password, prefix limit, timers, TTL security, shutdown).
//
// A session's password never appears in a line's Text: the line holds
// Sensitive where the password goes, and the value travels beside it
// (Script.InSecret). Text is what plans, renderings, logs and errors show;
// only Line.Wire, called by the session that types the line, puts the value
// in. A switch's reply to such a line goes through Line.Redact.
//
// The password cannot be read back from every switch (NX-OS prints it
// encrypted), and sending it again resets the session on most platforms.
// So the driver keeps the password's salted fingerprint
// (fabric.Secret.Fingerprint) in the neighbor's description, as
// "pw=<fingerprint>" after the ownership mark, reads it back in Observe
// (fabric.ObservedSecret), and sends the password only when the
// fingerprint differs.

// Sensitive stands for a secret in a line's Text.
const Sensitive = "(sensitive)"

// InSecret adds one line holding a secret in a mode path: text contains
// Sensitive once, where the secret goes when the line is typed.
func (s *Script) InSecret(mode []string, text, secret string) {
	if strings.Count(text, Sensitive) != 1 || secret == "" {
		panic("cli: InSecret needs one placeholder and a secret")
	}
	s.In(mode, text)
	s.lines[len(s.lines)-1].secret = secret
}

// Wire is the line as the switch must receive it: Text, with the secret in
// place of Sensitive. Only a session typing the line calls it; nothing it
// returns may be logged.
func (l Line) Wire() string {
	if l.secret == "" {
		return l.Text
	}
	return strings.Replace(l.Text, Sensitive, l.secret, 1)
}

// Redact removes the line's secret from a text (a switch's reply that
// echoes the line).
func (l Line) Redact(s string) string {
	if l.secret == "" {
		return s
	}
	return strings.ReplaceAll(s, l.secret, Sensitive)
}

// passwordKey is the description field that holds a password's
// fingerprint.
const passwordKey = "pw="

// DescribePeer is the description of a node's neighbor: Describe(node),
// and, when the session has a password, "pw=" and its fingerprint, in 11
// characters (the 64 bits of fabric.Fingerprint's 16 hex digits, base64url
// without padding: NX-OS keeps 80 characters of a description).
func (m Mark) DescribePeer(node string, password *fabric.Secret) string {
	d := m.Describe(node)
	if password == nil {
		return d
	}
	return d + " " + passwordKey + encodeFingerprint(password.Fingerprint())
}

// PasswordMark reads the fingerprint a neighbor's description records for
// its password (fabric.Fingerprint's hex form), "" when it records none.
func PasswordMark(desc string) string {
	for _, f := range strings.Fields(desc) {
		if v, ok := strings.CutPrefix(f, passwordKey); ok {
			return decodeFingerprint(v)
		}
	}
	return ""
}

func encodeFingerprint(fp string) string {
	b, err := hex.DecodeString(fp)
	if err != nil || len(b) != 8 {
		return "x" + fp // never written by the planner: desired secrets have real fingerprints
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeFingerprint(s string) string {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 8 {
		return "?" + s // not what a planner writes: matches no desired fingerprint
	}
	return hex.EncodeToString(b)
}

// passwordRe is what a password may hold on a CLI platform: letters, digits
// and punctuation no CLI reads as syntax. Excluded: spaces (FRR's
// "password LINE" takes one word, bgpd/bgp_vty.c), '?' (help in vtysh and
// NX-OS), '!' and '#' (comments), '|' and '>' (pipes and redirection in
// vtysh and NX-OS), '$' (NX-OS CLI variables), quotes and backslashes, and
// ';' and ']' (plain).
var passwordRe = regexp.MustCompile(`^[A-Za-z0-9_.:=/,@+~^*%&(){}\[-]+$`)

// MaxPassword is the longest password: TCP MD5's key (Linux
// TCP_MD5SIG_MAXKEYLEN; FRR's PEER_PASSWORD_MAXLEN, bgpd/bgpd.h).
const MaxPassword = 80

// CheckPassword checks a password without ever quoting it: the error says
// what is wrong, never what the value is.
func CheckPassword(s *fabric.Secret) error {
	v := s.Value()
	switch {
	case v == "":
		return nil // a fingerprint only (a saved plan): checked when it must be sent
	case len(v) > MaxPassword:
		return fmt.Errorf("the password (fingerprint %s) is longer than %d characters", s.Fingerprint(), MaxPassword)
	case plain("password", v) != nil || !passwordRe.MatchString(v):
		return fmt.Errorf("the password (fingerprint %s) holds a space, a control character or one of ?!#|<>$;]\"'`\\, which a CLI would read as syntax", s.Fingerprint())
	}
	return nil
}

// errNoPasswordValue refuses a change that must send a password whose
// value it does not have.
var errNoPasswordValue = errors.New("the password must be sent, but the plan holds only its fingerprint (a saved plan never holds secrets): plan and apply in one run (sync)")

// CheckOptions checks the peer options a CLI line would carry.
func CheckOptions(o fabric.PeerOptions) error {
	if o.Password != nil {
		if err := CheckPassword(o.Password); err != nil {
			return err
		}
	}
	if m := o.MaxPrefix; m != nil {
		switch m.Action {
		case fabric.MaxPrefixShutdown, fabric.MaxPrefixWarn:
		case fabric.MaxPrefixRestart:
			if err := Count("maximum-prefix restart minutes", m.RestartMinutes, 1, 65535); err != nil {
				return err
			}
		default:
			return inputErr("maximum-prefix action", m.Action, "must be shutdown, restart or warning-only")
		}
		if m.Limit < 1 {
			return inputErr("maximum-prefix", "0", "must be at least 1")
		}
	}
	return checkPeerLines(o)
}

// Timers completes a session's timers for a CLI platform, where one line
// sets both: a hold time alone gets a third of it as keepalive (RFC 4271,
// 10: "suggested value for the KeepaliveTime is 1/3 of the HoldTime"), a
// keepalive alone three times it as hold time. It says what it filled in
// ("" when nothing).
func Timers(o *fabric.PeerOptions) string {
	switch {
	case o.Hold > 0 && o.Keepalive == 0:
		o.Keepalive = max(1, o.Hold/3)
		return fmt.Sprintf("keepalive %d s (a third of the hold time)", o.Keepalive)
	case o.Keepalive > 0 && o.Hold == 0:
		o.Hold = min(3*o.Keepalive, 65535)
		return fmt.Sprintf("hold time %d s (three keepalives)", o.Hold)
	}
	return ""
}

// PasswordState is what a switch holds of a neighbor's password, as far
// as a driver can tell.
type PasswordState struct {
	// Set: the neighbor has a password.
	Set bool
	// Fingerprint is the fingerprint of that password: read from the
	// description, or computed from the running configuration where the
	// platform prints the password; "" when unknown (set by hand).
	Fingerprint string
}

// Observed is the password as Observe reports it: nil when none is set.
func (s PasswordState) Observed() *fabric.Secret {
	if !s.Set {
		return nil
	}
	return fabric.ObservedSecret(s.Fingerprint)
}

// PasswordChange says what a neighbor's password needs: send (the secret to
// type, "" when nothing is to be typed), remove (the neighbor has a
// password the cluster no longer sets), or an error when the secret must be
// sent and its value is unknown.
func PasswordChange(have PasswordState, want *fabric.Secret) (send string, remove bool, err error) {
	switch {
	case want == nil:
		return "", have.Set, nil
	case have.Set && have.Fingerprint == want.Fingerprint():
		return "", false, nil // unchanged: never typed again (it resets the session)
	case want.Value() == "":
		return "", false, errNoPasswordValue
	}
	return want.Value(), false, nil
}
