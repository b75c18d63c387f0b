package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
)

// observeAllForAdoption is observeAll through each driver's Adopter: the
// foreign objects come with what the driver read of them.
func observeAllForAdoption(ctx context.Context, ds map[string]drivers.Driver, fabrics []config.Fabric) (map[string]fabric.Observed, map[string]error) {
	var mu sync.Mutex
	obs, errs := map[string]fabric.Observed{}, map[string]error{}
	var wg sync.WaitGroup
	for _, f := range fabrics {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var (
				o   fabric.Observed
				err error
			)
			if a, ok := ds[f.Name].(drivers.Adopter); ok {
				o, err = a.ObserveForAdoption(ctx)
			} else {
				err = fmt.Errorf("driver %s cannot adopt objects", f.Driver)
			}
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

// makeAdoptionPlan is makePlan for the adopt command: per fabric, the
// adoptions of unmarked objects identical to desired ones and the
// conflicts that stay (fabric.Adoption). No guard applies: an adoption
// creates, changes and deletes nothing but marks.
func makeAdoptionPlan(ins *inputs, only []string, observed map[string]fabric.Observed, failed map[string]error, opts reconciler.Options) planned {
	desired := keepFabrics(reconciler.Translate(ins.cluster, ins.cfg,
		reconciler.TranslateOptions{Observed: observed, AllowMissing: opts.AllowMissing, CalicoNamespace: ins.cfg.CalicoNamespace}), only)
	var fps []fabric.Changeset
	for _, fd := range desired.Fabrics {
		if err, bad := failed[fd.Name]; bad {
			fps = append(fps, fabric.Changeset{Name: fd.Name, Driver: fd.Driver, Error: err.Error()})
			continue
		}
		fps = append(fps, reconciler.PlanAdoption(fd, observed[fd.Name]))
	}
	return planned{plan: fabric.NewPlan(fps, desired.Skipped, desired.Warnings), observed: observed, failed: failed}
}

func newAdoptCommand() *cobra.Command {
	var (
		in       inputFlags
		guards   guardFlags
		lock     lockFlags
		only     []string
		timeout  time.Duration
		output   string
		outFile  string
		yes      bool
		logLevel string
	)
	cmd := &cobra.Command{
		Use:   "adopt",
		Short: "Take over hand-made objects identical to what the cluster wants, after review",
		Long: `adopt lists the objects on each fabric that carry no ownership mark, sit
where the cluster wants an object, and are identical to it (every attribute
the driver manages; on CLI platforms the exact lines): adopting one puts the
cluster's mark on it and changes nothing else. An object that differs stays
a conflict and the plan says what differs; an object with another owner's
mark, or inside a container the cluster does not own, is never adopted. No
object is created, changed or deleted: that is sync's.

Nothing is written without review:
  adopt --out FILE    saves the adoption plan; "apply FILE" adopts exactly
                      it, or nothing when the configuration, the cluster
                      input or any object it read changed since;
  adopt --yes         prints the plan, then adopts, as sync applies.
Either way each fabric is written under its writer lock, after observing it
again: an object changed since the plan is not adopted.

What each driver can adopt (docs/operations.md, "Adopting hand-made
objects"): ACI BGP peers and external subnets in the cluster's own or
configured external EPGs; FRR and NX-OS neighbors whose only difference is
the description that carries the mark. Objects whose mark is their name
(CLI prefix-lists, route-maps) cannot be adopted: the plan says so.

Exit codes: 0 success (and, with --yes, every fabric adopted); 1 an error, a
fabric that could not be observed or did not adopt, skipped input (unless
--allow-skips) or held changes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch output {
			case "text", "json", "markdown", "md":
			default:
				return &exitError{code: 1, err: fmt.Errorf("-o %q: use text, json or markdown", output)}
			}
			if yes && outFile != "" {
				return &exitError{code: 1, err: fmt.Errorf("--yes and --out exclude each other: --out saves the plan for review and \"apply\"")}
			}
			if yes && output != "text" && output != "json" {
				return &exitError{code: 1, err: fmt.Errorf("--yes prints text or json")}
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
			release := func() {}
			if yes {
				if release, err = lock.clusterLease(ctx, ins.live, timeout, cmd.ErrOrStderr()); err != nil {
					return &exitError{code: 1, err: err}
				}
			}
			defer release()

			observed, failed := observeAllForAdoption(ctx, ds, selectFabrics(ins.cfg, only))
			p := makeAdoptionPlan(ins, only, observed, failed, opts)
			w := cmd.OutOrStdout()
			if yes {
				return applyAndReport(ctx, w, output, ds, p, lock.options(timeout), in.allowSkips)
			}
			if outFile != "" {
				if err := writeSavedPlan(outFile, ins, only, false, guards, p, true); err != nil {
					return &exitError{code: 1, err: err}
				}
			}
			if err := writePlan(w, p.plan, output); err != nil {
				return &exitError{code: 1, err: err}
			}
			if output == "text" {
				writeAdoptNext(w, p.plan, outFile)
			}
			for _, f := range p.plan.Fabrics {
				if f.Error != "" {
					return &exitError{code: 1, err: fmt.Errorf("fabric %s could not be planned: %s", f.Name, f.Error)}
				}
			}
			if err := heldExit(p.plan); err != nil {
				return &exitError{code: 1, err: err}
			}
			return planExit(p.plan, in.allowSkips, false)
		},
	}
	in.register(cmd)
	guards.register(cmd)
	lock.register(cmd)
	cmd.Flags().StringArrayVar(&only, "fabric", nil, "adopt on this fabric only (repeatable)")
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "deadline for the whole run")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json or markdown")
	cmd.Flags().StringVar(&outFile, "out", "", "save the adoption plan to this file, for \"apply\"")
	cmd.Flags().BoolVar(&yes, "yes", false, "adopt right after printing the plan, without a saved plan")
	cmd.Flags().StringVar(&logLevel, "log-level", "warn", "log level on stderr: debug, info, warn, error")
	return cmd
}

// writeAdoptNext says what was done (nothing) and how to go on.
func writeAdoptNext(w io.Writer, p fabric.Plan, outFile string) {
	n := p.Summary().Adopt
	switch {
	case n == 0:
		fmt.Fprintln(w, "Nothing to adopt.")
	case outFile != "":
		fmt.Fprintf(w, "Nothing was changed. The adoption plan is saved in %s: review it, then run \"apply %s\".\n", fabric.Safe(outFile), fabric.Safe(outFile))
	default:
		fmt.Fprintln(w, "Nothing was changed. To adopt: \"adopt --out FILE\", review, then \"apply FILE\"; or \"adopt --yes\".")
	}
}
