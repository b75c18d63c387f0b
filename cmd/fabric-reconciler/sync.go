package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/fabric-reconciler/fabric-reconciler/config"
	"github.com/fabric-reconciler/fabric-reconciler/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/reconciler"
)

// openDrivers builds one driver per selected fabric. Building contacts no
// switch.
func openDrivers(cfg *config.Config, only []string, log *slog.Logger) (map[string]drivers.Driver, error) {
	out := map[string]drivers.Driver{}
	for _, f := range selectFabrics(cfg, only) {
		d, err := drivers.Open(f, drivers.Options{Cluster: cfg.Cluster, Logger: log.With("fabric", f.Name)})
		if err != nil {
			closeDrivers(out)
			return nil, err
		}
		out[f.Name] = d
	}
	return out, nil
}

func closeDrivers(ds map[string]drivers.Driver) {
	for _, d := range ds {
		_ = d.Close()
	}
}

// selectFabrics returns the configured fabrics, or only the named ones.
func selectFabrics(cfg *config.Config, only []string) []config.Fabric {
	if len(only) == 0 {
		return cfg.Fabrics
	}
	var out []config.Fabric
	for _, f := range cfg.Fabrics {
		for _, n := range only {
			if f.Name == n {
				out = append(out, f)
			}
		}
	}
	return out
}

func checkFabricNames(cfg *config.Config, only []string) error {
	for _, n := range only {
		found := false
		for _, f := range cfg.Fabrics {
			found = found || f.Name == n
		}
		if !found {
			return fmt.Errorf("--fabric %q: no such fabric in the configuration", n)
		}
	}
	return nil
}

// keepFabrics narrows a desired state to the selected fabrics.
func keepFabrics(d fabric.Desired, only []string) fabric.Desired {
	if len(only) == 0 {
		return d
	}
	var kept []fabric.FabricDesired
	for _, f := range d.Fabrics {
		for _, n := range only {
			if f.Name == n {
				kept = append(kept, f)
			}
		}
	}
	d.Fabrics = kept
	return d
}

// reconcileAll reconciles every fabric concurrently: one slow or unreachable
// fabric never holds up another. Outcomes come back in configuration order.
// A fabric whose driver has a writer lock is applied under it (lock.go).
func reconcileAll(ctx context.Context, ds map[string]drivers.Driver, desired fabric.Desired, opts reconciler.Options) []reconciler.Outcome {
	outs := make([]reconciler.Outcome, len(desired.Fabrics))
	runID := newRunID()
	var wg sync.WaitGroup
	for i, fd := range desired.Fabrics {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i] = reconcileLocked(ctx, ds[fd.Name], fd, opts, runID)
		}()
	}
	wg.Wait()
	return outs
}

func newLogger(w io.Writer, level string, jsonFormat bool) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	hopts := &slog.HandlerOptions{Level: lv}
	if jsonFormat {
		return slog.New(slog.NewJSONHandler(w, hopts)), nil
	}
	return slog.New(slog.NewTextHandler(w, hopts)), nil
}

func newSyncCommand() *cobra.Command {
	var (
		in         inputFlags
		only       []string
		timeout    time.Duration
		allowEmpty bool
		output     string
		logLevel   string
	)
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Observe each fabric, plan, and apply the plan once",
		Long: `sync reads the cluster state, observes what each fabric holds, prints the plan
and applies it, then reports what the switches answered. Fabrics are handled
concurrently; one failing fabric does not stop the others.

Exit codes: 0 every fabric converged; 1 a fabric failed, or input objects
were skipped as bad (the rest is still applied) unless --allow-skips.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in.fabricState != "" {
				return &exitError{code: 1, err: fmt.Errorf("--fabric-state is for plan only: sync always observes the fabric")}
			}
			if output != "text" && output != "json" {
				return &exitError{code: 1, err: fmt.Errorf("-o %q: use text or json", output)}
			}
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, false)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			ins, err := in.load()
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			if err := checkFabricNames(ins.cfg, only); err != nil {
				return &exitError{code: 1, err: err}
			}
			ds, err := openDrivers(ins.cfg, only, log)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer closeDrivers(ds)

			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			desired := keepFabrics(reconciler.Translate(ins.cluster, ins.cfg), only)
			outs := reconcileAll(ctx, ds, desired, reconciler.Options{AllowEmpty: allowEmpty})

			var plans []fabric.FabricPlan
			for _, o := range outs {
				plans = append(plans, o.Plan)
			}
			plan := fabric.NewPlan(plans, desired.Skipped, desired.Warnings)
			w := cmd.OutOrStdout()
			if output == "json" {
				if err := writeSyncJSON(w, plan, outs); err != nil {
					return &exitError{code: 1, err: err}
				}
			} else {
				if err := fabric.WriteText(w, plan); err != nil {
					return &exitError{code: 1, err: err}
				}
				writeOutcomesText(w, outs)
			}
			var failed []string
			for _, o := range outs {
				if o.Err != nil {
					failed = append(failed, o.Fabric)
				}
			}
			if len(failed) > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%d fabric(s) did not converge: %s", len(failed), strings.Join(failed, ", "))}
			}
			return planExit(plan, in.allowSkips, false)
		},
	}
	in.register(cmd)
	cmd.Flags().StringArrayVar(&only, "fabric", nil, "reconcile only this fabric (repeatable)")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "deadline for the whole sync")
	cmd.Flags().BoolVar(&allowEmpty, "allow-empty", false, "allow deleting everything the cluster owns on a fabric when it wants nothing there")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&logLevel, "log-level", "warn", "log level on stderr: debug, info, warn, error")
	return cmd
}

func writeOutcomesText(w io.Writer, outs []reconciler.Outcome) {
	fmt.Fprintln(w)
	for _, o := range outs {
		switch {
		case o.Err != nil:
			fmt.Fprintf(w, "Fabric %s: FAILED at %s after %s: %v\n", o.Fabric, o.Stage, o.Duration.Round(time.Millisecond), o.Err)
			if n := len(o.Result.Applied); n > 0 {
				fmt.Fprintf(w, "  %d change(s) were applied before the failure\n", n)
			}
		case len(o.Plan.Changes) == 0:
			fmt.Fprintf(w, "Fabric %s: already converged (%s)\n", o.Fabric, o.Duration.Round(time.Millisecond))
		default:
			fmt.Fprintf(w, "Fabric %s: applied %d change(s) in %s\n", o.Fabric, len(o.Result.Applied), o.Duration.Round(time.Millisecond))
		}
		for _, m := range o.Result.Messages {
			fmt.Fprintf(w, "  %s\n", m)
		}
		for _, c := range o.Result.Conflicts {
			fmt.Fprintf(w, "  conflict: %s: %s\n", fabric.Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}, c.Reason)
		}
	}
}

type syncFabricJSON struct {
	Name      string            `json:"name"`
	Stage     string            `json:"stage"`
	Error     string            `json:"error,omitempty"`
	Applied   int               `json:"applied"`
	Messages  []string          `json:"messages,omitempty"`
	Conflicts []fabric.Conflict `json:"conflicts,omitempty"`
	Seconds   float64           `json:"seconds"`
}

func writeSyncJSON(w io.Writer, plan fabric.Plan, outs []reconciler.Outcome) error {
	res := struct {
		Plan    fabric.Plan      `json:"plan"`
		Results []syncFabricJSON `json:"results"`
	}{Plan: plan}
	for _, o := range outs {
		r := syncFabricJSON{Name: o.Fabric, Stage: o.Stage, Applied: len(o.Result.Applied), Messages: o.Result.Messages,
			Conflicts: o.Result.Conflicts, Seconds: o.Duration.Seconds()}
		if o.Err != nil {
			r.Error = o.Err.Error()
		}
		res.Results = append(res.Results, r)
	}
	return writeJSONValue(w, res)
}

func writeJSONValue(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
