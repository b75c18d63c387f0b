package nxossim

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// The layouts below follow recorded NX-OS 9.x output (see testdata/README.md):
// two spaces of indentation per level; under a router or VRF: router-id,
// bestpath, log-neighbor-changes, address families, neighbors, then VRFs;
// under a neighbor: remote-as, local-as, description, update-source, then
// address families.

// renderBGP returns the `router bgp` block, or nothing without one.
func renderBGP(c *Config) []string {
	if c.BGP == nil {
		return nil
	}
	lines := []string{"router bgp " + c.BGP.ASN}
	lines = append(lines, renderBGPVRF(c.BGP.Global, "  ")...)
	for _, name := range sortedKeys(c.BGP.VRFs) {
		lines = append(lines, "  vrf "+name)
		lines = append(lines, renderBGPVRF(c.BGP.VRFs[name], "    ")...)
	}
	return lines
}

func renderBGPVRF(v *BGPVRF, ind string) []string {
	var lines []string
	if v.RouterID != "" {
		lines = append(lines, ind+"router-id "+v.RouterID)
	}
	if v.MultipathRelax {
		lines = append(lines, ind+"bestpath as-path multipath-relax")
	}
	if v.LogNeighborChanges {
		lines = append(lines, ind+"log-neighbor-changes")
	}
	for _, af := range []AF{IPv4Unicast, IPv6Unicast} {
		a, ok := v.AFs[af]
		if !ok {
			continue
		}
		lines = append(lines, ind+"address-family "+string(af))
		nets := append(a.Networks[:0:0], a.Networks...)
		sort.Slice(nets, func(i, j int) bool {
			if nets[i].Addr() != nets[j].Addr() {
				return nets[i].Addr().Less(nets[j].Addr())
			}
			return nets[i].Bits() < nets[j].Bits()
		})
		for _, p := range nets {
			lines = append(lines, ind+"  network "+p.String())
		}
		if a.MaximumPaths > 0 {
			lines = append(lines, fmt.Sprintf("%s  maximum-paths %d", ind, a.MaximumPaths))
		}
		if a.MaximumPathsIBGP > 0 {
			lines = append(lines, fmt.Sprintf("%s  maximum-paths ibgp %d", ind, a.MaximumPathsIBGP))
		}
	}
	for _, n := range v.sortedNeighbors() {
		head := ind + "neighbor " + n.Name()
		if n.RemoteASRouteMap != "" {
			head += " remote-as route-map " + n.RemoteASRouteMap
		}
		lines = append(lines, head)
		in := ind + "  "
		if n.RemoteAS != "" {
			lines = append(lines, in+"remote-as "+n.RemoteAS)
		}
		if n.LocalAS != "" {
			lines = append(lines, in+"local-as "+n.LocalAS)
		}
		if n.Description != "" {
			lines = append(lines, in+"description "+n.Description)
		}
		if n.UpdateSource != "" {
			lines = append(lines, in+"update-source "+n.UpdateSource)
		}
		// Public recordings print password, timers and maximum-peers in
		// this order after the description (test/nxossim/testdata/README.md);
		// where NX-OS puts ttl-security and shutdown is not recorded: the
		// emulator prints them after timers.
		if n.Password != "" {
			lines = append(lines, in+"password "+n.Password)
		}
		if n.Timers {
			lines = append(lines, fmt.Sprintf("%stimers %d %d", in, n.Keepalive, n.Hold))
		}
		if n.TTLHops != 0 {
			lines = append(lines, fmt.Sprintf("%sttl-security hops %d", in, n.TTLHops))
		}
		if n.Shutdown {
			lines = append(lines, in+"shutdown")
		}
		if n.MaximumPeers != 0 {
			lines = append(lines, fmt.Sprintf("%smaximum-peers %d", in, n.MaximumPeers))
		}
		for _, af := range []AF{IPv4Unicast, IPv6Unicast} {
			a, ok := n.AFs[af]
			if !ok {
				continue
			}
			lines = append(lines, in+"address-family "+string(af))
			ain := in + "  "
			if a.SendCommunity {
				lines = append(lines, ain+"send-community")
			}
			if a.SendCommunityExtended {
				lines = append(lines, ain+"send-community extended")
			}
			if a.PrefixListIn != "" {
				lines = append(lines, ain+"prefix-list "+a.PrefixListIn+" in")
			}
			if a.PrefixListOut != "" {
				lines = append(lines, ain+"prefix-list "+a.PrefixListOut+" out")
			}
			if a.RouteMapIn != "" {
				lines = append(lines, ain+"route-map "+a.RouteMapIn+" in")
			}
			if a.RouteMapOut != "" {
				lines = append(lines, ain+"route-map "+a.RouteMapOut+" out")
			}
			if a.MaximumPrefix != "" {
				lines = append(lines, ain+"maximum-prefix "+a.MaximumPrefix)
			}
		}
	}
	return lines
}

// renderRPM returns prefix lists then route-maps, as `show running-config rpm`.
func renderRPM(c *Config) []string {
	var lines []string
	for _, fam := range []struct {
		kw    string
		lists map[string]*PrefixList
	}{{"ip", c.PrefixLists}, {"ipv6", c.PrefixLists6}} {
		for _, name := range sortedKeys(fam.lists) {
			pl := fam.lists[name]
			head := fam.kw + " prefix-list " + pl.Name
			if pl.Description != "" {
				lines = append(lines, head+" description "+pl.Description)
			}
			for _, e := range pl.Entries {
				lines = append(lines, head+" "+e.text())
			}
		}
	}
	for _, name := range sortedKeys(c.RouteMaps) {
		rm := c.RouteMaps[name]
		seqs := make([]int, 0, len(rm.Entries))
		for s := range rm.Entries {
			seqs = append(seqs, s)
		}
		sort.Ints(seqs)
		for _, s := range seqs {
			e := rm.Entries[s]
			lines = append(lines, fmt.Sprintf("route-map %s %s %d", rm.Name, e.Action, e.Seq))
			// Match lines, then the description, as in cisco.nxos's
			// recording of "show running-config | section ^route-map" on
			// NX-OS 9.3 ("route-map rmap1 permit 10", "  match ip address
			// acl_1", "  description rmap1-10-permit";
			// docs/cisco.nxos.nxos_route_maps_module.rst). NX-OS ends
			// match lines with a space (they take a list of names; a
			// public nornir exercise quotes "match ip address prefix-list
			// PL_BGP_Loopback101 " from an NX-OS running configuration).
			if len(e.MatchPrefixList) > 0 {
				lines = append(lines, "  match ip address prefix-list "+strings.Join(e.MatchPrefixList, " ")+" ")
			}
			if len(e.MatchPrefixList6) > 0 {
				lines = append(lines, "  match ipv6 address prefix-list "+strings.Join(e.MatchPrefixList6, " ")+" ")
			}
			if e.Description != "" {
				lines = append(lines, "  description "+e.Description)
			}
		}
	}
	return lines
}

func (e PrefixListEntry) text() string {
	s := fmt.Sprintf("seq %d %s %s", e.Seq, e.Action, e.Prefix)
	if e.GE > 0 {
		s += fmt.Sprintf(" ge %d", e.GE)
	}
	if e.LE > 0 {
		s += fmt.Sprintf(" le %d", e.LE)
	}
	return s
}

// runHeader is the comment block NX-OS prints before any running-config
// section.
func (s *Server) runHeader(command string, now time.Time) []string {
	lines := []string{"", "!Command: " + command}
	if s.lastChange.IsZero() {
		lines = append(lines, "!No configuration change since last restart")
	} else {
		lines = append(lines, "!Running configuration last done at: "+s.lastChange.Format(time.ANSIC))
	}
	lines = append(lines, "!Time: "+now.Format(time.ANSIC), "")
	// N9Kv prints "Bios:version" followed by the (empty) BIOS version and a space.
	lines = append(lines, fmt.Sprintf("version %s Bios:version %s ", s.platform.Version, s.platform.BIOSVersion))
	return lines
}

// showRunning renders `show running-config [bgp|rpm]`.
func (s *Server) showRunning(section string, now time.Time) string {
	command := "show running-config"
	if section != "" {
		command += " " + section
	}
	lines := s.runHeader(command, now)
	if section == "rpm" {
		lines = append(lines, "")
	}
	lines = append(lines, s.runningBody(s.running, section)...)
	return strings.Join(lines, "\n") + "\n\n\n"
}

// runningBody is what `show running-config [bgp|rpm]` prints after the
// version line, for the configuration c (the running one, or a checkpoint's).
func (s *Server) runningBody(c *Config, section string) []string {
	var lines []string
	switch section {
	case "bgp":
		if c.FeatureBGP {
			lines = append(lines, "feature bgp", "")
			lines = append(lines, renderBGP(c)...)
		}
	case "rpm":
		lines = append(lines, renderRPM(c)...)
	default:
		lines = append(lines,
			"hostname "+c.Hostname,
			"vdc "+c.Hostname+" id 1",
			"  limit-resource vlan minimum 16 maximum 4094",
			"  limit-resource vrf minimum 2 maximum 4096",
			"  limit-resource port-channel minimum 0 maximum 511",
			"  limit-resource u4route-mem minimum 248 maximum 248",
			"  limit-resource u6route-mem minimum 96 maximum 96",
			"  limit-resource m4route-mem minimum 58 maximum 58",
			"  limit-resource m6route-mem minimum 8 maximum 8",
			"")
		if c.FeatureBGP {
			lines = append(lines, "feature bgp", "")
		}
		// Users and their password hashes are deliberately not shown: the
		// emulator never prints anything derived from a credential.
		lines = append(lines, "no password strength-check", "ip domain-lookup", "copp profile strict")
		lines = append(lines, renderRPM(c)...)
		lines = append(lines, "", "vlan 1", "", "vrf context management", "",
			"interface mgmt0", "  vrf member management",
			"line console", "line vty",
			"boot nxos bootflash:"+strings.TrimPrefix(s.platform.ImageFile, "bootflash://")+" ")
		lines = append(lines, renderBGP(c)...)
	}
	return lines
}
