package nxossim

import (
	"os"
	"strings"
	"testing"
)

// TestReplySources: every reply the NX-OS driver keys on has a source or is
// an assumption with what the driver does if it is wrong; docs/nxossim.md
// lists each one; and the emulator prints what each probe says.
func TestReplySources(t *testing.T) {
	doc, err := os.ReadFile("../../docs/nxossim.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Replies {
		name := r.Text
		if name == "" {
			name = r.What
		}
		t.Run(name, func(t *testing.T) {
			if (r.Source == "") == (r.IfWrong == "") {
				t.Errorf("needs either a source or, as an assumption, what the driver does if it is wrong")
			}
			if r.Text != "" && !strings.Contains(string(doc), strings.TrimSpace(r.Text)) {
				t.Errorf("docs/nxossim.md does not list %q", r.Text)
			}
			if len(r.Probe) == 0 {
				return
			}
			s := startSim(t, func(o *Options) { o.StartupConfig = append(o.StartupConfig, "router bgp 63500") })
			term := openTerm(t, s, 0)
			term.run("terminal length 0", "# ")
			var out string
			for _, l := range r.Probe {
				out = term.run(l, "# ")
			}
			if !strings.Contains(out, r.Text) {
				t.Errorf("after %q the emulator printed %q, which lacks %q", r.Probe, out, r.Text)
			}
		})
	}
}
