package nxossim

import (
	"strings"
	"time"
)

type frameKind int

const (
	fConfig frameKind = iota
	fRouter
	fVRF
	fNeighbor
	fAF
	fRouteMap
)

// frame is one level of the configuration mode stack. The prompt is built
// from the stack: (config), (config-router), (config-router-vrf-neighbor-af)
// and so on; in a configuration session "config" becomes "config-s".
type frame struct {
	kind   frameKind
	name   string // ASN, VRF name, neighbor address or route-map name
	af     AF
	action string // route-map permit|deny
	seq    int    // route-map sequence
}

var frameSuffix = map[frameKind]string{
	fRouter:   "-router",
	fVRF:      "-vrf",
	fNeighbor: "-neighbor",
	fAF:       "-af",
	fRouteMap: "-route-map",
}

// shell is one CLI session: a login over SSH, or an in-process caller.
type shell struct {
	srv    *Server
	conn   int
	user   string
	frames []frame     // empty: exec mode
	sess   *cfgSession // the configuration session this shell is in
	base   []frame     // mode stack the running command was parsed in
	length int         // terminal length; 0 = no paging
	width  int         // terminal width
	// dontAsk is "terminal dont-ask" (the emulator never prompts).
	dontAsk bool
	exit    bool        // the user asked to log out
	now     time.Time   // time of the line being run
	failed  bool        // the last line produced an error reply
	pipe    *pipeFilter // set while parsing an output filter
	// json is set for a line that ends in "| json" (or json-pretty);
	// jsonDone by a command that wrote JSON (oper.go).
	json, jsonDone bool
}

func (sh *shell) inConfig() bool { return len(sh.frames) > 0 }

// modeName is the part of the prompt between the parentheses.
func (sh *shell) modeName() string {
	if !sh.inConfig() {
		return ""
	}
	var b strings.Builder
	b.WriteString("config")
	if sh.sess != nil {
		b.WriteString("-s")
	}
	for _, f := range sh.frames[1:] {
		b.WriteString(frameSuffix[f.kind])
	}
	return b.String()
}

func (sh *shell) prompt() string {
	host := sh.srv.running.Hostname
	if !sh.inConfig() {
		return host + "# "
	}
	return host + "(" + sh.modeName() + ")# "
}

func (sh *shell) setFrames(f []frame) {
	sh.frames = f
	if len(f) == 0 {
		// Leaving configuration mode keeps a session's queued commands:
		// NX-OS sessions live until commit or abort.
		sh.frames = nil
		sh.sess = nil
	}
}

// featureBGP tells whether BGP commands are available: the feature is on in
// the running configuration, or enabled earlier in this session.
func (sh *shell) featureBGP() bool {
	on := sh.srv.running.FeatureBGP
	if sh.sess != nil {
		for _, q := range sh.sess.lines {
			if q.feature != nil {
				on = *q.feature
			}
		}
	}
	return on
}

// treeFor returns the command tree of the mode at the top of path.
func treeFor(path []frame) *node {
	top := path[len(path)-1]
	switch top.kind {
	case fRouter:
		return routerTree
	case fVRF:
		return vrfTree
	case fNeighbor:
		return neighborTree
	case fAF:
		parent := path[len(path)-2]
		if parent.kind == fNeighbor {
			return neighborAFTree
		}
		if top.af == IPv6Unicast {
			return routerAF6Tree
		}
		return routerAF4Tree
	case fRouteMap:
		return routeMapTree
	}
	return configTree
}

// runLine runs one input line and returns the reply. The caller holds the
// server lock.
func (sh *shell) runLine(line string) string {
	sh.now = sh.srv.now()
	sh.failed = false
	prompt := sh.prompt()
	end, filters := splitPipe(line)
	sh.json, sh.jsonDone = false, false
	if len(filters) == 1 {
		f := strings.TrimSpace(line[filters[0]:])
		sh.json = f == "json" || f == "json-pretty"
	}
	toks := tokenize(line[:end])
	var out strings.Builder
	for i := 0; i < len(toks); {
		if toks[i].text == ";" {
			i++
			continue
		}
		p, level, perr := sh.match(line, toks, i)
		if perr != nil {
			sh.failed = true
			if !perr.notImpl {
				out.WriteString(strings.Repeat(" ", len(prompt)+perr.pos) + "^\n")
			}
			out.WriteString(perr.msg + "\n")
			break
		}
		text := strings.TrimSpace(line[toks[i].off:p.end])
		out.WriteString(sh.run(p, level, text))
		if sh.exit || sh.failed {
			break
		}
		i = p.next
	}
	if sh.json && !sh.jsonDone && !sh.failed {
		sh.failed = true
		return msgNotImpl + "\n" // the JSON form of this command is not emulated
	}
	if len(filters) == 0 || sh.failed || sh.json {
		return out.String()
	}
	result := out.String()
	for k, start := range filters {
		stop := len(line)
		if k+1 < len(filters) {
			stop = filters[k+1] - 1
		}
		// Blank out the rest of the line so that offsets (and carets) stay.
		masked := strings.Repeat(" ", start) + line[start:stop]
		p, perr := pipeTree.parse(sh, masked, tokenize(masked), 0)
		if perr != nil {
			sh.failed = true
			if !perr.notImpl {
				return strings.Repeat(" ", len(prompt)+perr.pos) + "^\n" + perr.msg + "\n"
			}
			return perr.msg + "\n"
		}
		if msg := p.h(sh, p.a).do(sh); sh.failed {
			return msg
		}
		result = sh.pipe.apply(result)
	}
	return result
}

// match tries the current mode, then each enclosing mode (NX-OS, like IOS,
// runs a command of a parent mode and moves there), then the exec commands,
// which NX-OS accepts in every configuration mode. When nothing matches, the
// error that got furthest into the line is reported.
func (sh *shell) match(line string, toks []token, i int) (*parsed, int, *parseErr) {
	var best *parseErr
	keep := func(e *parseErr) {
		switch {
		case best == nil:
			best = e
		case e.notImpl != best.notImpl:
			if e.notImpl {
				best = e
			}
		case e.pos > best.pos:
			best = e
		}
	}
	for level := len(sh.frames); level >= 1; level-- {
		p, err := treeFor(sh.frames[:level]).parse(sh, line, toks, i)
		if err == nil {
			return p, level, nil
		}
		keep(err)
	}
	p, err := execTree.parse(sh, line, toks, i)
	if err == nil {
		return p, -1, nil
	}
	keep(err)
	return nil, 0, best
}

// cmd is what a matched command does.
type cmd struct {
	push    []frame                                            // modes entered, relative to where it parsed
	apply   func(c *Config, path []frame, now time.Time) error // configuration change
	feature *bool                                              // sets feature bgp (seen by later session lines)
	do      func(sh *shell) string                             // an exec-style action (show, exit, commit...)
}

// errReply is a semantic error: printed in configure terminal, reported by
// verify/commit in a session.
type errReply string

func (e errReply) Error() string { return "ERROR: " + string(e) }

func (sh *shell) run(p *parsed, level int, text string) string {
	base := sh.frames
	if level >= 0 {
		base = sh.frames[:level]
	}
	sh.base = base
	c := p.h(sh, p.a)
	if c == nil {
		return ""
	}
	if c.do != nil {
		if r := sh.srv.execRejectRule(text); r != nil {
			sh.failed = true
			return r.reply() + "\n"
		}
		out := c.do(sh)
		if !sh.failed {
			out += sh.srv.warning(text, false)
		}
		return out
	}
	path := append(append([]frame(nil), base...), c.push...)
	srv := sh.srv
	if c.apply == nil {
		sh.setFrames(path)
		return srv.warning(text, sh.sess != nil)
	}
	rule := srv.rejectRule(text, sh.sess != nil)
	if rule != nil && (sh.sess == nil || rule.AtEntry) {
		sh.failed = true
		return rule.reply() + "\n"
	}
	if sh.sess != nil {
		q := queuedLine{text: text, path: path, apply: c.apply, feature: c.feature}
		if rule != nil {
			q.reject = rule.reply()
		}
		sh.sess.lines = append(sh.sess.lines, q)
		sh.setFrames(path)
		return ""
	}
	var before *Config
	if c.feature != nil && !*c.feature && srv.running.FeatureBGP {
		// NX-OS makes a system checkpoint before it disables a feature.
		before = srv.running.Clone()
	}
	if err := c.apply(srv.running, path, sh.now); err != nil {
		sh.failed = true
		return err.Error() + "\n"
	}
	if before != nil {
		srv.addSystemCheckpoint("system-fm-bgp", sh.user, before, sh.now)
	}
	srv.lastChange = sh.now
	sh.setFrames(path)
	return srv.warning(text, sh.sess != nil)
}
