package frr

import (
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
)

// listenFabric is testFabric in listen peering.
func listenFabric() config.Fabric {
	f := testFabric(63500, "")
	clissh.SettingsOf(f).Peering = clissh.PeeringListen
	return f
}

func listenGroupOf(pw string) fabric.BGPListen {
	l := fabric.BGPListen{Switch: "leaf202", AddressFamily: fabric.IPv4, Ranges: []string{"192.168.9.192/28"}, RemoteAS: fabric.RemoteASExternal,
		LocalASN: 63500, Limit: 100, Prefixes: []fabric.PrefixRule{rule("172.27.0.0/16", 26), rule("172.29.0.0/16", 32)}}
	l.PeerOptions = fabric.PeerOptions{Keepalive: 3, Hold: 9, MaxPrefix: &fabric.MaxPrefix{Limit: 20, Action: fabric.MaxPrefixShutdown}}
	if pw != "" {
		l.Password = fabric.NewSecret(pw, cli.ListenSalt("haystack", "leaf202", fabric.IPv4))
	}
	return l
}

// TestListenScript plans a listen group against a switch that has only its
// instance (the filter first, the group, its options, its family, the
// range last), reads the result back as the desired object, plans nothing
// more, then a second range, and the group's deletion (ranges first, the
// group, the filter).
func TestListenScript(t *testing.T) {
	d := newTestDriver(t, listenFabric())
	sw, _ := d.switches.ByName("leaf202")
	const g = "FR-haystack-NODES-IPV4"
	want := listenGroupOf(recordedPW)
	cfg, err := d.parse(sw, "router bgp 63500\nexit\n")
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.script(sw, cfg, []fabric.Change{create(want)})
	if err != nil {
		t.Fatal(err)
	}
	desc := cli.Mark("orchestrator:fabric-reconciler.haystack").DescribeListen(fabric.IPv4, want.Password)
	wantLines := lines(
		"ip prefix-list "+g+" description orchestrator:fabric-reconciler.haystack owns listen ipv4",
		"ip prefix-list "+g+" seq 5 permit 172.27.0.0/16 le 26",
		"ip prefix-list "+g+" seq 10 permit 172.29.0.0/16 le 32",
		"route-map "+g+" permit 10",
		" description orchestrator:fabric-reconciler.haystack owns listen ipv4",
		" match ip address prefix-list "+g,
		"exit",
		"router bgp 63500",
		" neighbor "+g+" peer-group",
		" neighbor "+g+" remote-as external",
		" neighbor "+g+" password "+cli.Sensitive,
		" neighbor "+g+" description "+desc,
		" neighbor "+g+" timers 3 9",
		" address-family ipv4 unicast",
		"  neighbor "+g+" route-map "+g+" in",
		"  neighbor "+g+" maximum-prefix 20",
		" exit-address-family",
		" bgp listen range 192.168.9.192/28 peer-group "+g)
	if got := s.Text(); got != wantLines {
		t.Fatalf("lines:\n%s\nwant:\n%s", got, wantLines)
	}
	if len(s.Refused()) != 0 {
		t.Fatalf("refused %v", s.Refused())
	}

	// What the switch holds after those lines, as FRR writes it (the
	// password in clear): the desired group, nothing more to plan.
	after := strings.Replace(s.Text(), "password "+cli.Sensitive, "password "+recordedPW, 1)
	cfg, err = d.parse(sw, after)
	if err != nil {
		t.Fatal(err)
	}
	owned, foreign, err := d.observeSwitch(t.Context(), sw, cfg)
	if err != nil {
		t.Fatal(err)
	}
	plan := fabric.Diff(fabric.Target{State: fabric.StateOf(want)}, fabric.Observed{Owned: fabric.StateOf(owned...), Foreign: foreign})
	if len(plan.Changes) != 0 || len(plan.Conflicts) != 0 || len(foreign) != 0 {
		t.Fatalf("after the lines: owned %s foreign %+v plan %+v", js(owned), foreign, plan)
	}

	// A node's address in the cluster's own range is not in the way: a
	// static neighbor may be typed there (while changing peering modes).
	s, err = d.script(sw, cfg, []fabric.Change{create(peer("192.168.9.193", "k8c1m0", 63551, 63500))})
	if err != nil || len(s.Conflicts()) != 0 || len(s.Lines()) == 0 {
		t.Fatalf("a static neighbor in the own range: %v %+v", err, s.Conflicts())
	}

	// A second subnet; the password unchanged is not sent again.
	more := listenGroupOf(recordedPW)
	more.Ranges = append(more.Ranges, "10.9.0.0/28")
	s, err = d.script(sw, cfg, []fabric.Change{update(want, more)})
	if err != nil {
		t.Fatal(err)
	}
	if got, w := s.Text(), lines("router bgp 63500", " bgp listen range 10.9.0.0/28 peer-group "+g); got != w {
		t.Fatalf("a second range:\n%s\nwant:\n%s", got, w)
	}

	// Deleted: the ranges, the group, then its filter (from the switch as
	// the first lines left it: each script updates its model).
	if cfg, err = d.parse(sw, after); err != nil {
		t.Fatal(err)
	}
	s, err = d.script(sw, cfg, []fabric.Change{del(want)})
	if err != nil {
		t.Fatal(err)
	}
	if got, w := s.Text(), lines(
		"router bgp 63500",
		" no bgp listen range 192.168.9.192/28 peer-group "+g,
		" no neighbor "+g+" peer-group",
		"exit",
		"no route-map "+g,
		"no ip prefix-list "+g); got != w {
		t.Fatalf("deleted:\n%s\nwant:\n%s", got, w)
	}
}

// An incomplete group (its route-map unbound by hand, its password changed
// by hand) is observed with the reason as its remote AS, so the plan
// completes it; a listen limit above FRR's default is written for many
// nodes and read back.
func TestListenObserveRepairs(t *testing.T) {
	d := newTestDriver(t, listenFabric())
	sw, _ := d.switches.ByName("leaf202")
	want := listenGroupOf(recordedPW)
	want.Limit = 4000
	cfg, _ := d.parse(sw, "router bgp 63500\nexit\n")
	s, err := d.script(sw, cfg, []fabric.Change{create(want)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.Text(), " bgp listen limit 4000\n") {
		t.Fatalf("no listen limit:\n%s", s.Text())
	}
	full := strings.Replace(s.Text(), "password "+cli.Sensitive, "password "+recordedPW, 1)
	for _, tc := range []struct{ from, to, why string }{
		{"  neighbor FR-haystack-NODES-IPV4 route-map FR-haystack-NODES-IPV4 in\n", "", "route-map FR-haystack-NODES-IPV4 not applied"},
		{"password " + recordedPW, "password " + otherPW, "the description's password fingerprint is not the password's"},
	} {
		cfg, err := d.parse(sw, strings.Replace(full, tc.from, tc.to, 1))
		if err != nil {
			t.Fatal(err)
		}
		owned, _, err := d.observeSwitch(t.Context(), sw, cfg)
		if err != nil {
			t.Fatal(err)
		}
		var got fabric.BGPListen
		for _, o := range owned {
			if l, ok := o.(fabric.BGPListen); ok {
				got = l
			}
		}
		if got.RemoteAS != cli.Incomplete(tc.why) || got.Limit != 4000 {
			t.Errorf("%s: observed %s", tc.why, js(got))
		}
		s, err := d.script(sw, cfg, []fabric.Change{update(got, want)})
		if err != nil || len(s.Lines()) == 0 {
			t.Errorf("%s: no repair (%v)", tc.why, err)
		}
	}
}

// Listen peering needs the shared filter, and the nxos driver does not
// write it.
func TestListenSettings(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"peering: listen\n  prefixFilters: {disabled: true}\n", "prefixFilters.disabled does not apply"},
		{"peering: sometimes\n", `peering: "sometimes" is not neighbors or listen`},
	} {
		_, err := config.Parse([]byte(`cluster: haystack
fabrics:
- name: f
  driver: frr
  asn: 63500
  switches: [{name: leaf201, peerIPs: [192.168.9.204], address: "127.0.0.1:22"}]
  ssh: {username: a, passwordFile: /dev/null, insecureIgnoreHostKey: true}
  ` + tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v", tc.yaml, err)
		}
	}
}
