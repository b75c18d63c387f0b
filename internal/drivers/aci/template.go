package aci

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode"
)

// ACI object names: [a-zA-Z0-9_.-], at most 64 characters.
const aciNameMax = 64

func aciNameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-'
}

// aciName makes s a valid ACI name. A name that is too long or holds other
// characters is shortened and given a hash of the original as suffix, so the
// result is stable and two different inputs never collide on a shortened
// form. Control characters cannot be made safe: they are an error, since they
// only appear in input that was crafted or corrupted.
func aciName(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty name")
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return "", fmt.Errorf("name %q contains control or invalid characters", s)
		}
	}
	var b strings.Builder
	clean := true
	for _, r := range s {
		if aciNameChar(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
			clean = false
		}
	}
	out := b.String()
	if clean && len(out) <= aciNameMax {
		return out, nil
	}
	sum := sha256.Sum256([]byte(s))
	suffix := "-" + hex.EncodeToString(sum[:])[:10]
	if len(out) > aciNameMax-len(suffix) {
		out = out[:aciNameMax-len(suffix)]
	}
	return out + suffix, nil
}

// expandTemplate fills {namespace} and {name} (or upper-cased {NAMESPACE} and
// {NAME}) of a service's EPG or contract name template and makes the result
// a valid ACI name. The configuration insists on templates that give two
// services two names (config.checkInjective).
func expandTemplate(tmpl, namespace, name string) (string, error) {
	r := strings.NewReplacer(
		"{namespace}", namespace, "{name}", name,
		"{NAMESPACE}", strings.ToUpper(namespace), "{NAME}", strings.ToUpper(name))
	return aciName(r.Replace(tmpl))
}
