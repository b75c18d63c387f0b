// Package selector parses and evaluates Calico label selectors, the syntax of
// BGPPeer.nodeSelector / peerSelector and IPPool.nodeSelector:
//
//	all()  has(k)  !has(k)  k == "v"  k != "v"  k in {"a","b"}  k not in {...}
//	k contains "s"  k starts with "s"  k ends with "s"  !e  e && e  e || e  (e)
//
// Semantics follow Calico: `k != "v"` and `k not in {...}` are true when the
// label is absent; `!` binds tighter than `&&`, which binds tighter than `||`.
package selector

import (
	"fmt"
	"sort"
	"strings"
)

// Selector matches a set of labels.
type Selector interface {
	Matches(labels map[string]string) bool
	String() string
}

// Parse parses a selector. An empty or all-blank selector is all().
func Parse(s string) (Selector, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	if len(toks) == 0 {
		return allSel{}, nil
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, fmt.Errorf("selector %q: %w", s, err)
	}
	if !p.done() {
		return nil, fmt.Errorf("selector %q: unexpected %s", s, p.peek())
	}
	return e, nil
}

type tokKind int

const (
	tLabel tokKind = iota
	tString
	tEq
	tNe
	tNot
	tAnd
	tOr
	tLParen
	tRParen
	tLBrace
	tRBrace
	tComma
	tHas
	tAll
	tGlobal
	tIn
	tNotIn
	tContains
	tStartsWith
	tEndsWith
)

type token struct {
	kind tokKind
	text string
}

func (t token) String() string {
	if t.kind == tString {
		return fmt.Sprintf("%q", t.text)
	}
	return fmt.Sprintf("'%s'", t.text)
}

func isLabelChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '/' || c == '-'
}

// tokenize splits a selector into tokens. Multi-word operators ("not in",
// "starts with", "ends with") become one token.
func tokenize(s string) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case strings.HasPrefix(s[i:], "=="):
			toks = append(toks, token{tEq, "=="})
			i += 2
		case strings.HasPrefix(s[i:], "!="):
			toks = append(toks, token{tNe, "!="})
			i += 2
		case strings.HasPrefix(s[i:], "&&"):
			toks = append(toks, token{tAnd, "&&"})
			i += 2
		case strings.HasPrefix(s[i:], "||"):
			toks = append(toks, token{tOr, "||"})
			i += 2
		case c == '!':
			toks = append(toks, token{tNot, "!"})
			i++
		case c == '(':
			toks = append(toks, token{tLParen, "("})
			i++
		case c == ')':
			toks = append(toks, token{tRParen, ")"})
			i++
		case c == '{':
			toks = append(toks, token{tLBrace, "{"})
			i++
		case c == '}':
			toks = append(toks, token{tRBrace, "}"})
			i++
		case c == ',':
			toks = append(toks, token{tComma, ","})
			i++
		case c == '"' || c == '\'':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("selector %q: unterminated string at offset %d", s, i)
			}
			toks = append(toks, token{tString, s[i+1 : i+1+j]})
			i += j + 2
		case isLabelChar(c):
			j := i
			for j < len(s) && isLabelChar(s[j]) {
				j++
			}
			word := s[i:j]
			rest := strings.TrimLeft(s[j:], " \t")
			switch {
			case word == "has" && strings.HasPrefix(rest, "("):
				toks = append(toks, token{tHas, word})
			case word == "all" && strings.HasPrefix(rest, "("):
				toks = append(toks, token{tAll, word})
			case word == "global" && strings.HasPrefix(rest, "("):
				toks = append(toks, token{tGlobal, word})
			case word == "in":
				toks = append(toks, token{tIn, word})
			case word == "contains":
				toks = append(toks, token{tContains, word})
			case word == "not" && strings.HasPrefix(rest, "in") && (len(rest) == 2 || !isLabelChar(rest[2])):
				toks = append(toks, token{tNotIn, "not in"})
				j = len(s) - len(rest) + 2
			case (word == "starts" || word == "ends") && strings.HasPrefix(rest, "with") && (len(rest) == 4 || !isLabelChar(rest[4])):
				k := tStartsWith
				if word == "ends" {
					k = tEndsWith
				}
				toks = append(toks, token{k, word + " with"})
				j = len(s) - len(rest) + 4
			default:
				toks = append(toks, token{tLabel, word})
			}
			i = j
		default:
			return nil, fmt.Errorf("selector %q: unexpected character %q at offset %d", s, c, i)
		}
	}
	return toks, nil
}

func validKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if !isLabelChar(k[i]) {
			return false
		}
	}
	return k != ""
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) done() bool { return p.pos >= len(p.toks) }

func (p *parser) peek() string {
	if p.done() {
		return "end of selector"
	}
	return p.toks[p.pos].String()
}

func (p *parser) accept(k tokKind) (token, bool) {
	if !p.done() && p.toks[p.pos].kind == k {
		p.pos++
		return p.toks[p.pos-1], true
	}
	return token{}, false
}

func (p *parser) expect(k tokKind, what string) (token, error) {
	if t, ok := p.accept(k); ok {
		return t, nil
	}
	return token{}, fmt.Errorf("expected %s, found %s", what, p.peek())
}

func (p *parser) parseOr() (Selector, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for {
		if _, ok := p.accept(tOr); !ok {
			return left, nil
		}
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = orSel{left, right}
	}
}

func (p *parser) parseAnd() (Selector, error) {
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		if _, ok := p.accept(tAnd); !ok {
			return left, nil
		}
		right, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		left = andSel{left, right}
	}
}

func (p *parser) parseUnary() (Selector, error) {
	if _, ok := p.accept(tNot); ok {
		e, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		return notSel{e}, nil
	}
	return p.parseTerm()
}

func (p *parser) parseTerm() (Selector, error) {
	if _, ok := p.accept(tLParen); ok {
		e, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tRParen, "')'"); err != nil {
			return nil, err
		}
		return parenSel{e}, nil
	}
	if _, ok := p.accept(tAll); ok {
		if err := p.emptyCall(); err != nil {
			return nil, err
		}
		return allSel{}, nil
	}
	if _, ok := p.accept(tGlobal); ok {
		if err := p.emptyCall(); err != nil {
			return nil, err
		}
		return allSel{}, nil
	}
	if _, ok := p.accept(tHas); ok {
		if _, err := p.expect(tLParen, "'('"); err != nil {
			return nil, err
		}
		var key string
		if t, ok := p.accept(tLabel); ok {
			key = t.text
		} else if t, ok := p.accept(tString); ok && validKey(t.text) {
			key = t.text
		} else {
			return nil, fmt.Errorf("expected a label name in has(), found %s", p.peek())
		}
		if _, err := p.expect(tRParen, "')'"); err != nil {
			return nil, err
		}
		return hasSel{key}, nil
	}
	lt, err := p.expect(tLabel, "a label name, has(), all() or '('")
	if err != nil {
		return nil, err
	}
	key := lt.text
	if p.done() {
		return nil, fmt.Errorf("expected an operator after %q", key)
	}
	op := p.toks[p.pos]
	p.pos++
	switch op.kind {
	case tEq, tNe, tContains, tStartsWith, tEndsWith:
		v, err := p.expect(tString, "a quoted value")
		if err != nil {
			return nil, err
		}
		return cmpSel{key: key, op: op.kind, val: v.text}, nil
	case tIn, tNotIn:
		if _, err := p.expect(tLBrace, "'{'"); err != nil {
			return nil, err
		}
		set := map[string]bool{}
		if _, ok := p.accept(tRBrace); !ok {
			for {
				v, err := p.expect(tString, "a quoted value")
				if err != nil {
					return nil, err
				}
				set[v.text] = true
				if _, ok := p.accept(tComma); ok {
					continue
				}
				if _, err := p.expect(tRBrace, "',' or '}'"); err != nil {
					return nil, err
				}
				break
			}
		}
		return setSel{key: key, not: op.kind == tNotIn, set: set}, nil
	}
	return nil, fmt.Errorf("expected an operator after %q, found %s", key, op)
}

func (p *parser) emptyCall() error {
	if _, err := p.expect(tLParen, "'('"); err != nil {
		return err
	}
	_, err := p.expect(tRParen, "')'")
	return err
}

type allSel struct{}

func (allSel) Matches(map[string]string) bool { return true }
func (allSel) String() string                 { return "all()" }

type hasSel struct{ key string }

func (s hasSel) Matches(l map[string]string) bool { _, ok := l[s.key]; return ok }
func (s hasSel) String() string                   { return "has(" + s.key + ")" }

type cmpSel struct {
	key string
	op  tokKind
	val string
}

func (s cmpSel) Matches(l map[string]string) bool {
	v, ok := l[s.key]
	switch s.op {
	case tEq:
		return ok && v == s.val
	case tNe:
		return !ok || v != s.val
	case tContains:
		return ok && strings.Contains(v, s.val)
	case tStartsWith:
		return ok && strings.HasPrefix(v, s.val)
	case tEndsWith:
		return ok && strings.HasSuffix(v, s.val)
	}
	return false
}

func (s cmpSel) String() string {
	ops := map[tokKind]string{tEq: "==", tNe: "!=", tContains: "contains", tStartsWith: "starts with", tEndsWith: "ends with"}
	return fmt.Sprintf("%s %s %s", s.key, ops[s.op], quote(s.val))
}

// quote quotes a value the way the tokenizer reads it back: no escapes, so a
// value holding a double quote is single-quoted.
func quote(v string) string {
	if strings.Contains(v, `"`) {
		return "'" + v + "'"
	}
	return `"` + v + `"`
}

type setSel struct {
	key string
	not bool
	set map[string]bool
}

func (s setSel) Matches(l map[string]string) bool {
	v, ok := l[s.key]
	if s.not {
		return !ok || !s.set[v]
	}
	return ok && s.set[v]
}

func (s setSel) String() string {
	vals := make([]string, 0, len(s.set))
	for v := range s.set {
		vals = append(vals, quote(v))
	}
	sort.Strings(vals)
	op := "in"
	if s.not {
		op = "not in"
	}
	return fmt.Sprintf("%s %s {%s}", s.key, op, strings.Join(vals, ", "))
}

type notSel struct{ e Selector }

func (s notSel) Matches(l map[string]string) bool { return !s.e.Matches(l) }
func (s notSel) String() string                   { return "!" + s.e.String() }

type andSel struct{ a, b Selector }

func (s andSel) Matches(l map[string]string) bool { return s.a.Matches(l) && s.b.Matches(l) }
func (s andSel) String() string                   { return s.a.String() + " && " + s.b.String() }

type orSel struct{ a, b Selector }

func (s orSel) Matches(l map[string]string) bool { return s.a.Matches(l) || s.b.Matches(l) }
func (s orSel) String() string                   { return s.a.String() + " || " + s.b.String() }

type parenSel struct{ e Selector }

func (s parenSel) Matches(l map[string]string) bool { return s.e.Matches(l) }
func (s parenSel) String() string                   { return "(" + s.e.String() + ")" }
