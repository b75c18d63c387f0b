package nxossim

import (
	"fmt"
	"strings"
	"time"
)

// Platform holds the facts `show version` prints. The zero value means the
// defaults: a Nexus 9000v running NX-OS 9.3(8).
type Platform struct {
	Version         string // "9.3(8)"
	BIOSVersion     string // "" on a 9000v
	BIOSCompileTime string
	ImageFile       string // "bootflash:///nxos.9.3.8.bin"
	CompileTime     string // "8/31/2021 12:00:00 [08/31/2021 20:37:06]"
	Chassis         string // "Nexus9000 C9300v"
	CPU             string // "" on a 9000v
	MemoryKB        int
	BoardID         string
	BootflashKB     int
	// Notice is the legal text at the top of `show version`, also printed
	// at login. It ends with a newline.
	Notice string
}

// notice93 is the text NX-OS 9.3 prints (testdata/show_version_9.3.15.txt).
const notice93 = `Cisco Nexus Operating System (NX-OS) Software
TAC support: http://www.cisco.com/tac
Copyright (C) 2002-2021, Cisco and/or its affiliates.
All rights reserved.
The copyrights to certain works contained in this software are
owned by other third parties and used and distributed under their own
licenses, such as open source.  This software is provided "as is," and unless
otherwise stated, there is no warranty, express or implied, including but not
limited to warranties of merchantability and fitness for a particular purpose.
Certain components of this software are licensed under
the GNU General Public License (GPL) version 2.0 or 
GNU General Public License (GPL) version 3.0  or the GNU
Lesser General Public License (LGPL) Version 2.1 or 
Lesser General Public License (LGPL) Version 2.0. 
A copy of each such license is available at
http://www.opensource.org/licenses/gpl-2.0.php and
http://opensource.org/licenses/gpl-3.0.html and
http://www.opensource.org/licenses/lgpl-2.1.php and
http://www.gnu.org/licenses/old-licenses/library.txt.
`

// DefaultPlatform is a Nexus 9000v (9300v) with NX-OS 9.3(8).
func DefaultPlatform() Platform {
	return Platform{
		Version:     "9.3(8)",
		ImageFile:   "bootflash:///nxos.9.3.8.bin",
		CompileTime: "8/31/2021 12:00:00 [08/31/2021 20:37:06]",
		Chassis:     "Nexus9000 C9300v",
		MemoryKB:    16399092,
		BoardID:     "9N3KD63KWT0",
		BootflashKB: 4287040,
		Notice:      notice93 + "\nNexus 9000v is a demo version of the Nexus Operating System\n",
	}
}

func (p Platform) withDefaults() Platform {
	if p.Version == "" {
		return DefaultPlatform()
	}
	return p
}

func (s *Server) showVersion(now time.Time) string {
	p := s.platform
	up := now.Sub(s.boot)
	if up < 0 {
		up = 0
	}
	secs := int64(up / time.Second)
	var b strings.Builder
	b.WriteString(p.Notice)
	fmt.Fprintf(&b, "\nSoftware\n")
	fmt.Fprintf(&b, "  BIOS: version %s\n", p.BIOSVersion)
	// NX-OS 9.x really prints this line with a single leading space.
	fmt.Fprintf(&b, " NXOS: version %s\n", p.Version)
	fmt.Fprintf(&b, "  BIOS compile time:  %s\n", p.BIOSCompileTime)
	fmt.Fprintf(&b, "  NXOS image file is: %s\n", p.ImageFile)
	fmt.Fprintf(&b, "  NXOS compile time:  %s\n", p.CompileTime)
	fmt.Fprintf(&b, "\n\nHardware\n")
	fmt.Fprintf(&b, "  cisco %s Chassis \n", p.Chassis)
	fmt.Fprintf(&b, "  %s with %d kB of memory.\n", p.CPU, p.MemoryKB)
	fmt.Fprintf(&b, "  Processor Board ID %s\n\n", p.BoardID)
	fmt.Fprintf(&b, "  Device name: %s\n", s.running.Hostname)
	fmt.Fprintf(&b, "  bootflash: %10d kB\n", p.BootflashKB)
	fmt.Fprintf(&b, "Kernel uptime is %d day(s), %d hour(s), %d minute(s), %d second(s)\n\n",
		secs/86400, secs/3600%24, secs/60%60, secs%60)
	b.WriteString("Last reset \n  Reason: Unknown\n  System version: \n  Service: \n\n")
	b.WriteString("plugin\n  Core Plugin, Ethernet Plugin\n\nActive Package(s):\n\t\n")
	return b.String()
}

// upDown formats how long a session has been down the way NX-OS does:
// hh:mm:ss under a day, then 1d02h, then 2w3d.
func upDown(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	switch {
	case s < 86400:
		return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
	case s < 7*86400:
		return fmt.Sprintf("%dd%02dh", s/86400, s/3600%24)
	default:
		return fmt.Sprintf("%dw%dd", s/(7*86400), s/86400%7)
	}
}

// showBGPSummary renders `show ip bgp summary [vrf <name>|all]`. Sessions
// never come up in the emulator: every peer is Idle.
func (s *Server) showBGPSummary(vrf string, now time.Time) string {
	b := s.running.BGP
	if b == nil {
		return ""
	}
	var names []string
	switch vrf {
	case "", "default":
		names = []string{"default"}
	case "all":
		names = append([]string{"default"}, sortedKeys(b.VRFs)...)
	default:
		if _, ok := b.VRFs[vrf]; !ok {
			return "BGP summary information for VRF " + vrf + ", address family IPv4 Unicast\nVRF " + vrf + " not found\n"
		}
		names = []string{vrf}
	}
	var out strings.Builder
	for i, name := range names {
		v := b.Global
		if name != "default" {
			v = b.VRFs[name]
		}
		var peers []*Neighbor
		for _, n := range v.sortedNeighbors() {
			if _, ok := n.AFs[IPv4Unicast]; ok && !n.Prefix.IsValid() {
				peers = append(peers, n)
			}
		}
		// NX-OS lists IPv4 before IPv6 peers here.
		var v4, v6 []*Neighbor
		for _, n := range peers {
			if n.Address.Is4() {
				v4 = append(v4, n)
			} else {
				v6 = append(v6, n)
			}
		}
		peers = append(v4, v6...)
		rid := v.RouterID
		if rid == "" {
			rid = "0.0.0.0"
		}
		if i > 0 {
			out.WriteString("\n")
		}
		fmt.Fprintf(&out, "BGP summary information for VRF %s, address family IPv4 Unicast\n", name)
		fmt.Fprintf(&out, "BGP router identifier %s, local AS number %s\n", rid, b.ASN)
		fmt.Fprintf(&out, "BGP table version is 1, IPv4 Unicast config peers %d, capable peers 0\n", len(peers))
		out.WriteString("0 network entries and 0 paths using 0 bytes of memory\n")
		out.WriteString("BGP attribute entries [0/0], BGP AS path entries [0/0]\n")
		out.WriteString("BGP community entries [0/0], BGP clusterlist entries [0/0]\n\n")
		out.WriteString("Neighbor        V    AS MsgRcvd MsgSent   TblVer  InQ OutQ Up/Down  State/PfxRcd\n")
		for _, n := range peers {
			as := n.RemoteAS
			if as == "" {
				as = "0"
			}
			addr := n.Address.String()
			if len(as) <= 5 && len(addr) <= 15 {
				fmt.Fprintf(&out, "%-16s4 %5s %7d %7d %8d %4d %4d %8s %s\n",
					addr, as, 0, 0, 0, 0, 0, upDown(now.Sub(n.Since)), "Idle")
				continue
			}
			// Long AS numbers or addresses push the counters to a second line.
			fmt.Fprintf(&out, "%-16s4 %s\n", addr, as)
			fmt.Fprintf(&out, "%24s%7d %7d %8d %4d %4d %8s %s\n", "",
				0, 0, 0, 0, 0, upDown(now.Sub(n.Since)), "Idle")
		}
	}
	return out.String()
}

// --- exec handlers ---

func show(f func(sh *shell) string) *cmd { return &cmd{do: f} }

func hShowVersion(sh *shell, a args) *cmd {
	return show(func(sh *shell) string { return sh.srv.showVersion(sh.now) })
}

func hShowHostname(sh *shell, a args) *cmd {
	return show(func(sh *shell) string { return sh.srv.running.Hostname + "\n" })
}

func hShowRun(sh *shell, a args) *cmd {
	sect := a["sect"]
	return show(func(sh *shell) string { return sh.srv.showRunning(sect, sh.now) })
}

func hShowBGPSum(sh *shell, a args) *cmd {
	vrf := a["vrf"]
	return show(func(sh *shell) string { return sh.srv.showBGPSummary(vrf, sh.now) })
}

func hConfigTerminal(sh *shell, a args) *cmd {
	return show(func(sh *shell) string {
		sh.sess = nil
		sh.setFrames([]frame{{kind: fConfig}})
		return "Enter configuration commands, one per line. End with CNTL/Z.\n"
	})
}

func hTermLength(sh *shell, a args) *cmd {
	n := atoi(a["n"])
	return show(func(sh *shell) string { sh.length = n; return "" })
}

// hTermDontAsk is "terminal dont-ask" (and its no form): no confirmation
// prompts for the rest of the session. Clients send it before checkpoint,
// rollback and delete commands (Ansible cisco.nxos nxos_rollback before
// "checkpoint file"; napalm's nxos_ssh around "rollback running-config";
// scrapli-cfg's NX-OS platform before "delete"), and expect no output. The
// emulator never asks for a confirmation, so it only remembers the setting.
func hTermDontAsk(on bool) func(sh *shell, a args) *cmd {
	return func(sh *shell, a args) *cmd {
		return show(func(sh *shell) string { sh.dontAsk = on; return "" })
	}
}

func hTermWidth(sh *shell, a args) *cmd {
	n := atoi(a["n"])
	return show(func(sh *shell) string { sh.width = n; return "" })
}

func hCopyRunStart(sh *shell, a args) *cmd {
	return show(func(sh *shell) string {
		sh.srv.startup = sh.srv.running.Clone()
		return "[########################################] 100%\n" +
			"Copy complete, now saving to disk (please wait)...\nCopy complete.\n"
	})
}

func hLogout(sh *shell, a args) *cmd {
	return show(func(sh *shell) string { sh.exit = true; return "" })
}

func hExit(sh *shell, a args) *cmd {
	return show(func(sh *shell) string {
		sh.setFrames(append([]frame(nil), sh.base[:len(sh.base)-1]...))
		return ""
	})
}

func hEnd(sh *shell, a args) *cmd {
	return show(func(sh *shell) string { sh.setFrames(nil); return "" })
}
