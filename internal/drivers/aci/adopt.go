package aci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

// Adoption on ACI puts the cluster's annotation on an unmarked object, and
// on the unmarked children the driver writes with it, with one POST in which
// each of them carries only its naming property, the annotation and
// status "modified":
//
//   - "modified" updates only the attributes sent and requires the object
//     to exist (error 102 otherwise), so an object deleted since the plan
//     fails the POST, which the APIC applies all or nothing (docs/aci.md,
//     "What it never touches" and the emulator's "Writes"; the driver
//     already posts its containers this way, and their annotation stays as
//     it is);
//   - annotation is a writable attribute of every class adopted here
//     (aci-go-client's models of bgpPeerP, bgpAsP, bgpLocalAsnP and
//     l3extSubnet carry Annotation, and the driver writes bgpRsPeerPfxPol
//     with it; terraform-provider-aci's
//     internal/provider/annotation_unsupported.go lists none of them), and
//     it is what Cisco's own aci-containers controller marks its objects
//     with (pkg/apicapi/apic_types.go).
//
// What is adoptable:
//   - a BGP peer (bgpPeerP with its remote AS bgpAsP, local AS
//     bgpLocalAsnP and prefix-policy relation bgpRsPeerPfxPol, which the
//     APIC makes under every new peer) under a configured switch's SVI
//     path, none of them marked, identical in description (the node),
//     remote and local AS, shutdown and prefix limit, and
//     without anything the driver does not write (a local AS with
//     asnPropagate other than none, a prefix-limit policy that is not the
//     cluster's); a peer that should have a password is never identical:
//     the APIC never shows a password, so it cannot be compared;
//   - an external subnet (l3extSubnet) with the same scopes, in an external
//     EPG the cluster owns or the configuration names (nodes, pods,
//     transitExport): never one in an EPG without the cluster's mark that
//     the configuration does not name, which would take the EPG's child
//     without the EPG.
//
// Not adoptable: maximum-paths (a VRF-wide policy and the VRF's relation to
// it, which other L3Outs of the VRF use) and contracts (a contract, subject,
// filter, entries and relations: several objects that are adopted together
// or not at all, and the driver does not take that on).

// ObserveForAdoption is Observe with each unmarked foreign object read for
// adoption.
func (d *Driver) ObserveForAdoption(ctx context.Context) (fabric.Observed, error) {
	obs, err := d.Observe(ctx)
	if err != nil {
		return obs, err
	}
	d.mu.Lock()
	snap := d.snap
	d.mu.Unlock()
	for i, f := range obs.Foreign {
		if f.Owner != "" || strings.HasSuffix(f.ID, "/"+fabric.AnyID) {
			continue
		}
		a := d.adoptable(snap, f)
		obs.Foreign[i].Adoption = &a
	}
	return obs, nil
}

// adoptable reads one foreign object for adoption.
func (d *Driver) adoptable(s *snapshot, f fabric.Foreign) fabric.Adoptable {
	switch f.Kind {
	case fabric.KindBGPPeer:
		p, _, why := d.adoptablePeer(s, f.Switch, f.ID)
		if why != "" {
			return fabric.Adoptable{Why: why}
		}
		return fabric.Adoptable{Object: p}
	case fabric.KindExternalSubnet:
		sub, _, why := d.adoptableSubnet(s, f.ID)
		if why != "" {
			return fabric.Adoptable{Why: why}
		}
		return fabric.Adoptable{Object: sub}
	case fabric.KindMaximumPaths:
		return fabric.Adoptable{Why: "maximum-paths is a VRF-wide BGP policy and the VRF's relation to it, which other L3Outs of the VRF use; the ACI driver does not adopt it"}
	case fabric.KindContract:
		return fabric.Adoptable{Why: "a contract is several objects (contract, subject, filter, entries, provider and consumer relations); the ACI driver does not adopt them"}
	case fabric.KindSessionPolicy:
		return fabric.Adoptable{Why: "the node profile's BGP protocol profile and its timers and best-path policies govern every peer of the node profile, which is the network team's; the ACI driver does not adopt them"}
	}
	return fabric.Adoptable{Why: "not a kind the ACI driver adopts"}
}

// adoptablePeer reads the unmarked peer at (switch, address) as Observe
// reads an owned one, with the objects adopting it marks (peer first), or
// says why it cannot be adopted.
func (d *Driver) adoptablePeer(s *snapshot, swName, id string) (fabric.BGPPeer, []object, string) {
	n := d.names
	for _, sw := range d.cfg.Switches {
		if sw.Name != swName {
			continue
		}
		var paths []string
		for _, af := range []fabric.AddressFamily{fabric.IPv4, fabric.IPv6} {
			if at, ok := d.placeOf(sw, af); ok {
				paths = append(paths, n.pathDN(at))
			}
		}
		for _, p := range s.childrenOf(paths, "bgpPeerP") {
			a, err := canonAddr(p.attrs["addr"])
			if err != nil || a.String() != id {
				continue
			}
			if p.attrs["annotation"] != "" {
				return fabric.BGPPeer{}, nil, fmt.Sprintf("the peer is annotated %q", p.attrs["annotation"])
			}
			node, fp := parseDescr(p.attrs["descr"])
			if fp != "" {
				// The fingerprint in descr is what the driver records of a
				// password it sent; on an unmarked peer it is a claim the
				// APIC cannot confirm: it never shows a password.
				return fabric.BGPPeer{}, nil, "its description names a password fingerprint, which cannot be checked: the APIC never shows a peer's password"
			}
			objs := []object{p}
			for _, c := range s.below(p.dn) {
				if c.attrs["annotation"] != "" {
					return fabric.BGPPeer{}, nil, fmt.Sprintf("%s under it is annotated %q: a peer is adopted whole or not at all", c.dn, c.attrs["annotation"])
				}
				objs = append(objs, c)
			}
			peer := fabric.BGPPeer{Switch: sw.Name, Node: node, PeerAddress: a.String(), AddressFamily: fabric.FamilyOf(a),
				LocalASN: d.fabricAS()}
			// A password the peer may hold cannot be seen; a desired one
			// therefore always differs ("password (none) on the fabric").
			readPeerAttrs(p.attrs, &peer.PeerOptions)
			if r, ok := s.get(p.dn + "/rspeerPfxPol"); ok && r.attrs["tnBgpPeerPfxPolName"] != "" {
				name := r.attrs["tnBgpPeerPfxPolName"]
				pol, ok := s.get(n.pfxPolDN(name))
				if !ok || !n.owned(pol) {
					return fabric.BGPPeer{}, nil, fmt.Sprintf("its prefix limit is the policy %s, which is not the cluster's: the peer is not adopted without it", name)
				}
				peer.MaxPrefix = n.prefixLimit(s, name)
				if want, err := n.prefixPolicyName(*peer.MaxPrefix); err != nil || want != name {
					return fabric.BGPPeer{}, nil, fmt.Sprintf("its prefix limit policy %s is not the one the driver names for that limit", name)
				}
			}
			if as, ok := s.get(p.dn + "/as"); ok {
				peer.RemoteASN = parseASN(as.attrs["asn"])
			}
			if la, ok := s.get(p.dn + "/localasn"); ok {
				if prop := la.attrs["asnPropagate"]; prop != "" && prop != "none" {
					return fabric.BGPPeer{}, nil, fmt.Sprintf("its local AS has asnPropagate %q; the driver writes none", prop)
				}
				peer.LocalASN = parseASN(la.attrs["localAsn"])
			}
			return peer, objs, ""
		}
		return fabric.BGPPeer{}, nil, "no such peer under the switch's sviPath"
	}
	return fabric.BGPPeer{}, nil, "not a configured switch"
}

// adoptableSubnet reads the unmarked subnet of id ("<group>/<prefix>") as
// Observe reads an owned one, or says why it cannot be adopted.
func (d *Driver) adoptableSubnet(s *snapshot, id string) (fabric.ExternalSubnet, object, string) {
	n := d.names
	for _, sn := range s.byClass("l3extSubnet") {
		g, ok := n.epgOf(sn.dn)
		if !ok {
			continue
		}
		p, err := netip.ParsePrefix(sn.attrs["ip"])
		if err != nil || n.groupName(g)+"/"+p.Masked().String() != id {
			continue
		}
		if sn.attrs["annotation"] != "" {
			return fabric.ExternalSubnet{}, object{}, fmt.Sprintf("the subnet is annotated %q", sn.attrs["annotation"])
		}
		epgDN := n.epgDN(g)
		epg, ok := s.get(epgDN)
		if !ok || (!n.owned(epg) && !n.containers[epgDN]) {
			return fabric.ExternalSubnet{}, object{}, fmt.Sprintf("its external EPG %s carries no mark of this cluster and is not one the configuration names: its child is not adopted without it", epgDN)
		}
		if agg := sn.attrs["aggregate"]; agg != "" {
			return fabric.ExternalSubnet{}, object{}, fmt.Sprintf("it has aggregate %q; the driver writes none", agg)
		}
		sub := fabric.ExternalSubnet{Group: n.groupName(g), Prefix: p.Masked().String()}
		for _, sc := range splitScope(sn.attrs["scope"]) {
			sub.Scopes = append(sub.Scopes, fabric.Scope(sc))
		}
		return sub, sn, ""
	}
	return fabric.ExternalSubnet{}, object{}, "no such subnet"
}

// Adopt annotates the plan's objects with one POST, against the snapshot of
// the latest ObserveForAdoption. An object that is no longer unmarked and
// identical to the desired one there is refused, never adopted.
func (d *Driver) Adopt(ctx context.Context, plan fabric.Changeset) (fabric.ApplyResult, error) {
	res := fabric.ApplyResult{Conflicts: plan.Conflicts}
	if !plan.AdoptOnly() {
		return res, errors.New("ACI Adopt takes adoptions only")
	}
	if len(plan.Changes) == 0 {
		return res, nil
	}
	d.mu.Lock()
	snap := d.snap
	d.mu.Unlock()
	if snap == nil {
		return res, errors.New("adopt: no observation to adopt against; observe first")
	}
	b := d.newBuilder(snap, false)
	var (
		applied []fabric.Change
		refused []string
	)
	mark := func(parent *mo, o object) *mo {
		attrs := map[string]string{"annotation": d.names.mark, "status": modified}
		for _, k := range namingProps[o.class] {
			attrs[k] = o.attrs[k]
		}
		return parent.child(o.class, lastRN(o.dn), attrs)
	}
	for _, c := range plan.Changes {
		var (
			have fabric.Object
			why  string
			post func() error
		)
		switch c.Kind {
		case fabric.KindBGPPeer:
			p, objs, w := d.adoptablePeer(snap, c.Switch, c.ID)
			have, why = p, w
			post = func() error {
				var at place
				if a, err := canonAddr(c.ID); err == nil {
					for _, s := range d.cfg.Switches {
						if s.Name == c.Switch {
							at, _ = d.placeOf(s, fabric.FamilyOf(a))
						}
					}
				}
				path, err := b.path(at)
				if err != nil {
					return err
				}
				peer := mark(path, objs[0])
				for _, ch := range objs[1:] {
					mark(peer, ch)
				}
				return nil
			}
		case fabric.KindExternalSubnet:
			sub, sn, w := d.adoptableSubnet(snap, c.ID)
			have, why = sub, w
			post = func() error {
				g, _ := d.names.epgOf(sn.dn)
				epg := b.l3out(g.l3out).child("l3extInstP", "instP-"+g.epg, map[string]string{"name": g.epg, "status": modified})
				mark(epg, sn)
				return nil
			}
		default:
			why = d.adoptable(snap, fabric.Foreign{Kind: c.Kind}).Why
		}
		if why == "" {
			if diffs := fabric.Differences(have, c.After, nil); len(diffs) > 0 {
				why = "it differs from the desired object now (" + strings.Join(diffs, "; ") + ")"
			} else if c.Before == nil || len(fabric.Differences(have, c.Before, nil)) > 0 {
				why = "it is not what the plan read"
			}
		}
		if why == "" {
			if err := post(); err != nil {
				why = err.Error()
			}
		}
		if why != "" {
			refused = append(refused, keyText(c.Key())+": "+why)
			res.Conflicts = append(res.Conflicts, fabric.Conflict{Kind: c.Kind, Switch: c.Switch, ID: c.ID, Reason: "not adopted: " + why})
			continue
		}
		applied = append(applied, c)
	}
	var err error
	if len(applied) > 0 {
		body, _ := json.MarshalIndent(map[string]any{"fvTenant": (*moBody)(b.root)}, "", "  ")
		cont, perr := d.apic.request(ctx, "adopt", "POST", d.postPath(), body)
		d.mu.Lock()
		d.snap = nil
		d.mu.Unlock()
		switch {
		case errors.Is(perr, errNotApplied):
			return res, fmt.Errorf("adopt in tenant %s (nothing was changed: the APIC refused the POST or never received it): %w", d.names.tenant, perr)
		case perr != nil:
			if !errors.Is(perr, drivers.ErrOutcomeUnknown) {
				perr = fmt.Errorf("%w: %w", drivers.ErrOutcomeUnknown, perr)
			}
			return res, fmt.Errorf("adopt in tenant %s: the APIC may have committed this POST; observe again to learn what it holds: %w", d.names.tenant, perr)
		}
		got := map[string]int{}
		countStatuses(cont.Data(), got)
		res.Applied = applied
		res.Messages = append(res.Messages, fmt.Sprintf("APIC accepted one POST of %s: %d object(s) annotated for %d adoption(s)",
			d.names.tenantDN(), got["modified"], len(applied)))
	}
	if len(refused) > 0 {
		sort.Strings(refused)
		err = fmt.Errorf("%d adoption(s) refused: %s", len(refused), strings.Join(refused, "; "))
	}
	return res, err
}
