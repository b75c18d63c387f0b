package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
)

// Switches are a fabric's switches, which a CLI driver works on one
// session each, all in parallel.
type Switches []config.Switch

// ByName finds a switch of the configuration.
func (ss Switches) ByName(name string) (config.Switch, bool) {
	for _, s := range ss {
		if s.Name == name {
			return s, true
		}
	}
	return config.Switch{}, false
}

// Seen keeps what each switch held at the last observation, for Render
// to plan against. Observations of several switches set it concurrently.
type Seen[T any] struct {
	mu sync.Mutex
	m  map[string]T
}

// Set records what a switch held.
func (s *Seen[T]) Set(sw string, v T) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]T{}
	}
	s.m[sw] = v
}

// Get returns what a switch held at the last observation; ok is false
// when it was not observed.
func (s *Seen[T]) Get(sw string) (v T, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok = s.m[sw]
	return v, ok
}

// Observe runs observe on every switch concurrently and merges what they
// found, in the configuration's switch order; the switches that failed
// are left out, and their errors joined.
func (ss Switches) Observe(ctx context.Context, observe func(context.Context, config.Switch) ([]fabric.Object, []fabric.Foreign, error)) (fabric.Observed, error) {
	type result struct {
		owned   []fabric.Object
		foreign []fabric.Foreign
		err     error
	}
	results := make([]result, len(ss))
	var wg sync.WaitGroup
	for i, sw := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			r.owned, r.foreign, r.err = observe(ctx, sw)
		}()
	}
	wg.Wait()
	var (
		obs  fabric.Observed
		errs []error
	)
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		for _, o := range r.owned {
			obs.Owned.Add(o)
		}
		obs.Foreign = append(obs.Foreign, r.foreign...)
	}
	return obs, errors.Join(errs...)
}

// Apply splits a plan's changes by switch and applies each switch's with
// apply, all switches concurrently. Changes for a switch the configuration
// does not have are not applied, with a message and an error. The results
// are merged in switch name order and the errors joined.
func (ss Switches) Apply(ctx context.Context, plan fabric.Changeset, apply func(context.Context, config.Switch, []fabric.Change) (fabric.ApplyResult, error)) (fabric.ApplyResult, error) {
	names, by := BySwitch(plan.Changes)
	results := make([]fabric.ApplyResult, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sw, ok := ss.ByName(name)
			if !ok {
				results[i] = fabric.ApplyResult{Messages: []string{fmt.Sprintf("switch %s is not in the configuration: %d change(s) not applied", Quote(name), len(by[name]))}}
				errs[i] = fmt.Errorf("switch %s is not in the configuration", Quote(name))
				return
			}
			results[i], errs[i] = apply(ctx, sw, by[name])
		}()
	}
	wg.Wait()
	var res fabric.ApplyResult
	for i := range names {
		res.Applied = append(res.Applied, results[i].Applied...)
		res.Conflicts = append(res.Conflicts, results[i].Conflicts...)
		res.Messages = append(res.Messages, results[i].Messages...)
	}
	return res, errors.Join(errs...)
}

// Render writes, per switch, what render says Apply would send for its
// changes, then the plan's own conflicts; "! no changes" for an empty
// plan. Lines that are not configuration start with "!".
func (ss Switches) Render(plan fabric.Changeset, render func(*strings.Builder, config.Switch, []fabric.Change) error) (string, error) {
	var b strings.Builder
	names, by := BySwitch(plan.Changes)
	if len(names) == 0 {
		b.WriteString("! no changes\n")
	}
	for _, name := range names {
		sw, ok := ss.ByName(name)
		if !ok {
			fmt.Fprintf(&b, "! switch %s is not in the configuration: %d change(s) not rendered\n", Quote(name), len(by[name]))
			continue
		}
		if err := render(&b, sw, by[name]); err != nil {
			return "", err
		}
	}
	for _, c := range plan.Conflicts {
		WriteConflict(&b, c)
	}
	return b.String(), nil
}

// WriteNotes writes a script's refusals (each error in one line, as oneLine
// renders it) and conflicts as "!" comments. Ids and texts are escaped
// (CommentKey, CommentText): each note stays one comment line whatever a
// tampered saved observation holds.
func WriteNotes(b *strings.Builder, s *Script, oneLine func(string) string) {
	for _, r := range s.Refused() {
		fmt.Fprintf(b, "! refused %s %s: %s\n", CommentID(string(r.Change.Action)), CommentKey(r.Change.Key()), CommentText(oneLine(r.Err.Error())))
	}
	for _, c := range s.Conflicts() {
		WriteConflict(b, c)
	}
}

// WriteConflict writes a conflict as a "!" comment, escaped as WriteNotes
// does.
func WriteConflict(b *strings.Builder, c fabric.Conflict) {
	fmt.Fprintf(b, "! conflict %s: %s\n", CommentKey(fabric.Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}), CommentText(c.Reason))
}

// Operational reads every switch's operational state concurrently (see
// drivers.Verifier); a switch whose read fails carries its error.
func (ss Switches) Operational(ctx context.Context, read func(context.Context, config.Switch) (fabric.SwitchOperational, error)) fabric.Operational {
	out := fabric.Operational{Switches: make([]fabric.SwitchOperational, len(ss))}
	var wg sync.WaitGroup
	for i, sw := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			so, err := read(ctx, sw)
			so.Switch = sw.Name
			if err != nil {
				so = fabric.SwitchOperational{Switch: sw.Name, Error: err.Error()}
			}
			out.Switches[i] = so
		}()
	}
	wg.Wait()
	out.Sort()
	return out
}
