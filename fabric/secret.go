package fabric

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// Secret is a sensitive attribute (a BGP session's password). Plans,
// renderings, logs and JSON never carry its value: only a salted
// fingerprint, so that a plan can say whether it changes and a driver can
// tell drift without sending it again (it keeps the fingerprint in the
// object's mark, and a password that is unchanged is never re-sent, which
// on most platforms would reset the session).
//
// The value travels in memory from the cluster to the driver that writes
// it, and nowhere else.
type Secret struct {
	fingerprint string
	value       string
}

// NewSecret makes a secret of value; salt ties the fingerprint to the place
// the secret is used (a cluster and a peer), so two places with one
// password do not show it.
func NewSecret(value, salt string) *Secret {
	return &Secret{value: value, fingerprint: Fingerprint(value, salt)}
}

// ObservedSecret is a secret read back from a fabric: its fingerprint only.
func ObservedSecret(fingerprint string) *Secret { return &Secret{fingerprint: fingerprint} }

// Fingerprint is the salted digest of a secret value: 16 hex digits.
func Fingerprint(value, salt string) string {
	sum := sha256.Sum256([]byte("fabric-reconciler\x00" + salt + "\x00" + value))
	return hex.EncodeToString(sum[:8])
}

// Fingerprint returns the secret's fingerprint.
func (s *Secret) Fingerprint() string {
	if s == nil {
		return ""
	}
	return s.fingerprint
}

// Value returns the secret itself, for the driver that writes it; "" for
// a secret read back from a fabric.
func (s *Secret) Value() string {
	if s == nil {
		return ""
	}
	return s.value
}

// String never shows the value.
func (s *Secret) String() string {
	if s == nil {
		return "(none)"
	}
	return fmt.Sprintf("(sensitive, fingerprint %s)", s.fingerprint)
}

// GoString never shows the value either (%#v).
func (s *Secret) GoString() string { return s.String() }

// MarshalJSON writes the fingerprint only.
func (s *Secret) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Sensitive   bool   `json:"sensitive"`
		Fingerprint string `json:"fingerprint"`
	}{true, s.Fingerprint()})
}

// UnmarshalJSON reads a fingerprint: a plan or observation read back never
// holds a value.
func (s *Secret) UnmarshalJSON(b []byte) error {
	var v struct {
		Fingerprint string `json:"fingerprint"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = Secret{fingerprint: v.Fingerprint}
	return nil
}

// PasswordSalt is the salt of a BGP session's password: the cluster and the
// peer's address, so that one password on two sessions shows two
// fingerprints. The reconciler salts the passwords it hands the drivers so,
// and a driver that reads a password back in clear (FRR) fingerprints it so.
func PasswordSalt(cluster, peerAddress string) string { return cluster + "/" + peerAddress }
