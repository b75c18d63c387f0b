package nxos

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
	"github.com/fabric-reconciler/fabric-reconciler/test/nxossim"
)

// secretStandIn stands for another neighbor's "password 3 <key>" line: the
// emulator does not model neighbor passwords, so a hand-made neighbor
// carries it in its description, which is a line of the same output. No
// error, message or log may quote it.
const secretStandIn = "5ba8b3a5a4e0a5f1c2d3"

// handMade is the network team's configuration with a description that
// holds error string e, and the stand-in secret on another neighbor.
func handMade(e string) []string {
	return append(append([]string(nil), leafStartup...),
		"router bgp 63500",
		"neighbor 10.9.9.8",
		"remote-as 65008",
		"description core uplink "+e+" see ticket 42",
		"exit",
		"neighbor 10.9.9.9",
		"remote-as 65009",
		"description password 3 "+secretStandIn,
		"exit",
		"exit",
		"ip prefix-list HANDMADE description "+e+" see ticket 42",
	)
}

// errorStrings are the strings the driver's platform flags as failures
// (scrapligo's cisco_nxos list and the driver's extraFailures), and the
// emulator's own error replies.
var errorStrings = []string{
	"ERROR:", "% Invalid command", "% Incomplete command", "% Ambiguous command", "% Invalid input detected",
	"% Unknown command", "at '^' marker", "Invalid range", "% Invalid parameter detected", "% Invalid ip address",
}

// TestHandMadeErrorStringsInShowOutput: a hand-made description holding an
// error string is text, not an error. The switch is read, planned and
// applied; the hand-made neighbors are untouched; and nothing the driver
// reports or logs quotes another line of the configuration.
func TestHandMadeErrorStringsInShowOutput(t *testing.T) {
	for _, e := range errorStrings {
		t.Run(e, func(t *testing.T) {
			t.Parallel()
			l := newLab(t, labOpts{startup: handMade(e)})
			d := l.driver(t, l.fabric(t, nil))
			_, res, err := reconcile(t, l.ctx, d, haystack())
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			assertConverged(t, l.ctx, d, haystack())
			body := l.body(t, "leaf201")
			for _, want := range []string{"description core uplink " + e + " see ticket 42", "description password 3 " + secretStandIn} {
				if !strings.Contains(body, want) {
					t.Errorf("the hand-made %q is gone:\n%s", want, body)
				}
			}
			all := strings.Join(res.Messages, "\n") + l.log.String()
			if strings.Contains(all, secretStandIn) {
				t.Errorf("another neighbor's line reached the messages or the log:\n%s", all)
			}
		})
	}
}

// TestReadErrorsQuoteOneLine: a show command whose output is not what it
// prints (a refusal, here a role that may not read the configuration) is
// an error that quotes the output's first line only, never the rest.
func TestReadErrorsQuoteOneLine(t *testing.T) {
	l := newLab(t, labOpts{startup: handMade("ERROR:")})
	d := l.driver(t, l.fabric(t, nil))
	// A refusal followed by the configuration it should not have printed:
	// nothing after the first line may be quoted.
	full, err := l.sims["leaf201"].Show("show running-config bgp")
	if err != nil {
		t.Fatal(err)
	}
	refusal := "% Permission denied for the role\n" + strings.ReplaceAll(full, "!Command: ", "! ")
	refusal = strings.ReplaceAll(refusal, "version ", "ver ")
	l.sims["leaf201"].SetFaults(nxossim.Faults{RejectExec: []nxossim.RejectRule{
		{Match: regexp.MustCompile(`^show running-config bgp$`), Reply: strings.TrimRight(refusal, "\n")}}})
	_, err = d.Observe(l.ctx)
	if err == nil {
		t.Fatal("observe read a refusal as a configuration")
	}
	var re *clissh.ReadError
	if !errors.As(err, &re) || re.First != "% Permission denied for the role" {
		t.Fatalf("error %v, want a ReadError quoting the first line", err)
	}
	if !strings.Contains(err.Error(), `switch leaf201: "show running-config bgp": not a configuration`) {
		t.Errorf("error: %v", err)
	}
	if strings.Contains(err.Error()+l.log.String(), secretStandIn) || strings.Contains(err.Error(), "router bgp") {
		t.Errorf("the error or the log quotes more than the first line:\n%v\n%s", err, l.log.String())
	}
}
