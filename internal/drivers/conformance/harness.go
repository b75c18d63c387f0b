// Package conformance is the driver conformance suite: one table of
// behaviours that every fabric driver must show, run against a real or
// emulated fabric. A driver's tests supply a Harness (how to open the driver,
// how to reach its fabric by hand, a desired state that fits the platform)
// and call Run; every behaviour is a subtest. It is imported by tests only.
//
// docs/conformance.md lists the behaviours, how a new driver plugs in, and
// where the platforms differ and why.
package conformance

import (
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

// The clusters the suite drives a fabric for: Cluster is the one under test,
// OtherCluster another cluster sharing the fabric. Neither name contains the
// other, so an ownership mark names one of them only.
const (
	Cluster      = "conf-a"
	OtherCluster = "conf-b"
)

// Harness is what a driver's test supplies to run the suite. Every function
// may fail the test it is given.
type Harness struct {
	// Driver is the driver's registered name (plans carry it).
	Driver string

	// Open builds a driver on the fabric for opts.Cluster. The suite fills
	// opts: the cluster, a logger at debug level (where a leaked secret
	// would show) and a metrics observer; Open must pass them on
	// (drivers.Open does). The suite closes the driver.
	Open func(t *testing.T, opts drivers.Options) drivers.Driver
	// Reset puts the fabric back to its baseline, the network team's own
	// configuration, before each behaviour.
	Reset func(t *testing.T)
	// Dump is the fabric's configuration as the platform shows it (the
	// tenant subtree, each switch's running configuration), compared byte
	// for byte.
	Dump func(t *testing.T) string
	// Leftovers are lines, exactly as Dump shows them, that deleting
	// everything the cluster owns may leave behind where the baseline had
	// none: a limit the driver documents (NX-OS keeps the router's
	// address-family block it made for maximum-paths). The round trips
	// compare the dumps without them, and log that they did.
	Leftovers []string
	// Writes counts the configuration writes the fabric has received since
	// the last Reset (POSTs, configuration lines): the suite compares two
	// counts taken around an Apply.
	Writes func(t *testing.T) int

	// Desired is a state that fits the platform (the kinds it manages, on
	// the fabric's switches), with at least two objects; every behaviour
	// starts from it.
	Desired fabric.State
	// Updated, when set, is Desired with attributes changed and objects
	// removed or added: the update behaviour converges from one to the
	// other and back.
	Updated fabric.State

	// HandMake configures, as a person would and without any ownership
	// mark, objects at places of Desired's objects. It returns the keys of
	// the Desired objects now in the way, and a function that shows the
	// hand-made objects as the fabric holds them (compared byte for byte
	// before and after the driver runs). Part of Desired must stay free.
	HandMake func(t *testing.T) (inTheWay []fabric.Key, show func(t *testing.T) string)
	// Other is what OtherCluster applies, with the same driver, at places
	// of Desired's objects other than HandMake's.
	Other fabric.State

	// Refused are objects, with keys of their own, holding a value the
	// driver must refuse before it reaches the fabric (a node name that
	// would inject a line, a name outside the platform's grammar). Each
	// must fail alone: none may take a Desired object down with it.
	Refused []fabric.Object
	// RefusedText is a piece of the refused values that must never
	// reach the fabric.
	RefusedText string

	// PlatformRefuses, when set, returns an object the driver accepts but
	// the fabric will refuse (a value the platform does not take, or an
	// injected refusal), and a function that ends the injection. Refusal
	// says how much of a plan such a refusal takes down.
	PlatformRefuses func(t *testing.T) (obj fabric.Object, undo func())
	Refusal         Refusal

	// Lock says how Apply treats the writer lock; ApplyBasis what Apply
	// plans its writes against.
	Lock       LockRule
	ApplyBasis ApplyBasis

	// Secrets are the secrets the driver reads (passwords, keys); none
	// may appear in its logs, errors, messages or rendered output.
	Secrets []string

	// Timeout bounds each behaviour (default 3 minutes).
	Timeout time.Duration
}

// Refusal is how much of a plan a refusal by the platform takes down.
type Refusal string

const (
	// RefusalFailsPlan: the platform takes the plan's writes all or
	// nothing (ACI: one POST); a refusal applies none of them.
	RefusalFailsPlan Refusal = "fails the plan"
	// RefusalFailsSwitch: each switch takes its lines all or nothing
	// (NX-OS: checkpoint and rollback); a refusal applies nothing on that
	// switch, and the other switches are applied.
	RefusalFailsSwitch Refusal = "fails the switch"
	// RefusalStopsSwitch: the switch takes lines one by one (FRR); a
	// refusal stops that switch at the refused line, what came before
	// stays and is reported, the other switches are applied.
	RefusalStopsSwitch Refusal = "stops the switch"
)

// LockRule is how Apply treats the fabric's writer lock.
type LockRule string

const (
	// LockRequired: Apply refuses to run unless this driver holds the
	// lock and observed under it (NX-OS).
	LockRequired LockRule = "required"
	// LockHeldByOtherRefused: Apply refuses to run while another writer
	// holds the lock; taking it is the caller's duty (FRR).
	LockHeldByOtherRefused LockRule = "held by another writer refused"
	// LockCallersDuty: Apply does not look at the lock; the caller takes
	// it before observing (reconciler.ApplyFabric does) (ACI).
	LockCallersDuty LockRule = "caller's duty"
)

// ApplyBasis is what Apply plans its writes against.
type ApplyBasis string

const (
	// ApplyReadsFabric: Apply reads the fabric again and sends only what
	// is missing: a replayed plan sends nothing, and an object made by
	// hand since the last Observe is found in the way (FRR, NX-OS).
	ApplyReadsFabric ApplyBasis = "reads the fabric"
	// ApplyGoesByObservation: Apply builds on the driver's last Observe
	// and sends each change whole: a replayed plan is sent again
	// (idempotent writes), and an object made since the last Observe is
	// seen only by the next Observe, which the reconciler makes under the
	// lock before applying (ACI).
	ApplyGoesByObservation ApplyBasis = "goes by the last observation"
)
