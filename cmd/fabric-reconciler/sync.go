package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
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

// loadAndOpen is what the commands that talk to the fabrics share: the
// input read, the --fabric names checked against it, and a driver opened
// for each selected fabric (the caller closes them). Errors are the
// command's exit 1.
func loadAndOpen(in *inputFlags, only []string, log *slog.Logger) (*inputs, map[string]drivers.Driver, error) {
	ins, err := in.load()
	if err != nil {
		return nil, nil, &exitError{code: 1, err: err}
	}
	if err := checkFabricNames(ins.cfg, only); err != nil {
		return nil, nil, &exitError{code: 1, err: err}
	}
	ds, err := openDrivers(ins.cfg, only, log)
	if err != nil {
		return nil, nil, &exitError{code: 1, err: err}
	}
	return ins, ds, nil
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
	var kept []fabric.Target
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
		in       inputFlags
		guards   guardFlags
		lock     lockFlags
		only     []string
		timeout  time.Duration
		output   string
		logLevel string
	)
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Observe each fabric, plan, print the plan and apply it once",
		Long: `sync reads the cluster state, observes what each fabric holds, prints the plan,
then applies it and reports what the switches answered. Fabrics are handled
concurrently; one failing fabric does not stop the others.

The cluster state comes from --cluster-state files, else from the live
cluster, found as kubectl finds it (--kubeconfig, $KUBECONFIG,
~/.kube/config, the pod's service account).

Each fabric is written under its writer lock (a marker on the fabric itself,
and, reading a live cluster, the controller's Lease), after observing it again:
a fabric that changed since it was planned is not written.

What came from skipped or missing input is held as it is (see "held"); a
plan that deletes more than the deletion budget is refused whole.

Exit codes: 0 every fabric converged; 1 a fabric failed or was refused,
input objects were skipped as bad (unless --allow-skips), or changes are
held because input is missing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return &exitError{code: 1, err: fmt.Errorf("-o %q: use text or json", output)}
			}
			opts, err := guards.options()
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, false)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			ins, ds, err := loadAndOpen(&in, only, log)
			if err != nil {
				return err
			}
			defer closeDrivers(ds)

			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			release, err := lock.clusterLease(ctx, ins.live, timeout, cmd.ErrOrStderr())
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer release()

			observed, failed := observeAll(ctx, ds, selectFabrics(ins.cfg, only))
			p := makePlan(ins, only, observed, failed, opts)
			return applyAndReport(ctx, cmd.OutOrStdout(), output, ds, p, lock.options(timeout), in.allowSkips)
		},
	}
	in.register(cmd)
	guards.register(cmd)
	lock.register(cmd)
	cmd.Flags().StringArrayVar(&only, "fabric", nil, "reconcile only this fabric (repeatable)")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "deadline for the whole sync")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&logLevel, "log-level", "warn", "log level on stderr: debug, info, warn, error")
	return cmd
}

// syncExit is the exit code of a run that applied: failed fabrics first,
// then skipped input and held changes.
func syncExit(p fabric.Plan, outs []reconciler.Outcome, allowSkips bool) error {
	var failed []string
	for _, o := range outs {
		if o.Err != nil {
			failed = append(failed, o.Fabric)
		}
	}
	if len(failed) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d fabric(s) did not converge: %s", len(failed), strings.Join(failed, ", "))}
	}
	if err := planExit(p, allowSkips, false); err != nil {
		return err
	}
	if err := heldExit(p); err != nil {
		return &exitError{code: 1, err: err}
	}
	return nil
}

func writeOutcomesText(w io.Writer, outs []reconciler.Outcome) {
	fmt.Fprintln(w)
	for _, o := range outs {
		switch {
		case o.Err != nil:
			fmt.Fprintf(w, "Fabric %s: FAILED at %s after %s: %s\n", o.Fabric, o.Stage, o.Duration.Round(time.Millisecond), fabric.Safe(o.Err.Error()))
			if n := len(o.Result.Applied); n > 0 {
				fmt.Fprintf(w, "  the driver reported %d change(s) applied before the failure\n", n)
			}
			if a := o.After; a != nil {
				fmt.Fprintf(w, "  observed afterwards: %d of the plan's %d change(s) are in place, %d are not\n",
					len(a.InPlace), len(a.InPlace)+len(a.NotInPlace), len(a.NotInPlace))
				for _, c := range a.NotInPlace {
					fmt.Fprintf(w, "    not in place: %s %s\n", c.Action, fabric.Safe(c.Key().String()))
				}
			}
		case len(o.Plan.Changes) == 0 && len(o.Plan.Held) > 0:
			fmt.Fprintf(w, "Fabric %s: nothing applied; %d change(s) held (see above)\n", o.Fabric, len(o.Plan.Held))
		case len(o.Plan.Changes) == 0:
			fmt.Fprintf(w, "Fabric %s: already converged\n", o.Fabric)
		default:
			fmt.Fprintf(w, "Fabric %s: applied %d change(s) in %s\n", o.Fabric, len(o.Result.Applied), o.Duration.Round(time.Millisecond))
		}
		for _, m := range o.Result.Messages {
			fmt.Fprintf(w, "  %s\n", fabric.Safe(m))
		}
		for _, c := range o.Result.Conflicts {
			fmt.Fprintf(w, "  conflict: %s: %s\n", fabric.Safe(fabric.Key{Kind: c.Kind, Switch: c.Switch, ID: c.ID}.String()), fabric.Safe(c.Reason))
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
	// InPlace and NotInPlace, after a failed apply, count the plan's
	// changes a fresh observation found done and not done.
	InPlace    *int    `json:"inPlace,omitempty"`
	NotInPlace *int    `json:"notInPlace,omitempty"`
	Seconds    float64 `json:"seconds"`
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
		if o.After != nil {
			in, out := len(o.After.InPlace), len(o.After.NotInPlace)
			r.InPlace, r.NotInPlace = &in, &out
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
