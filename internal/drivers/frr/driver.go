// Package frr drives FRRouting switches (SONiC, Cumulus, white boxes, Linux
// routers) over SSH into vtysh, with scrapligo and an FRR platform
// definition (frr_vtysh.yaml) whose prompts match FRR's configuration
// sub-modes.
//
// What it configures, per switch, inside the existing BGP instance
// ("router bgp <asn>", the network team's; never created):
//
//   - one neighbor per node: remote-as, description "<owner mark> node=<node>"
//     (the ownership mark), local-as when the node expects another AS;
//   - per neighbor, an inbound prefix-list and route-map named
//     "FR-<cluster>-IN-<address>" that permit exactly what the node may
//     advertise; everything else is denied;
//   - maximum-paths (eBGP and iBGP) per address family, with
//     "bgp bestpath as-path multipath-relax" (nodes have different ASNs).
//     These settings cannot carry a mark: a marker prefix-list
//     "FR-<cluster>-MARK-MAXPATHS-IPV4" (and "...-MARK-MULTIPATH-RELAX" when
//     the driver turned relax on) records that the cluster owns them;
//   - the writer lock (drivers.Locker, lock.go): an empty peer-group
//     "FR-<cluster>-MARK-LOCK" in the BGP instance of every switch, whose
//     description holds the holder's record while a writer holds the lock.
//
// Anything without the mark is foreign and never changed. docs/frr.md
// describes the setup on a real FRR box.
package frr

import (
	_ "embed"
	"fmt"
	"log/slog"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/cli"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers/clissh"
)

//go:embed frr_vtysh.yaml
var platformYAML []byte

// Name is the driver's name in the configuration.
const Name = "frr"

// maxPathsLimit is the largest maximum-paths FRR accepts (MULTIPATH_NUM of
// Debian's build; a switch built with a lower limit refuses the line).
const maxPathsLimit = 256

func init() {
	drivers.Register(Name, drivers.Spec{Open: New, Desire: Desire,
		Config: config.DriverSpec{Parse: parseSettings, MaxPaths: maxPathsLimit, MultipathRelax: true}})
}

// managedOptions are the peer options FRR sets per neighbor (apply.go
// PeerUp): those FRR and NX-OS share (cli.ManagedOptions). Not graceful restart: FRR sets a neighbor's graceful-restart
// mode (neighbor X graceful-restart|graceful-restart-helper|
// graceful-restart-disable), but the restart and stale-path times only for
// the whole instance (bgp graceful-restart restart-time|stalepath-time,
// doc/user/bgp.rst "BGP Per Peer Graceful Restart"); a helper keeps a
// restarting node's routes for the restart time the node itself
// advertises.
var managedOptions = cli.ManagedOptions

// Desire realizes an intent on FRR switches (see cli.Desire).
func Desire(cfg config.Fabric, in fabric.Intent) fabric.Realized {
	set := clissh.SettingsOf(cfg)
	return cli.Desire(in, cli.Limits{PlatformName: "FRR", MaxPaths: maxPathsLimit, NoFilters: set != nil && set.PrefixFilters.Disabled,
		Options: managedOptions, Listen: set.Listen()})
}

// Driver drives the FRR switches of one fabric.
type Driver struct {
	fabric   config.Fabric
	cluster  string
	log      *slog.Logger
	metrics  clissh.Metrics
	own      cli.Ownership
	switches cli.Switches
	maxPaths int
	sessions *clissh.Pool[*session]

	// seen is the running config of each switch at the last Observe; Render
	// uses it to show the lines Apply would send now.
	seen cli.Seen[seenConfig]

	// held is the writer lock this driver holds (lock.go); Apply checks
	// the switches' lock markers against it.
	held heldLock
	// lockSettle is defaultLockSettle unless a test sets it.
	lockSettle time.Duration
	// testLockHook, set by tests only, is called at the stages of taking
	// a switch's lock.
	testLockHook func(stage string, sw config.Switch)
}

var _ drivers.Locker = (*Driver)(nil)

// New builds the driver for one fabric. It contacts no switch and reads no
// secret: sessions open on first use.
func New(f config.Fabric, opts drivers.Options) (drivers.Driver, error) {
	if f.Driver != Name {
		return nil, fmt.Errorf("fabric %s: driver %q is not %s", f.Name, f.Driver, Name)
	}
	set := clissh.SettingsOf(f)
	if set == nil {
		return nil, fmt.Errorf("fabric %s: the ssh section is required", f.Name)
	}
	vrf := ownOf(f).VRF
	naming, err := cli.NewNaming("FR", opts.Cluster, vrf, 0)
	if err != nil {
		return nil, fmt.Errorf("fabric %s: %w", f.Name, err)
	}
	if err := clissh.CheckSwitches(f); err != nil {
		return nil, fmt.Errorf("fabric %s: %w", f.Name, err)
	}
	if err := checkVRF(vrf); err != nil {
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
	d := &Driver{
		fabric:   f,
		cluster:  opts.Cluster,
		log:      log.With("driver", Name),
		metrics:  clissh.Metrics{Fabric: f.Name, Driver: Name, Observer: opts.Metrics},
		own:      cli.Ownership{Mark: cli.Mark(cfg.OwnerMark()), Naming: naming},
		switches: cli.Switches(f.Switches),
		maxPaths: limit,
	}
	d.sessions = clissh.NewPool(sessionConfig(d), func(_ config.Switch, c clissh.Config) *session {
		return &session{Session: clissh.New(c)}
	})
	return d, nil
}

func (d *Driver) vrf() string { return ownOf(d.fabric).VRF }

// Settings is the driver's own `frr` section.
type Settings struct {
	// VRF is the BGP instance's VRF ("" for the default instance).
	VRF string `json:"vrf,omitempty"`
}

// ownOf returns a fabric's `frr` section.
func ownOf(f config.Fabric) Settings {
	if set := clissh.SettingsOf(f); set != nil {
		if s, ok := set.Own.(*Settings); ok {
			return *s
		}
	}
	return Settings{}
}

func checkVRF(vrf string) error {
	if vrf == "" {
		return nil
	}
	return cli.Name("frr.vrf", vrf, 63)
}

// parseSettings reads the fabric's `ssh`, `prefixFilters` and `frr`
// sections and the switches' addresses, and checks what New would refuse.
func parseSettings(f *config.Fabric, ctx config.ParseContext) []string {
	return clissh.ParseSettings(f, ctx, Name, "frr", &Settings{}, func(f *config.Fabric, ctx config.ParseContext) []string {
		vrf := ownOf(*f).VRF
		if err := checkVRF(vrf); err != nil {
			return []string{err.Error()}
		}
		if _, err := cli.NewNaming("FR", ctx.Cluster, vrf, 0); err != nil {
			return []string{err.Error()}
		}
		return nil
	})
}

// session returns the switch's persistent session, creating it unopened.
func (d *Driver) session(sw config.Switch) *session { return d.sessions.Get(sw) }

// Close closes every session.
func (d *Driver) Close() error { return d.sessions.Close() }

func (d *Driver) observeRequest(op string, took time.Duration, err error) {
	d.metrics.Request(op, took, err)
}
