package aci

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// fabricASDN is where the APIC keeps the fabric's BGP AS: the bgpAsP of the
// default BGP instance policy [ansible-aci plugins/modules/aci_bgp_rr_asn.py
// reads and writes it there; docs/aci.md, "The fabric AS"].
const fabricASDN = "uni/fabric/bgpInstP-default/as"

// readFabricASN reads the fabric's AS. The configuration's asn, when given,
// must be the same. An APIC that does not answer it (a user whose rights
// stop at the tenant) falls back to the configuration's asn; with neither,
// the AS presented to the nodes cannot be worked out and Observe fails.
func (d *Driver) readFabricASN(ctx context.Context) (uint32, error) {
	cont, err := d.apic.request(ctx, "observe", "GET", "/api/mo/"+fabricASDN+".json", nil)
	var asn uint32
	if err == nil {
		if items, e := cont.S("imdata").Children(); e == nil && len(items) > 0 {
			if v, ok := items[0].S("bgpAsP", "attributes", "asn").Data().(string); ok {
				asn = parseASN(v)
			}
		}
	}
	cfg := d.cfg.ASN
	switch {
	case asn != 0 && cfg != 0 && asn != cfg:
		return 0, fmt.Errorf("fabric %s: the configuration's asn %d is not the fabric's BGP AS %d on the APIC (%s); set asn to %d or leave it out (the AS presented to each node comes from its Calico BGPPeer's asNumber, through a local-AS when it differs)",
			d.cfg.Name, cfg, asn, fabricASDN, asn)
	case asn != 0:
		return asn, nil
	case cfg != 0:
		reason := "it holds no AS there"
		if err != nil {
			reason = oneLine(err.Error())
		}
		d.log.Warn("the fabric's BGP AS could not be read from the APIC; using the configuration's asn", "dn", fabricASDN, "reason", reason, "asn", cfg)
		return cfg, nil
	case err != nil:
		return 0, fmt.Errorf("fabric %s: read the fabric's BGP AS (%s): %w; give asn in the configuration if this user cannot read it", d.cfg.Name, fabricASDN, err)
	}
	return 0, fmt.Errorf("fabric %s: the APIC holds no fabric BGP AS at %s (the BGP route reflector policy is not configured) and the configuration gives no asn", d.cfg.Name, fabricASDN)
}

// fabricAS is the fabric's AS as known now: observed, else the
// configuration's, else 0 (offline without asn).
func (d *Driver) fabricAS() uint32 {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.fabricASN != 0 {
		return d.fabricASN
	}
	return d.cfg.ASN
}

// activeFault reports whether a fault is current: raised, soaking or
// clearing, not one the APIC only retains after it cleared [Cisco APIC
// Faults, Events and System Messages guide: the fault lifecycle soaking,
// raised, raised-clearing, retaining].
func activeFault(f object) bool {
	switch f.attrs["lc"] {
	case "retaining":
		return false
	}
	return true
}

// checkFaults reads the tenant again after an accepted POST and reports
// every active fault on an object this cluster owns: the fabric is then
// not converged, whatever the POST's answer said. The fresh observation
// becomes the snapshot the next Apply builds on.
func (d *Driver) checkFaults(ctx context.Context, before *snapshot, res *fabric.ApplyResult) error {
	after, err := d.fetchAs(ctx, "faults")
	if err != nil {
		res.Messages = append(res.Messages, "the APIC's faults could not be read after the POST: "+oneLine(err.Error()))
		return fmt.Errorf("fabric %s: not known to be converged: read faults after apply: %w", d.cfg.Name, err)
	}
	d.mu.Lock()
	d.snap = after
	d.mu.Unlock()
	var lines []string
	dns := make([]string, 0, len(after.faults))
	for dn := range after.faults {
		dns = append(dns, dn)
	}
	sort.Strings(dns)
	for _, dn := range dns {
		f := after.faults[dn]
		on := parentDN(dn)
		o, ok := after.get(on)
		if !ok || !d.names.owned(o) || !activeFault(f) {
			continue
		}
		when := "new"
		if old, ok := before.faults[dn]; ok && old.attrs["created"] == f.attrs["created"] {
			when = "raised before this apply"
		}
		// The cause first: the description starts with the object's
		// (long) DN and may be cut when printed.
		lines = append(lines, fmt.Sprintf("fault %s %s (%s, %s): %s", printable(f.attrs["code"]), printable(f.attrs["cause"]),
			printable(f.attrs["severity"]), when, oneLine(f.attrs["descr"])))
	}
	if len(lines) == 0 {
		return nil
	}
	for _, l := range lines {
		res.Messages = append(res.Messages, "not converged: "+l)
	}
	return fmt.Errorf("fabric %s: not converged: the APIC accepted the POST but raised %d fault(s) on this cluster's objects: %s",
		d.cfg.Name, len(lines), strings.Join(lines, "; "))
}
