// Package nxos drives Cisco Nexus switches running NX-OS over SSH, with
// scrapligo's built-in cisco_nxos platform, unmodified (the driver adds one
// privilege level for configuration sessions and a few error strings to its
// own driver instance, never to the platform).
//
// What it configures, per switch, inside the existing BGP instance ("router
// bgp <asn>" and, with nxos.vrf, its "vrf <name>" context; both the network
// team's, never created):
//
//   - one neighbor per node: remote-as, description "<owner mark>
//     node=<node>" (the ownership mark), local-as <as> no-prepend replace-as
//     when the node expects another AS than the instance's, and the node's
//     address family with an inbound route-map;
//   - per neighbor, a prefix-list and a route-map named
//     "FR-<cluster>-IN-<address>" (63 characters at most, NX-OS's limit) that
//     permit exactly what the node may advertise; everything else is denied;
//   - maximum-paths (and maximum-paths ibgp) per address family, with
//     "bestpath as-path multipath-relax" (nodes have different ASNs). These
//     settings cannot carry a mark: a marker prefix-list
//     "FR-<cluster>-MARK-MAXPATHS-IPV4" (and "...-MARK-MULTIPATH-RELAX" when
//     the driver turned relax on) records that the cluster owns them.
//
// Every change to one switch is atomic. In the default "checkpoint" commit
// mode the driver takes a checkpoint of the run, sends the lines in
// configure terminal, and rolls the switch back to the checkpoint on any
// error; in "session" mode it uses a configuration session (verify, commit,
// abort). docs/nxos.md says which to pick and why.
//
// One writer at a time: the driver is a drivers.Locker whose lock is a
// checkpoint per switch (lock.go), and Apply refuses to run without it.
package nxos

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/fabric-reconciler/fabric-reconciler/config"
	"github.com/fabric-reconciler/fabric-reconciler/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/drivers/cli"
	"github.com/fabric-reconciler/fabric-reconciler/drivers/clissh"
	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Name is the driver's name in the configuration.
const Name = config.DriverNXOS

// NX-OS limits the driver works within.
const (
	// maxPathsLimit is the largest maximum-paths NX-OS 9.3 accepts.
	maxPathsLimit = 64
	// maxNameLen is the longest prefix-list or route-map name.
	maxNameLen = 63
	// maxDescription is the longest neighbor description; prefix-list and
	// route-map descriptions may be longer (90), but the same text goes
	// everywhere.
	maxDescription = 80
	// maxScope is the longest VRF part of an object name that leaves the
	// cluster name room within maxNameLen.
	maxScope = 8
)

func init() { drivers.Register(Name, drivers.Spec{Open: New, Desire: Desire}) }

// Desire realizes an intent on NX-OS switches (see cli.Desire): a node whose
// neighbor description would not fit NX-OS's 80 characters, or whose AS
// NX-OS refuses, is skipped when the plan is made.
func Desire(cfg config.Fabric, in fabric.Intent) fabric.Realized {
	return cli.Desire(cfg, in, cli.Limits{PlatformName: "NX-OS", MaxDescription: maxDescription, MaxPaths: maxPathsLimit})
}

// Driver drives the NX-OS switches of one fabric.
type Driver struct {
	fabric   config.Fabric
	log      *slog.Logger
	metrics  clissh.Metrics
	own      cli.Ownership
	switches cli.Switches
	maxPaths int
	vrf      string // "default" or a VRF context name
	mode     string // config.CommitCheckpoint or config.CommitSession
	// cpName names the checkpoint (checkpoint mode) or the configuration
	// session (session mode): nxos.sessionName.
	cpName string

	sessions *clissh.Pool[*session]

	// seen is what each switch held at the last Observe; Render plans
	// against it.
	seen cli.Seen[seenConfig]

	// held is the writer lock this driver took (lock.go), nil when none.
	lockMu  sync.Mutex
	held    *heldLock
	lockSeq uint64
}

// New builds the driver for one fabric. It contacts no switch and reads no
// secret: sessions open on first use.
func New(f config.Fabric, opts drivers.Options) (drivers.Driver, error) {
	if f.Driver != Name {
		return nil, fmt.Errorf("fabric %s: driver %q is not %s", f.Name, f.Driver, Name)
	}
	if f.SSH == nil {
		return nil, fmt.Errorf("fabric %s: the ssh section is required", f.Name)
	}
	nx := config.NXOS{}
	if f.NXOS != nil {
		nx = *f.NXOS
	}
	if nx.VRF == "" {
		nx.VRF = "default"
	}
	if nx.SessionName == "" {
		nx.SessionName = "fabric-reconciler-" + opts.Cluster
	}
	if nx.CommitMode == "" {
		nx.CommitMode = config.CommitCheckpoint
	}
	if nx.CommitMode != config.CommitCheckpoint && nx.CommitMode != config.CommitSession {
		return nil, fmt.Errorf("fabric %s: nxos.commitMode %s is not checkpoint or session", f.Name, cli.Quote(nx.CommitMode))
	}
	if err := cli.Name("nxos.vrf", nx.VRF, 32); err != nil {
		return nil, fmt.Errorf("fabric %s: %w", f.Name, err)
	}
	if err := cli.Name("nxos.sessionName", nx.SessionName, 63); err != nil {
		return nil, fmt.Errorf("fabric %s: %w", f.Name, err)
	}
	if nx.CommitMode == config.CommitSession && strings.Contains(nx.SessionName, ".") {
		// NX-OS documents session names as alphanumeric; "-" and "_" pass.
		return nil, fmt.Errorf("fabric %s: nxos.sessionName %s: a configuration session name has no '.'; set nxos.sessionName",
			f.Name, cli.Quote(nx.SessionName))
	}
	naming, err := cli.NewNaming("FR", opts.Cluster, scopeOf(nx.VRF), maxNameLen)
	if err != nil {
		return nil, fmt.Errorf("fabric %s: %w", f.Name, err)
	}
	if err := clissh.CheckSwitches(f); err != nil {
		return nil, fmt.Errorf("fabric %s: %w", f.Name, err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	limit := f.MaximumPaths.Limit
	if limit <= 0 || limit > maxPathsLimit {
		limit = maxPathsLimit
	}
	cfg := config.Config{Cluster: opts.Cluster}
	mark := cli.Mark(cfg.OwnerMark())
	if err := cli.Text("ownership mark", string(mark), maxDescription); err != nil {
		return nil, fmt.Errorf("fabric %s: %w", f.Name, err)
	}
	d := &Driver{
		fabric:   f,
		log:      log.With("driver", Name),
		metrics:  clissh.Metrics{Fabric: f.Name, Driver: Name, Observer: opts.Metrics},
		own:      cli.Ownership{Mark: mark, Naming: naming, StrictMarkers: true},
		switches: cli.Switches(f.Switches),
		maxPaths: limit,
		vrf:      nx.VRF,
		mode:     nx.CommitMode,
		cpName:   nx.SessionName,
	}
	d.sessions = clissh.NewPool(sessionConfig(d), func(_ config.Switch, c clissh.Config) *session {
		return &session{Session: clissh.New(c), cfgName: d.cpName}
	})
	return d, nil
}

// scopeOf is the VRF part of object names: none for the default VRF, the
// VRF's name when it fits, else its start and a hash of the whole name.
// Prefix-lists and route-maps are global on a switch; the scope keeps the
// objects of two VRFs apart.
func scopeOf(vrf string) string {
	if vrf == "default" || vrf == "" {
		return ""
	}
	if len(vrf) <= maxScope {
		return vrf
	}
	sum := sha256.Sum256([]byte(vrf))
	return vrf[:3] + "-" + hex.EncodeToString(sum[:])[:4]
}

// session returns the switch's persistent session, creating it unopened.
func (d *Driver) session(sw config.Switch) *session { return d.sessions.Get(sw) }

// Close closes every session.
func (d *Driver) Close() error { return d.sessions.Close() }

func (d *Driver) observeRequest(op string, err error) { d.metrics.Request(op, err) }
