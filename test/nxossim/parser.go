package nxossim

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// NX-OS's parse error replies, each with its source in Replies
// (sources.go): msgInvalid (scrapli's NX-OS 9.2(4) fixtures), msgIncomplete
// (recorded, testdata/README.md), msgIPAddr (Ansible's NX-OS integration
// logs) and msgRange (recorded for interface ranges) are recordings;
// msgAmbiguous, msgParam, msgPrefix and msgIface follow their pattern
// ("... at '^' marker.") without a recording: assumptions, which the
// driver survives because any output of a configuration line is a refusal.
const (
	msgInvalid    = "% Invalid command at '^' marker."
	msgIncomplete = "% Incomplete command at '^' marker."
	msgAmbiguous  = "% Ambiguous command at '^' marker."
	msgParam      = "% Invalid parameter detected at '^' marker."
	msgIPAddr     = "% Invalid ip address at '^' marker."
	msgPrefix     = "% Invalid ip prefix at '^' marker."
	msgIface      = "% Invalid interface format at '^' marker."
	// NX-OS prints range errors without the leading "%".
	msgRange = "Invalid range at '^' marker."
	// A keyword real NX-OS has but this emulator does not implement.
	msgNotImpl = "% Command not implemented by nxossim (real NX-OS has it)."
)

type token struct {
	text string
	off  int // byte offset in the line
}

// tokenize splits a line on blanks, keeping each token's offset so that
// error carets land under the right character.
func tokenize(line string) []token {
	var toks []token
	start := -1
	for i := 0; i <= len(line); i++ {
		blank := i == len(line) || line[i] == ' ' || line[i] == '\t'
		if blank && start >= 0 {
			toks = append(toks, token{line[start:i], start})
			start = -1
		} else if !blank && start < 0 {
			start = i
		}
	}
	return toks
}

type paramKind int

const (
	pWord    paramKind = iota // a name checked against re and maxLen
	pNum                      // integer in [min, max]
	pIPv4                     // IPv4 address
	pIP                       // IPv4 or IPv6 address
	pPrefix4                  // IPv4 prefix a.b.c.d/len
	pPrefix6                  // IPv6 prefix
	pASN                      // 1-4294967295 or asdot 1-65535.0-65535
	pLine                     // the rest of the line (descriptions)
	pIface                    // an interface name, normalised
	pNames                    // the remaining tokens, each a name
)

type param struct {
	kind     paramKind
	min, max int64
	re       *regexp.Regexp
	maxLen   int
	// refuse rejects a syntactically fine value (e.g. vrf "default").
	refuse func(string) bool
}

type handler func(sh *shell, a args) *cmd

// node is one element of a command tree: a keyword or a typed parameter.
type node struct {
	word   string // keyword, lower case; "" for a parameter
	key    string // args key for the matched keyword or parameter value
	param  *param
	kids   []*node
	run    handler              // the command may end here
	avail  func(sh *shell) bool // nil = always available
	unimpl bool                 // real NX-OS keyword, not emulated
}

type args map[string]string

func (a args) has(k string) bool { _, ok := a[k]; return ok }

// kw builds a keyword node.
func kw(word string, kids ...*node) *node { return &node{word: word, kids: kids} }

// kwAs builds a keyword node that records the keyword under key.
func kwAs(key, word string, kids ...*node) *node {
	return &node{word: word, key: key, kids: kids}
}

// prm builds a parameter node storing its value under key.
func prm(key string, p *param, kids ...*node) *node {
	return &node{key: key, param: p, kids: kids}
}

// unimpl builds keyword nodes for real NX-OS commands the emulator lacks;
// they make error carets land where NX-OS puts them.
func unimpl(words ...string) []*node {
	out := make([]*node, len(words))
	for i, w := range words {
		out[i] = &node{word: w, unimpl: true}
	}
	return out
}

func (n *node) do(h handler) *node { n.run = h; return n }

func (n *node) when(f func(*shell) bool) *node { n.avail = f; return n }

func (n *node) add(kids ...*node) *node { n.kids = append(n.kids, kids...); return n }

type parsed struct {
	h    handler
	a    args
	next int // index of the first token after this command (past a ";")
	end  int // byte offset where this command's text ends
}

type parseErr struct {
	msg     string
	pos     int // caret offset within the line
	notImpl bool
}

// parse matches toks[i:] against the tree below root. A standalone ";"
// token ends a command (NX-OS chains commands with it) unless a
// rest-of-line parameter has already swallowed it.
func (root *node) parse(sh *shell, line string, toks []token, i int) (*parsed, *parseErr) {
	cur := root
	a := args{}
	lastEnd := 0
	if i < len(toks) {
		lastEnd = toks[i].off
	}
	for i < len(toks) && toks[i].text != ";" {
		t := toks[i]
		kids := cur.visible(sh)
		low := strings.ToLower(t.text)
		var exact *node
		var pref []*node
		var params []*node
		for _, k := range kids {
			switch {
			case k.param != nil:
				params = append(params, k)
			case k.word == low:
				exact = k
			case strings.HasPrefix(k.word, low):
				pref = append(pref, k)
			}
		}
		if exact == nil && len(pref) == 1 {
			exact = pref[0]
		}
		if exact == nil && len(pref) > 1 {
			return nil, &parseErr{msg: msgAmbiguous, pos: t.off}
		}
		if exact != nil {
			if exact.unimpl {
				return nil, &parseErr{msg: msgNotImpl, pos: t.off, notImpl: true}
			}
			if exact.key != "" {
				a[exact.key] = exact.word
			}
			cur = exact
			lastEnd = t.off + len(t.text)
			i++
			continue
		}
		var matched *node
		var firstErr *parseErr
		for _, pn := range params {
			val, n, perr := pn.param.match(line, toks, i)
			if perr != nil {
				if firstErr == nil {
					firstErr = perr
				}
				continue
			}
			a[pn.key] = val
			matched = pn
			last := toks[i+n-1]
			lastEnd = last.off + len(last.text)
			if pn.param.kind == pLine {
				lastEnd = len(strings.TrimRight(line, " \t"))
			}
			i += n
			break
		}
		if matched != nil {
			if matched.unimpl {
				return nil, &parseErr{msg: msgNotImpl, pos: t.off, notImpl: true}
			}
			cur = matched
			continue
		}
		l := 0
		for _, k := range kids {
			if k.param == nil {
				if c := commonPrefix(low, k.word); c > l {
					l = c
				}
			}
		}
		if l > 0 || firstErr == nil {
			return nil, &parseErr{msg: msgInvalid, pos: t.off + l}
		}
		return nil, firstErr
	}
	if cur.unimpl {
		return nil, &parseErr{msg: msgNotImpl, pos: lastEnd, notImpl: true}
	}
	if cur.run == nil {
		return nil, &parseErr{msg: msgIncomplete, pos: lastEnd}
	}
	next := i
	if i < len(toks) { // skip the ";"
		next = i + 1
	}
	return &parsed{h: cur.run, a: a, next: next, end: lastEnd}, nil
}

func (n *node) visible(sh *shell) []*node {
	out := make([]*node, 0, len(n.kids))
	for _, k := range n.kids {
		if k.avail == nil || k.avail(sh) {
			out = append(out, k)
		}
	}
	return out
}

// commonPrefix is how many leading characters of tok are a prefix of word:
// NX-OS puts the caret at the first character no command could continue.
func commonPrefix(tok, word string) int {
	n := 0
	for n < len(tok) && n < len(word) && tok[n] == word[n] {
		n++
	}
	return n
}

// match checks toks[i] (or more) against the parameter. It returns the
// normalised value and how many tokens it consumed.
func (p *param) match(line string, toks []token, i int) (string, int, *parseErr) {
	t := toks[i]
	bad := func(msg string) (string, int, *parseErr) {
		return "", 0, &parseErr{msg: msg, pos: t.off}
	}
	switch p.kind {
	case pLine:
		v := strings.TrimRight(line[t.off:], " \t")
		if !printable(v) || (p.maxLen > 0 && len(v) > p.maxLen) {
			return bad(msgParam)
		}
		return v, len(toks) - i, nil
	case pNames:
		var names []string
		n := 0
		for j := i; j < len(toks) && toks[j].text != ";"; j++ {
			if !p.wordOK(toks[j].text) {
				return "", 0, &parseErr{msg: msgParam, pos: toks[j].off}
			}
			names = append(names, toks[j].text)
			n++
		}
		return strings.Join(names, " "), n, nil
	case pWord:
		if !p.wordOK(t.text) {
			return bad(msgParam)
		}
		return t.text, 1, nil
	case pNum:
		if !allDigits(t.text) {
			return bad(msgInvalid)
		}
		v, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil || v < p.min || v > p.max {
			return bad(msgRange)
		}
		return strconv.FormatInt(v, 10), 1, nil
	case pASN:
		v, ok, rangeErr := parseASN(t.text)
		if rangeErr {
			return bad(msgRange)
		}
		if !ok {
			return bad(msgInvalid)
		}
		return v, 1, nil
	case pIPv4, pIP:
		ad, err := netip.ParseAddr(t.text)
		if err != nil || ad.Zone() != "" || (p.kind == pIPv4 && !ad.Is4()) || ad.Is4In6() {
			return bad(msgIPAddr)
		}
		return ad.String(), 1, nil
	case pPrefix4, pPrefix6:
		pf, err := netip.ParsePrefix(t.text)
		if err != nil || pf.Addr().Zone() != "" || pf.Addr().Is4() != (p.kind == pPrefix4) || pf.Addr().Is4In6() {
			return bad(msgPrefix)
		}
		// NX-OS keeps the network address: host bits are dropped.
		return pf.Masked().String(), 1, nil
	case pIface:
		v, ok := normalizeIface(t.text)
		if !ok {
			return bad(msgIface)
		}
		return v, 1, nil
	}
	return bad(msgParam)
}

func (p *param) wordOK(s string) bool {
	if p.maxLen > 0 && len(s) > p.maxLen {
		return false
	}
	if p.re != nil && !p.re.MatchString(s) {
		return false
	}
	if p.refuse != nil && p.refuse(s) {
		return false
	}
	return true
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseASN accepts asplain 1-4294967295 and asdot 1-65535.0-65535.
func parseASN(s string) (v string, ok, rangeErr bool) {
	hi, lo, dot := strings.Cut(s, ".")
	if !allDigits(hi) || (dot && !allDigits(lo)) {
		return "", false, false
	}
	h, err := strconv.ParseUint(hi, 10, 64)
	if err != nil {
		return "", false, true
	}
	if !dot {
		if h < 1 || h > 4294967295 {
			return "", false, true
		}
		return strconv.FormatUint(h, 10), true, false
	}
	l, err := strconv.ParseUint(lo, 10, 64)
	if err != nil || h > 65535 || l > 65535 || (h == 0 && l == 0) {
		return "", false, true
	}
	return strconv.FormatUint(h, 10) + "." + strconv.FormatUint(l, 10), true, false
}

var ifaceRe = regexp.MustCompile(`(?i)^(loopback|lo|ethernet|eth|e|vlan|port-channel|po|mgmt)(\d+(?:/\d+){0,2})$`)

// normalizeIface turns the short forms NX-OS accepts (lo0, eth1/1, po10)
// into the names it prints (loopback0, Ethernet1/1, port-channel10).
func normalizeIface(s string) (string, bool) {
	m := ifaceRe.FindStringSubmatch(s)
	if m == nil {
		return "", false
	}
	num := m[2]
	slash := strings.Contains(num, "/")
	switch strings.ToLower(m[1]) {
	case "loopback", "lo":
		if slash {
			return "", false
		}
		return "loopback" + num, true
	case "ethernet", "eth", "e":
		if !slash {
			return "", false
		}
		return "Ethernet" + num, true
	case "vlan":
		if slash {
			return "", false
		}
		return "Vlan" + num, true
	case "port-channel", "po":
		if slash {
			return "", false
		}
		return "port-channel" + num, true
	case "mgmt":
		if num != "0" {
			return "", false
		}
		return "mgmt0", true
	}
	return "", false
}
