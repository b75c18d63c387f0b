package nxossim

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scrapli/scrapligo/transport"
)

// The golden tests compare the emulator with public recordings of real
// NX-OS switches (testdata/README.md says where each one comes from).

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// TestGoldenReplies types the recorded inputs at the recorded prompts and
// expects the recorded bytes back, caret positions included.
func TestGoldenReplies(t *testing.T) {
	var cases []struct{ Prompt, Input, Output string }
	if err := json.Unmarshal([]byte(readTestdata(t, "scrapli_nxos_9.2.4_replies.json")), &cases); err != nil {
		t.Fatal(err)
	}
	s := startSim(t, func(o *Options) { o.Hostname = "switch" })
	for _, tc := range cases {
		t.Run(tc.Prompt+tc.Input, func(t *testing.T) {
			rt := openTerm(t, s, 255)
			if tc.Prompt == "switch(config)# " {
				rt.run("configure terminal", "switch(config)# ")
			}
			wantPrompt := tc.Output[strings.LastIndex(tc.Output, "\n")+1:]
			got := rt.run(tc.Input, wantPrompt)
			// What the terminal shows: the echo, a newline, then NX-OS's reply.
			if want := tc.Input + "\n" + tc.Output; got != want {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

// TestGoldenShowVersion reproduces a recorded Nexus 9000v show version. The
// facts (version, image, memory, serial, uptime) and the legal notice are
// configured from the recording; the layout is the emulator's.
func TestGoldenShowVersion(t *testing.T) {
	rec := readTestdata(t, "show_version_n9kv_9.2.4.txt")
	notice, _, ok := strings.Cut(rec, "\nSoftware\n")
	if !ok {
		t.Fatal("recording has no Software section")
	}
	t0 := time.Date(2021, 5, 28, 20, 0, 0, 0, time.UTC)
	calls := 0
	s := startSim(t, func(o *Options) {
		o.Hostname = "switch"
		o.Now = func() time.Time {
			calls++
			if calls == 1 { // boot time
				return t0
			}
			return t0.Add(3*time.Hour + 31*time.Minute + 27*time.Second)
		}
		o.Platform = Platform{
			Version:     "9.2(4)",
			ImageFile:   "bootflash:///nxos.9.2.4.bin",
			CompileTime: "8/20/2019 7:00:00 [08/20/2019 15:52:22]",
			Chassis:     "Nexus9000 9000v",
			MemoryKB:    8159680,
			BoardID:     "9FPSFFLS9ZL",
			BootflashKB: 3509454,
			Notice:      notice,
		}
	})
	rt := openTerm(t, s, 255)
	got := rt.run("show version", "switch# ")
	got = strings.TrimPrefix(got, "show version\n")
	if trimLines(got) != trimLines(rec) {
		t.Errorf("show version differs from the recording:\n--- got\n%s\n--- recorded\n%s", got, rec)
	}
}

// TestGoldenNotice checks the default (NX-OS 9.3) legal notice against a
// 9.3(15) recording; only the copyright year differs.
func TestGoldenNotice(t *testing.T) {
	rec := readTestdata(t, "show_version_9.3.15.txt")
	recNotice, _, _ := strings.Cut(rec, "\n\nSoftware\n")
	year := regexp.MustCompile(`2002-20\d\d`)
	got := year.ReplaceAllString(trimLines(notice93), "2002-YYYY")
	want := year.ReplaceAllString(trimLines(recNotice), "2002-YYYY")
	if got != want {
		t.Errorf("notice:\n%s\nrecorded:\n%s", got, want)
	}
	// The lines under Software and Hardware use the recorded labels.
	out, err := startSim(t, nil).Show("show version")
	if err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{"\nSoftware\n  BIOS: version ", "\n NXOS: version ", "\n  BIOS compile time:  ",
		"\n  NXOS image file is: ", "\n  NXOS compile time:  ", "\n\n\nHardware\n  cisco ", " kB of memory.\n  Processor Board ID ",
		"\n\n  Device name: ", "\n  bootflash: ", "\nKernel uptime is ", "\n\nLast reset ", "\n  Reason: ", "\n  System version: ",
		"\n\nplugin\n  Core Plugin, Ethernet Plugin\n\nActive Package(s):\n"} {
		if !strings.Contains(rec, label) && !strings.Contains(rec, strings.TrimRight(label, " ")) {
			t.Fatalf("test bug: %q not in the recording", label)
		}
		if !strings.Contains(out, label) {
			t.Errorf("show version lacks %q", label)
		}
	}
}

var timeLine = regexp.MustCompile(`(?m)^(!Running configuration last done at:|!Time:) .*$`)

// TestGoldenRunningConfigBGP feeds the configuration of a recorded `show
// running-config bgp` back through scrapligo and expects the same output:
// ordering, indentation and header as the real switch printed them.
func TestGoldenRunningConfigBGP(t *testing.T) {
	cases := []struct{ file, version, bios string }{
		{"running_config_bgp_9.3.8.txt", "9.3(8)", ""},
		{"running_config_bgp_9.3.7.txt", "9.3(7)", "07.68"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			rec := readTestdata(t, tc.file)
			if first, rest, _ := strings.Cut(rec, "\n"); strings.Contains(first, "# show") {
				rec = rest // the recording starts with the prompt and command
			}
			_, body, ok := strings.Cut(rec, "\nfeature bgp\n")
			if !ok {
				t.Fatal("no feature bgp in the recording")
			}
			var lines []string
			for _, l := range strings.Split(body, "\n") {
				if l = strings.TrimSpace(l); l != "" {
					lines = append(lines, l)
				}
			}
			s := startSim(t, func(o *Options) {
				p := DefaultPlatform()
				p.Version, p.BIOSVersion = tc.version, tc.bios
				o.Platform = p
			})
			d := scrapliDriver(t, s, transport.StandardTransport)
			m, err := d.SendConfigs(lines)
			if err != nil || m.Failed != nil {
				t.Fatalf("config: %v %v\n%s", err, m.Failed, m.JoinedResult())
			}
			r, err := d.SendCommand("show running-config bgp")
			if err != nil || r.Failed != nil {
				t.Fatal(err, r.Failed)
			}
			got := timeLine.ReplaceAllString(trimLines(r.Result), "$1 <time>")
			want := timeLine.ReplaceAllString(trimLines(rec), "$1 <time>")
			if got != want {
				t.Errorf("got:\n%s\n--- recorded:\n%s", got, want)
			}
		})
	}
}

// TestGoldenBGPSummaryLayout compares `show ip bgp summary` with a recording:
// same header lines and every column ending where the real switch ends it.
func TestGoldenBGPSummaryLayout(t *testing.T) {
	rec := strings.Split(readTestdata(t, "show_ip_bgp_summary_vrf.txt"), "\n")
	s := startSim(t, func(o *Options) { o.Now = fixedClock() })
	if err := s.Configure("router bgp 65001", "vrf RED", "router-id 192.168.1.1",
		"neighbor 192.168.1.2", "remote-as 65002", "address-family ipv4 unicast"); err != nil {
		t.Fatal(err)
	}
	out, err := s.Show("show ip bgp summary vrf RED")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(out, "\n")
	for _, i := range []int{0, 1} {
		if got[i] != rec[i] {
			t.Errorf("line %d: %q, recorded %q", i+1, got[i], rec[i])
		}
	}
	find := func(lines []string, prefix string) int {
		for i, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return i
			}
		}
		t.Fatalf("no line starting %q in %q", prefix, lines)
		return -1
	}
	gh, rh := find(got, "Neighbor "), find(rec, "Neighbor ")
	if got[gh] != rec[rh] {
		t.Errorf("column header %q, recorded %q", got[gh], rec[rh])
	}
	ends := func(l string) []int {
		var e []int
		for i := range l {
			if l[i] != ' ' && (i+1 == len(l) || l[i+1] == ' ') {
				e = append(e, i)
			}
		}
		return e
	}
	// Columns V..Up/Down are right-aligned: their last characters line up.
	ge, re := ends(got[gh+1]), ends(rec[rh+1])
	if len(ge) < 10 || len(re) < 10 {
		t.Fatalf("rows: %q / %q", got[gh+1], rec[rh+1])
	}
	for c := 1; c <= 8; c++ {
		if ge[c] != re[c] {
			t.Errorf("column %d ends at %d, recorded %d:\n%s\n%s", c+1, ge[c], re[c], got[gh+1], rec[rh+1])
		}
	}
	if !strings.HasSuffix(got[gh+1], " Idle") {
		t.Errorf("peer not Idle: %q", got[gh+1])
	}
}

// TestGoldenSessionReplies checks the configuration session replies and
// show layouts against the recorded ones.
func TestGoldenSessionReplies(t *testing.T) {
	rec := readTestdata(t, "session_manager_replies.txt")
	recReply := func(cmd string) []string {
		var out []string
		lines := strings.Split(rec, "\n")
		for i, l := range lines {
			if l == cmd {
				for _, r := range lines[i+1:] {
					if strings.HasPrefix(r, "#") || strings.HasPrefix(r, "show ") || r == "verify" || r == "commit" || r == "" {
						break
					}
					out = append(out, r)
				}
				return out
			}
		}
		t.Fatalf("no %q in recording", cmd)
		return nil
	}
	collapse := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	s := startSim(t, func(o *Options) { o.Now = fixedClock(); sessionsTakeBGP(o) })
	rt := openTerm(t, s, 255)
	reply := func(line, prompt string) []string {
		out := strings.TrimSuffix(rt.run(line, prompt), prompt)
		out = strings.TrimPrefix(out, line+"\n")
		return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	}
	// The recording is from NX-OS 6.2 ("one per line.  End"); the emulator
	// prints the 9.x text with one space, so spacing is not compared here.
	got := reply("configure session Netspoc", "leaf201(config-s)# ")
	want := recReply("configure session Netspoc")
	if len(got) != len(want) || collapse(got[0]) != collapse(want[0]) || collapse(got[1]) != collapse(want[1]) {
		t.Errorf("configure session: %q, recorded %q", got, want)
	}
	reply("router bgp 65000", "leaf201(config-s-router)# ")
	reply("neighbor 10.0.0.1", "leaf201(config-s-router-neighbor)# ")
	reply("remote-as 65001", "leaf201(config-s-router-neighbor)# ")

	shown := reply("show configuration session Netspoc", "leaf201(config-s-router-neighbor)# ")
	wantShown := []string{"config session name Netspoc", "0001  router bgp 65000", "0002  neighbor 10.0.0.1", "0003  remote-as 65001"}
	recShown := recReply("show configuration session myACLs")
	if strings.Join(shown, "\n") != strings.Join(wantShown, "\n") || !strings.HasPrefix(recShown[1], "0001  ") {
		t.Errorf("show configuration session: %q", shown)
	}
	status := reply("show configuration session status", "leaf201(config-s-router-neighbor)# ")
	recStatus := recReply("show configuration session status")
	if len(status) != len(recStatus) {
		t.Fatalf("status: %q, recorded %q", status, recStatus)
	}
	for i := range status {
		k, _, _ := strings.Cut(status[i], ": ")
		rk, _, _ := strings.Cut(recStatus[i], ": ")
		if k != rk {
			t.Errorf("status line %d: %q, recorded %q", i, status[i], recStatus[i])
		}
	}
	summary := reply("show configuration session summary", "leaf201(config-s-router-neighbor)# ")
	recSummary := recReply("show configuration session summary")
	if summary[0] != recSummary[0] || summary[1] != recSummary[1] {
		t.Errorf("summary header %q, recorded %q", summary[:2], recSummary[:2])
	}
	if want := "Netspoc                 admin                   17:22:38 UTC Mar 05 2024"; summary[2] != want {
		t.Errorf("summary row %q, want %q (recorded layout %q)", summary[2], want, recSummary[2])
	}
	if last := summary[len(summary)-1]; last != "Number of active configuration sessions = 1" {
		t.Errorf("summary count %q", last)
	}
	if got, want := reply("verify", "leaf201(config-s-router-neighbor)# "), recReply("verify"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("verify: %q, recorded %q", got, want)
	}
	if got, want := reply("commit", "leaf201# "), recReply("commit"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("commit: %q, recorded %q", got, want)
	}
}
