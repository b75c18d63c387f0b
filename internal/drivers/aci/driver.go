// Package aci drives a Cisco ACI fabric through the APIC's REST API with
// aci-go-client over go-retryablehttp.
//
// Observe is one subtree GET of the tenant; Apply is one POST of the tenant
// subtree (all or nothing on the APIC); Render prints that POST. Every
// object the driver writes carries the annotation
// orchestrator:fabric-reconciler.<cluster>; objects without it are never
// modified or deleted, only reported.
package aci

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

// Name is the driver's name in the configuration.
const Name = "aci"

func init() {
	drivers.Register(Name, drivers.Spec{Open: New, Desire: Desire, Config: configSpec, Check: checkPlan})
}

// Driver is the ACI driver for one fabric.
type Driver struct {
	cfg   config.Fabric
	aci   *Settings
	names names
	log   *slog.Logger
	apic  *apic

	mu   sync.Mutex
	snap *snapshot // the last observation, which Apply builds on
	// fabricASN is the fabric's BGP AS as the APIC holds it, read at
	// Observe (0 until then).
	fabricASN uint32
}

// New builds the driver. It contacts nothing and reads no secret: that
// happens on the first Observe or Apply.
func New(cfg config.Fabric, opts drivers.Options) (drivers.Driver, error) {
	a := settingsOf(cfg)
	if a == nil {
		return nil, fmt.Errorf("fabric %s: driver aci needs an aci section", cfg.Name)
	}
	n, err := newNames(a, opts.Cluster)
	if err != nil {
		return nil, fmt.Errorf("fabric %s: %w", cfg.Name, err)
	}
	for _, s := range cfg.Switches {
		if svi := leafOf(s).SVIPath; !sviPathRe.MatchString(svi) {
			return nil, fmt.Errorf("fabric %s: switch %s: sviPath %q is not an ACI path", cfg.Name, s.Name, svi)
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Driver{cfg: cfg, aci: a, names: n, log: log, apic: newAPIC(a.APIC, cfg.Name, opts.Metrics)}, nil
}

// Observe reads the tenant with one GET and returns what this cluster owns
// and the foreign objects where it would write.
func (d *Driver) Observe(ctx context.Context) (fabric.Observed, error) {
	snap, err := d.fetch(ctx)
	if err != nil {
		return fabric.Observed{}, err
	}
	asn, err := d.readFabricASN(ctx)
	if err != nil {
		return fabric.Observed{}, err
	}
	d.mu.Lock()
	d.snap = snap
	d.fabricASN = asn
	d.mu.Unlock()
	obs := d.toObserved(snap)
	d.log.Debug("observed the tenant", "tenant", d.names.tenant, "objects", len(snap.objs),
		"owned", obs.Owned.Len(), "foreign", len(obs.Foreign))
	return obs, nil
}

func (d *Driver) fetch(ctx context.Context) (*snapshot, error) { return d.fetchAs(ctx, "observe") }

// fetchAs reads the tenant, counted in the metrics as op.
func (d *Driver) fetchAs(ctx context.Context, op string) (*snapshot, error) {
	cont, err := d.apic.request(ctx, op, "GET", d.names.observeQuery(), nil)
	if err != nil {
		return nil, fmt.Errorf("observe tenant %s: %w", d.names.tenant, err)
	}
	snap, err := parseSnapshot(cont)
	if err != nil {
		return nil, fmt.Errorf("observe tenant %s: %w", d.names.tenant, err)
	}
	return snap, nil
}

// payload is a built POST: the body and what it holds.
type payload struct {
	body     []byte
	applied  []fabric.Change
	rejected []string          // changes refused for a bad value or a missing container
	refused  []fabric.Conflict // changes refused because an unmarked object is in the way
	kept     []kept            // owned objects a delete kept, for what they hold
	counts   map[string]int
	secrets  []string // the passwords in body
}

// conflicts are the refused changes and the deletes that kept an object, as
// ApplyResult reports them.
func (p payload) conflicts() []fabric.Conflict {
	out := append([]fabric.Conflict(nil), p.refused...)
	at := map[fabric.Key]int{} // one conflict per change, however much it kept
	for _, k := range p.kept {
		if k.key.Kind == "" {
			continue
		}
		if i, ok := at[k.key]; ok {
			out[i].Reason += "; " + k.message()
			continue
		}
		at[k.key] = len(out)
		out = append(out, fabric.Conflict{Kind: k.key.Kind, Switch: k.key.Switch, ID: k.key.ID, Reason: k.message()})
	}
	return out
}

func (d *Driver) build(plan fabric.Changeset, snap *snapshot, render bool) payload {
	b := d.newBuilder(snap, render)
	var p payload
	refuse := func(c fabric.Change, err error) {
		var ce *conflictError
		if errors.As(err, &ce) {
			p.refused = append(p.refused, fabric.Conflict{Kind: c.Kind, Switch: c.Switch, ID: c.ID, Owner: ce.owner, Reason: oneLine(ce.msg)})
			return
		}
		p.rejected = append(p.rejected, keyText(c.Key())+": "+oneLine(err.Error()))
	}
	for _, c := range plan.Changes {
		// Each change is first built alone: one that fails halfway leaves
		// nothing of itself in the payload. Whether a change can be made
		// depends on the observation only, so the second build succeeds.
		if err := d.newBuilder(snap, render).add(c); err != nil {
			refuse(c, err)
			continue
		}
		if err := b.add(c); err != nil {
			refuse(c, err)
			continue
		}
		p.applied = append(p.applied, c)
	}
	b.finish()
	p.kept, p.secrets = b.kept, b.secrets
	p.counts = map[string]int{}
	for _, k := range b.root.kids {
		k.count(p.counts)
	}
	if len(b.root.kids) > 0 {
		p.body, _ = json.MarshalIndent(map[string]any{"fvTenant": (*moBody)(b.root)}, "", "  ")
	}
	return p
}

// moBody renders the tenant node without its class wrapper.
type moBody mo

func (m *moBody) MarshalJSON() ([]byte, error) {
	b, err := (*mo)(m).MarshalJSON()
	if err != nil {
		return nil, err
	}
	var wrapped map[string]json.RawMessage
	if err := json.Unmarshal(b, &wrapped); err != nil {
		return nil, err
	}
	return wrapped[m.class], nil
}

func (d *Driver) postPath() string {
	return "/api/mo/" + d.names.tenantDN() + ".json?rsp-subtree=modified"
}

// Apply makes the plan's changes with one POST of the tenant subtree. The
// APIC applies it all or nothing. A change that cannot be made (a missing
// container, an object in the way, a bad value) is left out and reported;
// the others are still applied.
func (d *Driver) Apply(ctx context.Context, plan fabric.Changeset) (fabric.ApplyResult, error) {
	res := fabric.ApplyResult{Conflicts: plan.Conflicts}
	if len(plan.Changes) == 0 {
		return res, nil
	}
	d.mu.Lock()
	snap := d.snap
	d.mu.Unlock()
	if snap == nil {
		var err error
		if snap, err = d.fetch(ctx); err != nil {
			return res, err
		}
	}
	p := d.build(plan, snap, false)
	for _, r := range p.rejected {
		res.Messages = append(res.Messages, "not applied: "+r)
	}
	for _, k := range p.kept {
		res.Messages = append(res.Messages, k.message())
	}
	res.Conflicts = append(res.Conflicts, p.conflicts()...)
	if p.body == nil {
		res.Applied = p.applied // nothing left to send (already gone)
		return res, p.err()
	}
	cont, err := d.apic.request(ctx, "apply", "POST", d.postPath(), p.body)
	err = redact(err, p.secrets)
	// Whatever happened, the next Apply must observe afresh.
	d.mu.Lock()
	d.snap = nil
	d.mu.Unlock()
	switch {
	case errors.Is(err, errNotApplied):
		// Refused, or never sent: the APIC applies a POST all or nothing.
		return res, fmt.Errorf("apply to tenant %s (nothing was changed: the APIC refused the POST or never received it): %w", d.names.tenant, err)
	case err != nil:
		// Sent, and its answer not seen (or not understood): it may have
		// been committed. Never "nothing was changed" here.
		if !errors.Is(err, drivers.ErrOutcomeUnknown) {
			err = fmt.Errorf("%w: %w", drivers.ErrOutcomeUnknown, err)
		}
		return res, fmt.Errorf("apply to tenant %s: the APIC may have committed this POST; observe again to learn what it holds: %w", d.names.tenant, err)
	}
	res.Applied = p.applied
	got := map[string]int{}
	countStatuses(cont.Data(), got)
	res.Messages = append([]string{fmt.Sprintf("APIC accepted one POST of %s: %d created, %d modified, %d deleted (sent %d writes, %d deletes)",
		d.names.tenantDN(), got["created"], got["modified"], got["deleted"], p.counts[upsert], p.counts[deleted])}, res.Messages...)
	// Accepted is not deployed: what the APIC cannot deploy shows up as a
	// fault on the object (docs/aci.md, "Faults after apply").
	faultErr := d.checkFaults(ctx, snap, &res)
	return res, errors.Join(p.err(), faultErr)
}

// err reports the changes that could not be applied: refused for a value,
// a missing container, or an object in the way found only now.
func (p payload) err() error {
	all := append([]string(nil), p.rejected...)
	for _, c := range p.refused {
		all = append(all, keyText(fabric.Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID})+": "+c.Reason)
	}
	if len(all) == 0 {
		return nil
	}
	return fmt.Errorf("%d change(s) could not be applied: %s", len(all), strings.Join(all, "; "))
}

// countStatuses counts the status fields of an rsp-subtree=modified answer.
func countStatuses(v any, into map[string]int) {
	switch t := v.(type) {
	case map[string]any:
		for k, vv := range t {
			if s, ok := vv.(string); ok && k == "status" && s != "" {
				into[s]++
				continue
			}
			countStatuses(vv, into)
		}
	case []any:
		for _, vv := range t {
			countStatuses(vv, into)
		}
	}
}

// Render returns the POST Apply would send for the plan, with each BGP
// password it would send replaced by a placeholder. Without an earlier
// Observe (plan --offline) it assumes the containers exist.
func (d *Driver) Render(plan fabric.Changeset) (string, error) {
	d.mu.Lock()
	snap := d.snap
	d.mu.Unlock()
	p := d.build(plan, snap, true)
	var b strings.Builder
	if snap == nil {
		b.WriteString("# offline: what the APIC holds is unknown; containers are assumed to exist\n")
	}
	// Ids and reasons may come from a saved observation: printed escaped,
	// so that none can end its comment line.
	for _, r := range p.rejected {
		fmt.Fprintf(&b, "# not applied: %s\n", oneLine(r))
	}
	for _, c := range append(append([]fabric.Conflict(nil), plan.Conflicts...), p.refused...) {
		fmt.Fprintf(&b, "# conflict, left alone: %s: %s\n", keyText(fabric.Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}), oneLine(c.Reason))
	}
	for _, k := range p.kept {
		fmt.Fprintf(&b, "# %s\n", oneLine(k.message()))
	}
	if p.body == nil {
		b.WriteString("# nothing to POST\n")
		return b.String(), nil
	}
	fmt.Fprintf(&b, "# POST %s%s\n", strings.TrimSuffix(d.aci.APIC.URL, "/"), d.postPath())
	b.Write(p.body)
	b.WriteByte('\n')
	return b.String(), nil
}

// Close ends the APIC session.
func (d *Driver) Close() error {
	d.apic.close()
	return nil
}

// redact keeps the passwords a POST carried out of its error: an APIC
// error answer may quote the value it refused ("property ... failed
// validation for value '...'"). The APIC's text is cleaned where it is
// kept, before it is escaped or cut for printing; what else the error
// says is checked again as printed. The error keeps its kind for
// errors.Is (drivers.ErrOutcomeUnknown, errNotApplied) but unwraps to
// nothing that could print the value.
func redact(err error, secrets []string) error {
	if err == nil || len(secrets) == 0 {
		return err
	}
	clean := func(s string) string {
		for _, v := range secrets {
			if v != "" {
				s = strings.ReplaceAll(strings.ReplaceAll(s, v, "(sensitive)"), oneLine(v), "(sensitive)")
			}
		}
		return s
	}
	var ae *APIError
	if errors.As(err, &ae) {
		ae.Text = clean(ae.Text)
	}
	if msg := clean(err.Error()); msg != err.Error() {
		return &redactedError{msg: msg, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string        { return e.msg }
func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }
