package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText prints the report for people: per fabric and switch, each
// session and route with "ok" or "PROBLEM", the problem's cause, and the
// count.
func WriteText(w io.Writer, r Report) error {
	var b strings.Builder
	for _, f := range r.Fabrics {
		fmt.Fprintf(&b, "Fabric %s (driver %s): %s\n", clean(f.Name), clean(f.Driver), problems(f.Problems))
		if f.Error != "" {
			fmt.Fprintf(&b, "  PROBLEM  cannot read the fabric: %s\n\n", clean(f.Error))
			continue
		}
		for _, s := range f.Switches {
			fmt.Fprintf(&b, "  switch %s\n", clean(s.Name))
			if s.Error != "" {
				fmt.Fprintf(&b, "    PROBLEM  cannot read the switch: %s\n", clean(s.Error))
				continue
			}
			for _, c := range s.Sessions {
				line := fmt.Sprintf("session %s %s (AS %d): ", clean(c.Node), c.PeerAddress, c.RemoteASN)
				if c.OK {
					line += sessionState(c)
				} else {
					line += c.Problem
				}
				writeCheck(&b, c.OK, line, c.Cause)
			}
			for _, c := range s.Routes {
				writeCheck(&b, c.OK, routeLine(c), c.Cause)
			}
		}
		b.WriteString("\n")
	}
	if r.OK() {
		b.WriteString("verify: every session and route as expected\n")
	} else {
		fmt.Fprintf(&b, "verify: %s\n", problems(r.Problems))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeCheck(b *strings.Builder, ok bool, line, cause string) {
	mark := "ok      "
	if !ok {
		mark = "PROBLEM "
	}
	fmt.Fprintf(b, "    %s %s\n", mark, clean(line))
	if !ok && cause != "" {
		fmt.Fprintf(b, "             cause: %s\n", clean(cause))
	}
}

func sessionState(c SessionCheck) string {
	if c.Expected != "Established" {
		return c.State + " (" + c.Expected + ")"
	}
	s := fmt.Sprintf("%s for %s, %d prefixes received", c.State, time.Duration(c.UptimeSeconds)*time.Second, c.PrefixesReceived)
	if c.HoldTimeSeconds > 0 {
		s += fmt.Sprintf(", hold time %d s", c.HoldTimeSeconds)
	}
	return s
}

func routeLine(c RouteCheck) string {
	what := c.Object
	switch c.Kind {
	case KindPodBlock:
		what = "pod block " + c.Target + " of " + strings.TrimPrefix(c.Object, "Node/")
	case KindServiceRange:
		what = "service range " + c.Target + " (" + c.Object + ")"
	case KindService:
		what = fmt.Sprintf("%s %s (%s)", c.Object, c.Target, c.Policy)
	}
	if !c.OK {
		return what + ": " + c.Problem
	}
	if c.Route == "" {
		return what + ": no route, none expected (no node of this switch advertises it)"
	}
	var hops []string
	for _, h := range c.NextHops {
		if h.Node != "" {
			hops = append(hops, h.Node)
		} else {
			hops = append(hops, h.Address.String())
		}
	}
	return fmt.Sprintf("%s: %s via %s (%d of %d)", what, c.Route, strings.Join(hops, ", "), c.Width, c.ExpectedWidth)
}

func problems(n int) string {
	switch n {
	case 0:
		return "no problem"
	case 1:
		return "1 problem"
	}
	return fmt.Sprintf("%d problems", n)
}

// clean keeps a text on one line: what switches and the cluster say must
// not forge report lines.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// WriteJSON prints the report as JSON (formatVersion 1).
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
