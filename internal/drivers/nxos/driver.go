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
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
)

// Name is the driver's name in the configuration.
const Name = "nxos"

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

func init() {
	drivers.Register(Name, drivers.Spec{Open: New, Desire: Desire,
		Config: config.DriverSpec{Parse: parseSettings, MaxPaths: maxPathsLimit, MultipathRelax: true}})
}

// Desire realizes an intent on NX-OS switches (see cli.Desire): a node whose
// neighbor description would not fit NX-OS's 80 characters, or whose AS
// NX-OS refuses, is skipped when the plan is made.
func Desire(cfg config.Fabric, in fabric.Intent) fabric.Realized {
	set := clissh.SettingsOf(cfg)
	return cli.Desire(in, cli.Limits{PlatformName: "NX-OS", MaxDescription: maxDescription, MaxPaths: maxPathsLimit,
		NoFilters: set != nil && set.PrefixFilters.Disabled, Options: managedOptions, CheckOptions: checkOptions})
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
	mode     string // CommitCheckpoint or CommitSession
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
	if clissh.SettingsOf(f) == nil {
		return nil, fmt.Errorf("fabric %s: the ssh section is required", f.Name)
	}
	nx := ownOf(f, opts.Cluster)
	naming, err := nx.check(opts.Cluster)
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
	mark := cli.Mark(config.OwnerMarkOf(opts.Cluster))
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

// Commit modes (Settings.CommitMode).
const (
	// CommitCheckpoint: "checkpoint <name>", configure terminal, the lines,
	// and "rollback running-config checkpoint <name>" on any error. The
	// default.
	CommitCheckpoint = "checkpoint"
	// CommitSession: "configure session <name>", the lines, verify, commit
	// (abort on any error). Cisco documents Session Manager for ACL and QoS
	// only, so only for switches known to take BGP lines in a session.
	CommitSession = "session"
)

// Settings is the driver's own `nxos` section.
type Settings struct {
	// VRF is the BGP VRF context; default "default".
	VRF string `json:"vrf,omitempty"`
	// SessionName names the configuration session (session mode) and
	// starts the checkpoints' names; default derived from the cluster name.
	SessionName string `json:"sessionName,omitempty"`
	// CommitMode is how a change is made atomic: "checkpoint" (default) or
	// "session".
	CommitMode string `json:"commitMode,omitempty"`
}

// ownOf returns a fabric's `nxos` section with its defaults.
func ownOf(f config.Fabric, cluster string) Settings {
	var nx Settings
	if set := clissh.SettingsOf(f); set != nil {
		if s, ok := set.Own.(*Settings); ok {
			nx = *s
		}
	}
	if nx.VRF == "" {
		nx.VRF = "default"
	}
	if nx.SessionName == "" {
		nx.SessionName = "fabric-reconciler-" + cluster
	}
	if nx.CommitMode == "" {
		nx.CommitMode = CommitCheckpoint
	}
	return nx
}

// check refuses what NX-OS does not take, and returns the names the driver
// will use.
func (nx Settings) check(cluster string) (cli.Naming, error) {
	if nx.CommitMode != CommitCheckpoint && nx.CommitMode != CommitSession {
		return cli.Naming{}, fmt.Errorf("nxos.commitMode %s is not checkpoint or session", cli.Quote(nx.CommitMode))
	}
	if err := cli.Name("nxos.vrf", nx.VRF, 32); err != nil {
		return cli.Naming{}, err
	}
	if err := cli.Name("nxos.sessionName", nx.SessionName, 63); err != nil {
		return cli.Naming{}, err
	}
	if nx.CommitMode == CommitSession && strings.Contains(nx.SessionName, ".") {
		// NX-OS documents session names as alphanumeric; "-" and "_" pass.
		return cli.Naming{}, fmt.Errorf("nxos.sessionName %s: a configuration session name has no '.'; set nxos.sessionName", cli.Quote(nx.SessionName))
	}
	if err := cli.Text("ownership mark", config.OwnerMarkOf(cluster), maxDescription); err != nil {
		return cli.Naming{}, err
	}
	return cli.NewNaming("FR", cluster, scopeOf(nx.VRF), maxNameLen)
}

// parseSettings reads the fabric's `ssh`, `prefixFilters` and `nxos`
// sections and the switches' addresses, and checks what New would refuse.
func parseSettings(f *config.Fabric, ctx config.ParseContext) []string {
	return clissh.ParseSettings(f, ctx, Name, "nxos", &Settings{}, func(f *config.Fabric, ctx config.ParseContext) []string {
		if _, err := ownOf(*f, ctx.Cluster).check(ctx.Cluster); err != nil {
			return []string{err.Error()}
		}
		if clissh.SettingsOf(*f).Listen() {
			// NX-OS's counterpart is a prefix neighbor ("neighbor
			// 10.0.0.0/24 remote-as route-map NAME"); the driver does not
			// write one yet (docs/nxos.md).
			return []string{"peering: listen is not supported by the nxos driver yet; use neighbors"}
		}
		return nil
	})
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

func (d *Driver) observeRequest(op string, took time.Duration, err error) {
	d.metrics.Request(op, took, err)
}
