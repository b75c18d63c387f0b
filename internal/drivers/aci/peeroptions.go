package aci

import "github.com/fabric-reconciler/fabric-reconciler/fabric"

// The peer options on ACI. The password (bgpPeerP password, its
// fingerprint in descr) and the prefix limit (a bgpPeerPfxPol the peer's
// bgpRsPeerPfxPol names) have code of their own (build.go, observe.go);
// an option ACI holds in one attribute of the bgpPeerP is one row of
// peerAttrs; the timers and graceful restart go to the node profile's BGP
// protocol profile (policyOptions, protocol.go); one ACI cannot set at all
// is a line of unmanagedWhy.
// docs/aci.md gives the sources.

// peerAttr declares a peer option the APIC holds in one attribute of the
// bgpPeerP: Desire keeps the option, the payload writes the attribute,
// Observe and adoption read it back.
type peerAttr struct {
	option fabric.PeerOption
	attr   string
	// value is the attribute for the options; def is what the APIC holds
	// when nobody set it, and what an option that is not set writes.
	value func(fabric.PeerOptions) string
	def   string
	// read sets the option from the attribute as the APIC returns it.
	read func(v string, o *fabric.PeerOptions)
}

var peerAttrs = []peerAttr{
	{option: fabric.OptionShutdown, attr: "adminSt", def: "enabled",
		value: func(o fabric.PeerOptions) string {
			if o.Shutdown {
				return "disabled"
			}
			return "enabled"
		},
		read: func(v string, o *fabric.PeerOptions) { o.Shutdown = v == "disabled" }},
}

// managedOptions are the peer options the driver sets per bgpPeerP.
var managedOptions = func() map[fabric.PeerOption]bool {
	m := map[fabric.PeerOption]bool{fabric.OptionPassword: true, fabric.OptionMaxPrefix: true}
	for _, a := range peerAttrs {
		m[a.option] = true
	}
	return m
}()

// unmanagedWhy says why ACI cannot set an option at all. The timers and
// graceful restart are set for the whole node profile (policyOptions,
// protocol.go), not per peer.
var unmanagedWhy = map[fabric.PeerOption]string{
	fabric.OptionTTLSecurity: "ACI has no TTL security (GTSM) option; a bgpPeerP's ttl is the eBGP multihop TTL, which is something else",
}

// readPeerAttrs reads the options of peerAttrs from a bgpPeerP's
// attributes.
func readPeerAttrs(attrs map[string]string, o *fabric.PeerOptions) {
	for _, a := range peerAttrs {
		a.read(attrs[a.attr], o)
	}
}

// writePeerAttrs puts into a bgpPeerP's payload the attribute of each
// option the peer sets, and of each the peer holds with another value than
// the APIC's default (was: the attributes it holds, "" for the default).
func writePeerAttrs(attrs map[string]string, o fabric.PeerOptions, was map[string]string) {
	for _, a := range peerAttrs {
		v := a.value(o)
		if h := was[a.attr]; v != a.def || (h != "" && h != a.def) {
			attrs[a.attr] = v
		}
	}
}

// peerAttrsOf are the attributes of peerAttrs a peer with the options
// holds.
func peerAttrsOf(o fabric.PeerOptions) map[string]string {
	m := map[string]string{}
	for _, a := range peerAttrs {
		m[a.attr] = a.value(o)
	}
	return m
}
