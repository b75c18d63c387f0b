package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/doctor"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
)

// guardFlags are the safety overrides plan, sync and apply share.
type guardFlags struct {
	allowEmpty     bool
	allowMissing   []string
	policy         string
	deletionBudget int
}

func (g *guardFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&g.allowEmpty, "allow-empty", false, "allow deleting everything the cluster owns on a fabric when it wants nothing there")
	cmd.Flags().StringSliceVar(&g.allowMissing, "allow-missing", nil,
		"input kinds whose absence means the cluster has none, so their fabric objects may be deleted: "+strings.Join(missingKinds, ", ")+", or all (repeatable)")
	cmd.Flags().StringVar(&g.policy, "policy", "", "override every fabric's policy: sync, upsert-only (never delete) or create-only (never change or delete)")
	cmd.Flags().IntVar(&g.deletionBudget, "deletion-budget", 0, "override every fabric's deletionBudget.percent: refuse a plan that deletes more than this percentage of what the cluster owns (1-100)")
}

var missingKinds = []string{k8swatch.KindNode, k8swatch.KindService, k8swatch.KindEndpointSlice, k8swatch.KindBGPPeer,
	k8swatch.KindBGPConfiguration, k8swatch.KindIPPool, k8swatch.KindIPAMBlock}

func (g *guardFlags) options() (reconciler.Options, error) {
	o := reconciler.Options{AllowEmpty: g.allowEmpty, Policy: g.policy, DeletionBudgetPercent: g.deletionBudget}
	switch g.policy {
	case "", config.PolicySync, config.PolicyUpsertOnly, config.PolicyCreateOnly:
	default:
		return o, fmt.Errorf("--policy %q: use sync, upsert-only or create-only", g.policy)
	}
	if g.deletionBudget < 0 || g.deletionBudget > 100 {
		return o, fmt.Errorf("--deletion-budget %d: use 1-100", g.deletionBudget)
	}
	for _, k := range g.allowMissing {
		ok := k == "all"
		for _, m := range missingKinds {
			ok = ok || k == m
		}
		if !ok {
			return o, fmt.Errorf("--allow-missing %q: use %s or all", k, strings.Join(missingKinds, ", "))
		}
		if o.AllowMissing == nil {
			o.AllowMissing = map[string]bool{}
		}
		o.AllowMissing[k] = true
	}
	return o, nil
}

// observeAll observes the fabrics concurrently. A fabric whose observation
// fails is in the error map, never in the observed one.
func observeAll(ctx context.Context, ds map[string]drivers.Driver, fabrics []config.Fabric) (map[string]fabric.Observed, map[string]error) {
	var mu sync.Mutex
	obs, errs := map[string]fabric.Observed{}, map[string]error{}
	var wg sync.WaitGroup
	for _, f := range fabrics {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := ds[f.Name].Observe(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[f.Name] = fmt.Errorf("fabric %s: observe: %w", f.Name, err)
				return
			}
			obs[f.Name] = o
		}()
	}
	wg.Wait()
	return obs, errs
}

// planned is a plan with what it was made from.
type planned struct {
	plan     fabric.Plan
	observed map[string]fabric.Observed
	failed   map[string]error
}

// makePlan translates the cluster against what the fabrics hold and plans
// each selected fabric with its guards.
func makePlan(ins *inputs, only []string, observed map[string]fabric.Observed, failed map[string]error, opts reconciler.Options) planned {
	tr := reconciler.TranslateWithIntents(ins.cluster, ins.cfg,
		reconciler.TranslateOptions{Observed: observed, AllowMissing: opts.AllowMissing, CalicoNamespace: ins.cfg.CalicoNamespace})
	desired := keepFabrics(tr.Desired, only)
	// The cluster set-ups no fabric can make work are doctor's findings:
	// the plan shows its errors and warnings. Doctor reads the translation
	// while the fabrics are planned.
	doctorWarnings := make(chan []string, 1)
	go func() { doctorWarnings <- doctor.CheckTranslated(ins.cluster, ins.cfg, tr).PlanWarnings() }()
	var fps []fabric.Changeset
	for _, fd := range desired.Fabrics {
		if err, bad := failed[fd.Name]; bad {
			fps = append(fps, fabric.Changeset{Name: fd.Name, Driver: fd.Driver, Error: err.Error()})
			continue
		}
		fps = append(fps, reconciler.PlanFabric(fd, observed[fd.Name], reconciler.GuardsFor(fabricConfig(ins.cfg, fd.Name), opts)))
	}
	warnings := append(desired.Warnings, <-doctorWarnings...)
	return planned{plan: fabric.NewPlan(fps, desired.Skipped, warnings), observed: observed, failed: failed}
}

func fabricConfig(cfg *config.Config, name string) *config.Fabric {
	for i := range cfg.Fabrics {
		if cfg.Fabrics[i].Name == name {
			return &cfg.Fabrics[i]
		}
	}
	return &config.Fabric{Name: name}
}

// applyAll applies each fabric's plan concurrently under its lock; fabrics
// that failed to plan, were refused or have nothing to change are reported
// as they are. Outcomes come back in plan order.
func applyAll(ctx context.Context, ds map[string]drivers.Driver, p planned, lo reconciler.LockOptions) []reconciler.Outcome {
	outs := make([]reconciler.Outcome, len(p.plan.Fabrics))
	var wg sync.WaitGroup
	for i, fp := range p.plan.Fabrics {
		outs[i] = reconciler.Outcome{Fabric: fp.Name, Driver: fp.Driver, Plan: fp, Observed: p.observed[fp.Name], Stage: reconciler.StageDone}
		switch {
		case fp.Error != "":
			outs[i].Stage, outs[i].Err = reconciler.StageObserve, p.failed[fp.Name]
			continue
		case fp.Refused != "":
			outs[i].Stage, outs[i].Err = reconciler.StageGuard, fmt.Errorf("fabric %s: plan refused: %s", fp.Name, fp.Refused)
			continue
		case len(fp.Changes) == 0:
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			ap := reconciler.ApplyFabric(ctx, ds[fp.Name], fp, p.observed[fp.Name], lo)
			outs[i].Stage, outs[i].Result, outs[i].After, outs[i].Duration = ap.Stage, ap.Result, ap.After, time.Since(start)
			if ap.Err != nil {
				outs[i].Err = fmt.Errorf("fabric %s: %w", fp.Name, ap.Err)
			}
		}()
	}
	wg.Wait()
	return outs
}

// heldExit says why held changes make a run fail: changes held because
// input is missing or partial need a decision. Changes held by the policy
// were asked for; those of skipped input fail through the skips already.
func heldExit(p fabric.Plan) error {
	n := 0
	for _, f := range p.Fabrics {
		for _, h := range f.Held {
			if !strings.HasPrefix(h.Reason, "policy ") && !strings.HasPrefix(h.Reason, "input ") {
				n++
			}
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%d change(s) are held because input is missing or partial (listed above); fix the input, or pass --allow-missing", n)
}

// applyAndReport prints the plan (text), applies it fabric by fabric under
// their locks, prints what happened, and returns the run's exit: sync and
// apply end alike.
func applyAndReport(ctx context.Context, w io.Writer, output string, ds map[string]drivers.Driver, p planned, lo reconciler.LockOptions, allowSkips bool) error {
	// The plan is printed before anything is applied: what the operator
	// reads is what is about to happen.
	if output == "text" {
		if err := fabric.WriteText(w, p.plan); err != nil {
			return &exitError{code: 1, err: err}
		}
	}
	outs := applyAll(ctx, ds, p, lo)
	if output == "json" {
		if err := writeSyncJSON(w, p.plan, outs); err != nil {
			return &exitError{code: 1, err: err}
		}
	} else {
		writeOutcomesText(w, outs)
	}
	return syncExit(p.plan, outs, allowSkips)
}
