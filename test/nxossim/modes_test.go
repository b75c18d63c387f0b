package nxossim

import (
	"regexp"
	"strings"
	"testing"

	"github.com/scrapli/scrapligo/platform"
)

// TestModesAndPrompts walks every configuration mode, in configure terminal
// and in a configuration session, and checks the prompts, the way back out
// (exit, end, Ctrl-Z), and that a command of an enclosing mode moves there.
// Every prompt must be recognised by scrapligo's cisco_nxos privilege
// levels: (config...)# as "configuration", (config-s...)# only by the level
// the caller adds.
func TestModesAndPrompts(t *testing.T) {
	p, err := platform.NewPlatform("cisco_nxos", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	d, err := p.GetNetworkDriver()
	if err != nil {
		t.Fatal(err)
	}
	cfgLevel := d.PrivilegeLevels["configuration"]
	cfgRe := regexp.MustCompile(cfgLevel.Pattern)
	execRe := regexp.MustCompile(d.PrivilegeLevels["privilege-exec"].Pattern)
	addSessionPriv(d, "x")
	sessRe := regexp.MustCompile(d.PrivilegeLevels["configuration-session"].Pattern)

	steps := []struct{ line, prompt string }{
		{"configure terminal", "leaf201(config)# "},
		{"router bgp 63500", "leaf201(config-router)# "},
		{"address-family ipv4 unicast", "leaf201(config-router-af)# "},
		{"exit", "leaf201(config-router)# "},
		{"vrf blue", "leaf201(config-router-vrf)# "},
		{"address-family ipv6 unicast", "leaf201(config-router-vrf-af)# "},
		{"neighbor 10.1.1.1", "leaf201(config-router-vrf-neighbor)# "}, // from vrf-af: a vrf command
		{"address-family ipv4 unicast", "leaf201(config-router-vrf-neighbor-af)# "},
		{"neighbor 10.1.1.2", "leaf201(config-router-vrf-neighbor)# "},
		{"exit", "leaf201(config-router-vrf)# "},
		{"exit", "leaf201(config-router)# "},
		{"neighbor 2001:db8::1", "leaf201(config-router-neighbor)# "},
		{"address-family ipv6 unicast", "leaf201(config-router-neighbor-af)# "},
		{"show hostname", "leaf201(config-router-neighbor-af)# "}, // exec commands work in any mode
		{"route-map RM deny 20", "leaf201(config-route-map)# "},   // a config command
		{"exit", "leaf201(config)# "},
		{"exit", "leaf201# "},
		{"configure session s1", "leaf201(config-s)# "},
		{"router bgp 63500", "leaf201(config-s-router)# "},
		{"neighbor 10.9.9.9", "leaf201(config-s-router-neighbor)# "},
		{"address-family ipv4 unicast", "leaf201(config-s-router-neighbor-af)# "},
		{"vrf red", "leaf201(config-s-router-vrf)# "},
		{"address-family ipv4 unicast", "leaf201(config-s-router-vrf-af)# "},
		{"neighbor 10.8.8.8", "leaf201(config-s-router-vrf-neighbor)# "},
		{"address-family ipv4 unicast", "leaf201(config-s-router-vrf-neighbor-af)# "},
		{"route-map X", "leaf201(config-s-route-map)# "},
		{"\x1a", "leaf201# "}, // Ctrl-Z: like end; the session stays
		{"configure session s1", "leaf201(config-s)# "},
		{"end", "leaf201# "},
		{"configure terminal", "leaf201(config)# "},
		{"hostname spine1", "spine1(config)# "},
		{"end", "spine1# "},
	}
	s := startSim(t, sessionsTakeBGP)
	rt := openTerm(t, s, 0)
	for _, st := range steps {
		var out string
		if st.line == "\x1a" {
			rt.send("\x1a")
			rt.waitFor(st.prompt)
			out = rt.take()
		} else {
			out = rt.run(st.line, "# ")
		}
		if !strings.HasSuffix(out, "\n"+st.prompt) {
			t.Fatalf("%q: got %q, want prompt %q", st.line, out, st.prompt)
		}
		prompt := strings.TrimSpace(st.prompt)
		excluded := false // scrapligo's not-contains list keeps it out of "configuration"
		for _, nc := range cfgLevel.NotContains {
			excluded = excluded || strings.Contains(prompt, nc)
		}
		switch {
		case strings.Contains(prompt, "(config-s"):
			if !sessRe.MatchString(prompt) || !excluded {
				t.Errorf("%q: session level %v, excluded from configuration %v", prompt, sessRe.MatchString(prompt), excluded)
			}
		case strings.Contains(prompt, "(config"):
			if !cfgRe.MatchString(prompt) || excluded || sessRe.MatchString(prompt) {
				t.Errorf("%q: configuration level %v, excluded %v, session level %v",
					prompt, cfgRe.MatchString(prompt), excluded, sessRe.MatchString(prompt))
			}
		default:
			if !execRe.MatchString(prompt) {
				t.Errorf("%q not matched by privilege-exec", prompt)
			}
		}
	}
	if ss := s.Sessions(); len(ss) != 1 || len(ss[0].Commands) != 8 {
		t.Errorf("session s1 should hold its 8 lines: %+v", ss)
	}
	// exit in exec mode logs out.
	if _, err := rt.in.Write([]byte("exit\r")); err != nil {
		t.Fatal(err)
	}
	<-rt.done
}
