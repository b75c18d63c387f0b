package nxos

import (
	"fmt"
	"regexp"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
)

// passwordLineRe is a neighbor's password line as NX-OS prints it,
// "password 3 <encrypted>" (or a type 0/7 form), at the end of a flattened
// "parent > child" line.
var passwordLineRe = regexp.MustCompile(`(^|> )password( [037])? \S+$`)

// maskPassword hides the password of a configuration line the driver puts
// in an error or a message: NX-OS's type-3 encryption is reversible, so the
// encrypted form is as secret as the password.
func maskPassword(line string) string {
	return passwordLineRe.ReplaceAllString(line, "${1}password${2} "+cli.Sensitive)
}

// managedOptions are the peer options NX-OS sets per neighbor (apply.go
// PeerUp): those FRR and NX-OS share (cli.ManagedOptions). Not graceful restart: NX-OS sets it for the BGP instance or a
// VRF context only ("graceful-restart restart-time|stalepath-time",
// "graceful-restart-helper" under router bgp; no neighbor-mode form in
// Cisco's command reference, nor among the neighbor attributes ansible's
// cisco.nxos bgp_global parses); a helper keeps a restarting node's routes
// for the restart time the node advertises.
var managedOptions = cli.ManagedOptions

// NX-OS ranges of the option values.
const (
	// maxPrefixLimit: "The range is from 1 to 300000" (Cisco Nexus 3548
	// Switch NX-OS Unicast Routing Command Reference, "maximum-prefix
	// (BGP)"). Later Nexus 9000 releases may take more; the lower bound
	// is the safe one.
	maxPrefixLimit = 300000
	// maxTimer: keepalive and hold time, 0-3600 seconds in Cisco's NX-OS
	// BGP configuration guides ("timers keepalive-time hold-time");
	// an assumption not checked against a switch.
	maxTimer = 3600
)

// checkOptions refuses the values NX-OS cannot take.
func checkOptions(o fabric.PeerOptions) error {
	if o.MaxPrefix != nil && o.MaxPrefix.Limit > maxPrefixLimit {
		return fmt.Errorf("NX-OS takes maximum-prefix 1-%d, not %d", maxPrefixLimit, o.MaxPrefix.Limit)
	}
	if o.Hold > maxTimer || o.Keepalive > maxTimer {
		return fmt.Errorf("NX-OS takes timers of 0-%d seconds, not keepalive %d hold %d", maxTimer, o.Keepalive, o.Hold)
	}
	return nil
}
