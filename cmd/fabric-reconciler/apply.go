package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// SavedPlanVersion is the version of the saved-plan file ("plan --out").
const SavedPlanVersion = 1

// savedPlan is what "plan --out" writes and "apply" reads: the plan, and
// fingerprints of everything it was made from, so that apply can tell
// whether the plan still holds.
type savedPlan struct {
	FormatVersion int       `json:"formatVersion"`
	Kind          string    `json:"kind"`
	Created       time.Time `json:"created"`
	// ConfigDigest and ClusterDigest are SHA-256 digests of the
	// configuration file and of the cluster state read.
	ConfigDigest  string `json:"configDigest"`
	ClusterDigest string `json:"clusterDigest"`
	// Guards are the overrides the plan was made with; apply plans again
	// with the same.
	Guards savedGuards `json:"guards"`
	// Fabrics are the fabrics planned, each with what it held.
	Fabrics []savedFabric `json:"fabrics"`
	Plan    fabric.Plan   `json:"plan"`
	// Adopt marks a plan of the adopt command: its fabrics were observed
	// for adoption, and apply plans and observes them so again.
	Adopt bool `json:"adopt,omitempty"`
}

type savedGuards struct {
	AllowEmpty     bool     `json:"allowEmpty,omitempty"`
	AllowMissing   []string `json:"allowMissing,omitempty"`
	Policy         string   `json:"policy,omitempty"`
	DeletionBudget int      `json:"deletionBudget,omitempty"`
}

type savedFabric struct {
	Name string `json:"name"`
	// Observed is what the fabric held (owned and foreign objects) and
	// its fingerprint.
	Observed    fabric.SnapshotFabric `json:"observed"`
	Fingerprint string                `json:"fingerprint"`
}

const savedPlanKind = "fabric-reconciler/saved-plan"

func clusterDigest(ins *inputs) string {
	b, _ := json.Marshal(ins.cluster)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func writeSavedPlan(path string, ins *inputs, only []string, offline bool, g guardFlags, p planned, adopt bool) error {
	sp := savedPlan{FormatVersion: SavedPlanVersion, Kind: savedPlanKind, Created: time.Now().UTC().Truncate(time.Second), Adopt: adopt,
		ConfigDigest: ins.cfg.Digest, ClusterDigest: clusterDigest(ins),
		Guards: savedGuards{AllowEmpty: g.allowEmpty, AllowMissing: g.allowMissing, Policy: g.policy, DeletionBudget: g.deletionBudget},
		Plan:   p.plan}
	for _, f := range p.plan.Fabrics {
		if f.Error != "" {
			return fmt.Errorf("--out: fabric %s could not be observed, so no plan is saved: %s", f.Name, f.Error)
		}
		obs := p.observed[f.Name]
		sp.Fabrics = append(sp.Fabrics, savedFabric{Name: f.Name, Observed: fabric.NewSnapshotFabric(f.Name, obs), Fingerprint: obs.Fingerprint()})
	}
	b, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}

func readSavedPlan(path string) (*savedPlan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var sp savedPlan
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sp); err != nil {
		return nil, fmt.Errorf("%s: not a saved plan: %w", path, err)
	}
	if sp.Kind != savedPlanKind || sp.FormatVersion != SavedPlanVersion {
		return nil, fmt.Errorf("%s: not a saved plan of version %d (kind %q, version %d)", path, SavedPlanVersion, sp.Kind, sp.FormatVersion)
	}
	if len(sp.Fabrics) != len(sp.Plan.Fabrics) {
		return nil, fmt.Errorf("%s: the plan and its fabrics do not match", path)
	}
	for i, f := range sp.Fabrics {
		if f.Name != sp.Plan.Fabrics[i].Name {
			return nil, fmt.Errorf("%s: the plan and its fabrics do not match", path)
		}
	}
	return &sp, nil
}

func newApplyCommand() *cobra.Command {
	var (
		in       inputFlags
		lock     lockFlags
		timeout  time.Duration
		output   string
		logLevel string
	)
	cmd := &cobra.Command{
		Use:   "apply PLANFILE",
		Short: "Apply a plan saved by \"plan --out\", exactly, if nothing changed since",
		Long: `apply reads a plan saved by "plan --out", reads the same configuration and
cluster input again, observes every fabric of the plan, and applies exactly
the saved plan: but only if the configuration, the cluster input and what
each fabric holds are what the plan was made from. Otherwise it applies
nothing and lists the differences; make a new plan.

Each fabric is written under its writer lock, after observing it once more,
as sync does.

Exit codes: 0 every fabric converged; 1 anything changed since the plan, a
fabric failed, or the plan holds refused fabrics, skipped input (unless
--allow-skips) or changes held because input is missing.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return &exitError{code: 1, err: fmt.Errorf("-o %q: use text or json", output)}
			}
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, false)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			sp, err := readSavedPlan(args[0])
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			ins, err := in.load()
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			var only []string
			for _, f := range sp.Fabrics {
				only = append(only, f.Name)
			}
			if err := checkFabricNames(ins.cfg, only); err != nil {
				return &exitError{code: 1, err: fmt.Errorf("the saved plan names a fabric the configuration lacks: %w", err)}
			}
			g := guardFlags{allowEmpty: sp.Guards.AllowEmpty, allowMissing: sp.Guards.AllowMissing, policy: sp.Guards.Policy,
				deletionBudget: sp.Guards.DeletionBudget}
			opts, err := g.options()
			if err != nil {
				return &exitError{code: 1, err: fmt.Errorf("%s: %w", args[0], err)}
			}
			ds, err := openDrivers(ins.cfg, only, log)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer closeDrivers(ds)

			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			release, err := lock.clusterLease(ctx, ins.live, timeout, cmd.ErrOrStderr())
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer release()

			var now planned
			if sp.Adopt {
				observed, failed := observeAllForAdoption(ctx, ds, selectFabrics(ins.cfg, only))
				now = makeAdoptionPlan(ins, only, observed, failed, opts)
			} else {
				observed, failed := observeAll(ctx, ds, selectFabrics(ins.cfg, only))
				now = makePlan(ins, only, observed, failed, opts)
			}
			observed, failed := now.observed, now.failed
			diffs := savedPlanDiffs(sp, ins, now)
			w := cmd.OutOrStdout()
			if len(diffs) > 0 {
				fmt.Fprintf(w, "The saved plan %s is not applied: what it was made from has changed.\n", args[0])
				for _, d := range diffs {
					fmt.Fprintf(w, "  - %s\n", fabric.Safe(d))
				}
				fmt.Fprintln(w, "Make a new plan (plan --out) and review it.")
				return &exitError{code: 1, err: fmt.Errorf("%d difference(s) since the plan was made; nothing was applied", len(diffs))}
			}
			// Apply the saved plan itself (equal to the one just made).
			p := planned{plan: sp.Plan, observed: observed, failed: failed}
			return applyAndReport(ctx, w, output, ds, p, lock.options(timeout), in.allowSkips)
		},
	}
	in.register(cmd)
	lock.register(cmd)
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "deadline for the whole apply")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().StringVar(&logLevel, "log-level", "warn", "log level on stderr: debug, info, warn, error")
	return cmd
}

// savedPlanDiffs lists what changed since a saved plan was made: the
// configuration, the cluster input, what each fabric holds, and the plan
// that results.
func savedPlanDiffs(sp *savedPlan, ins *inputs, now planned) []string {
	var out []string
	if sp.ConfigDigest != ins.cfg.Digest {
		out = append(out, "the configuration file changed")
	}
	if sp.ClusterDigest != clusterDigest(ins) {
		out = append(out, "the cluster input changed")
	}
	for _, sf := range sp.Fabrics {
		if err, bad := now.failed[sf.Name]; bad {
			out = append(out, fmt.Sprintf("fabric %s cannot be observed: %v", sf.Name, err))
			continue
		}
		was, err := sf.Observed.Observed()
		if err != nil {
			out = append(out, fmt.Sprintf("fabric %s: the saved observation is unreadable: %v", sf.Name, err))
			continue
		}
		obs := now.observed[sf.Name]
		if obs.Fingerprint() == sf.Fingerprint && was.Fingerprint() == sf.Fingerprint {
			continue
		}
		for _, d := range fabric.CompareObserved(was, obs) {
			out = append(out, fmt.Sprintf("fabric %s: %s", sf.Name, d))
		}
		if was.Fingerprint() != sf.Fingerprint {
			out = append(out, fmt.Sprintf("fabric %s: the saved observation does not match its fingerprint (edited?)", sf.Name))
		}
	}
	// The plan made now must be the saved plan, change for change.
	oldJSON, newJSON := planLines(sp.Plan), planLines(now.plan)
	for _, l := range oldJSON {
		if !slices.Contains(newJSON, l) {
			out = append(out, "no longer planned: "+l)
		}
	}
	for _, l := range newJSON {
		if !slices.Contains(oldJSON, l) {
			out = append(out, "now planned too: "+l)
		}
	}
	return out
}

// planLines are a plan's changes, held changes and refusals, one a line,
// for comparing two plans.
func planLines(p fabric.Plan) []string {
	var out []string
	for _, f := range p.Fabrics {
		for _, c := range f.Changes {
			b, _ := json.Marshal(c)
			out = append(out, fmt.Sprintf("fabric %s: %s %s %s", f.Name, c.Action, c.Key(), b))
		}
		for _, h := range f.Held {
			out = append(out, fmt.Sprintf("fabric %s: held %s %s", f.Name, h.Action, h.Key()))
		}
		if f.Refused != "" {
			out = append(out, fmt.Sprintf("fabric %s: refused: %s", f.Name, f.Refused))
		}
	}
	return out
}
