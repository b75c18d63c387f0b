package cli

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseASN reads an AS number as a switch prints it: asplain ("65546") or
// asdot ("1.10", the high and low 16 bits). NX-OS prints a number as it
// was typed; FRR 9 and later print "router bgp", remote-as and local-as in
// the notation they were typed in, or in the one "router bgp ASN
// as-notation dot|dot+|plain" forces ("dot+" writes every AS dotted,
// "0.65000"; lib/asn.c asn_str2asn and doc/user/bgp.rst "AS-notation
// support", frr-9.0). 0 is not an AS number.
func ParseASN(s string) (uint32, error) {
	hi, lo, dot := strings.Cut(s, ".")
	if !dot {
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil || v == 0 {
			return 0, fmt.Errorf("AS number %q", s)
		}
		return uint32(v), nil
	}
	h, err1 := strconv.ParseUint(hi, 10, 16)
	l, err2 := strconv.ParseUint(lo, 10, 16)
	if err1 != nil || err2 != nil || (h == 0 && l == 0) {
		return 0, fmt.Errorf("AS number %q", s)
	}
	return uint32(h<<16 | l), nil
}
