package drivers

import (
	"context"
	"errors"
)

// ChangeNotifier is implemented by a driver whose fabric can push changes
// (the APIC's query subscriptions): it lets the caller correct drift within
// seconds instead of at the next periodic resync. It is optional; callers
// find it with a type assertion, and the periodic resync stays the
// fallback for every driver.
type ChangeNotifier interface {
	// WatchChanges blocks until ctx ends and calls changed whenever
	// something the driver would observe may have changed: an object the
	// cluster owns was created, changed or deleted by anyone, or an object
	// appeared where the driver writes. It also calls changed after each
	// (re)subscription, because changes made while it was not subscribed
	// (before the first subscription, during a dropped connection, an
	// expired subscription) cannot be known: the caller then resyncs in
	// full. A notification says only "look again": the caller observes,
	// plans and applies under its usual guards and lock.
	//
	// changed may be called from another goroutine, often in bursts, and
	// must return quickly. reason is for logs and holds no secret.
	//
	// WatchChanges retries transient failures itself. It returns nil when
	// ctx ends, and an error wrapping ErrNotifyUnsupported at once when
	// this fabric's configuration cannot be watched (the caller keeps the
	// periodic resync only).
	WatchChanges(ctx context.Context, changed func(reason string)) error
}

// ErrNotifyUnsupported says that a fabric cannot push its changes as
// configured.
var ErrNotifyUnsupported = errors.New("the fabric cannot notify changes as configured")
