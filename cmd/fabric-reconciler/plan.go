package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
)

// inputFlags are the inputs plan and sync share.
type inputFlags struct {
	configPath   string
	clusterState []string
	cluster      clusterFlags
	fabricState  string
	allowSkips   bool
}

func (f *inputFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.configPath, "config", "", "configuration file (required)")
	cmd.Flags().StringArrayVar(&f.clusterState, "cluster-state", nil, "exported cluster YAML: a file or a folder (repeatable)")
	f.cluster.register(cmd, "without --cluster-state: the live cluster to read once, through this kubeconfig (default: as kubectl: $KUBECONFIG, ~/.kube/config, else the pod's service account)")
	cmd.Flags().BoolVar(&f.allowSkips, "allow-skips", false, "exit 0 even when input objects were skipped as bad")
	_ = cmd.MarkFlagRequired("config")
}

// inputs is what plan and sync work from.
type inputs struct {
	cfg     *config.Config
	cluster k8swatch.ClusterState
	// live is the cluster connection when the state was read from a live
	// cluster (nil for --cluster-state files): sync and apply take the
	// controller's Lease there.
	live *rest.Config
}

func (f *inputFlags) load() (*inputs, error) {
	cfg, err := config.Load(f.configPath)
	if err != nil {
		return nil, err
	}
	if f.cluster.kubeconfig != "" && len(f.clusterState) > 0 {
		return nil, fmt.Errorf("--kubeconfig and --cluster-state exclude each other")
	}
	if len(f.clusterState) == 0 {
		// No files: the live cluster, found as kubectl finds it.
		rc, err := f.cluster.restConfig()
		if errors.Is(err, errNoCluster) {
			return nil, fmt.Errorf("--cluster-state files or a cluster to read are required (%w)", err)
		}
		if err != nil {
			return nil, err
		}
		cs, err := k8swatch.LoadLive(context.Background(), rc, k8swatch.LiveOptions{SecretNamespace: cfg.CalicoNamespace})
		if err != nil {
			return nil, fmt.Errorf("cluster state: %w", err)
		}
		return &inputs{cfg: cfg, cluster: cs, live: rc}, nil
	}
	cs, err := k8swatch.LoadFiles(f.clusterState...)
	if err != nil {
		return nil, fmt.Errorf("cluster state: %w", err)
	}
	return &inputs{cfg: cfg, cluster: cs}, nil
}

// observedFromFile reads a saved observation; fabrics it does not mention
// are taken as empty.
func observedFromFile(path string) (map[string]fabric.Observed, error) {
	out := map[string]fabric.Observed{}
	if path == "" {
		return out, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	snap, err := fabric.ParseSnapshot(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, sf := range snap.Fabrics {
		obs, err := sf.Observed()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out[sf.Name] = obs
	}
	return out, nil
}

func writePlan(w io.Writer, p fabric.Plan, format string) error {
	switch format {
	case "text":
		return fabric.WriteText(w, p)
	case "json":
		return fabric.WriteJSON(w, p)
	case "markdown", "md":
		return fabric.WriteMarkdown(w, p)
	}
	return fmt.Errorf("unknown output format %q (text, json, markdown)", format)
}

func newPlanCommand() *cobra.Command {
	var (
		in               inputFlags
		guards           guardFlags
		only             []string
		offline          bool
		timeout          time.Duration
		output           string
		outFile          string
		detailedExitcode bool
	)
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what the fabric must change to match the cluster (dry run)",
		Long: `plan translates the cluster state into what each configured fabric must hold,
compares it with what the fabric holds, and prints the difference. Nothing is
changed on any switch.

The cluster state comes from --cluster-state files, else from the live
cluster, found as kubectl finds it (--kubeconfig, $KUBECONFIG,
~/.kube/config, the pod's service account).

A fabric that cannot be observed is reported NOT PLANNED; the others are
planned all the same, and plan exits 1.

What the fabric holds comes from --fabric-state (a saved observation, see
"observe"), from the switches themselves (the default: read-only), or is
taken as empty with --offline.

--out FILE saves the plan with a fingerprint of the configuration, of the
cluster input and of what each fabric held; "apply FILE" applies exactly
that plan, and refuses when any of them changed since.

Output formats: text (Terraform-style), json (the public plan format),
markdown (a change request), native (the APIC JSON / CLI lines each driver
would send).

Exit codes: 0 success; 1 error, a fabric that could not be planned or whose
plan a guard refuses, input objects skipped as bad (unless --allow-skips),
or changes held because input is missing. With --detailed-exitcode: 0 no
changes, 2 changes, 1 error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch output {
			case "text", "json", "markdown", "md", "native":
			default:
				return &exitError{code: 1, err: fmt.Errorf("-o %q: use text, json, markdown or native", output)}
			}
			if offline && in.fabricState != "" {
				return &exitError{code: 1, err: fmt.Errorf("--offline and --fabric-state exclude each other")}
			}
			if outFile != "" && in.fabricState != "" {
				return &exitError{code: 1, err: fmt.Errorf("--out and --fabric-state exclude each other: a saved plan is made against the fabric itself (or --offline)")}
			}
			opts, err := guards.options()
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

			var ds map[string]drivers.Driver
			if output == "native" || (!offline && in.fabricState == "") {
				log, _ := newLogger(cmd.ErrOrStderr(), "warn", false)
				if ds, err = openDrivers(ins.cfg, only, log); err != nil {
					return &exitError{code: 1, err: err}
				}
				defer closeDrivers(ds)
			}

			var (
				observed map[string]fabric.Observed
				failed   map[string]error
			)
			if offline || in.fabricState != "" {
				if observed, err = observedFromFile(in.fabricState); err != nil {
					return &exitError{code: 1, err: fmt.Errorf("fabric state: %w", err)}
				}
				for _, f := range selectFabrics(ins.cfg, only) {
					if _, ok := observed[f.Name]; !ok {
						observed[f.Name] = fabric.Observed{}
					}
				}
			} else {
				ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
				defer cancel()
				observed, failed = observeAll(ctx, ds, selectFabrics(ins.cfg, only))
			}
			p := makePlan(ins, only, observed, failed, opts)

			if outFile != "" {
				if err := writeSavedPlan(outFile, ins, only, offline, guards, p, false); err != nil {
					return &exitError{code: 1, err: err}
				}
			}
			if output == "native" {
				if err := writeNative(cmd.OutOrStdout(), p.plan, ds); err != nil {
					return &exitError{code: 1, err: err}
				}
			} else if err := writePlan(cmd.OutOrStdout(), p.plan, output); err != nil {
				return &exitError{code: 1, err: err}
			}
			for _, f := range p.plan.Fabrics {
				if f.Error != "" {
					return &exitError{code: 1, err: fmt.Errorf("fabric %s could not be planned: %s", f.Name, f.Error)}
				}
				if f.Refused != "" {
					return &exitError{code: 1, err: fmt.Errorf("fabric %s: the plan is refused: %s", f.Name, f.Refused)}
				}
			}
			if err := heldExit(p.plan); err != nil {
				return &exitError{code: 1, err: err}
			}
			return planExit(p.plan, in.allowSkips, detailedExitcode)
		},
	}
	in.register(cmd)
	guards.register(cmd)
	cmd.Flags().StringVar(&in.fabricState, "fabric-state", "", "a saved fabric observation (JSON from \"observe\") instead of asking the switches")
	cmd.Flags().StringArrayVar(&only, "fabric", nil, "plan only this fabric (repeatable)")
	cmd.Flags().BoolVar(&offline, "offline", false, "take every fabric as empty and contact no switch")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "deadline for observing the fabrics")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json, markdown or native")
	cmd.Flags().StringVar(&outFile, "out", "", "save the plan to this file, for \"apply\"")
	cmd.Flags().BoolVar(&detailedExitcode, "detailed-exitcode", false, "exit 0 when there are no changes, 2 when there are, 1 on error")
	return cmd
}

// writeNative prints, per fabric, the configuration its driver would send.
func writeNative(w io.Writer, p fabric.Plan, ds map[string]drivers.Driver) error {
	for _, f := range p.Fabrics {
		fmt.Fprintf(w, "# Fabric %s (driver %s): %d change(s)\n", f.Name, f.Driver, len(f.Changes))
		native, err := ds[f.Name].Render(f)
		if err != nil {
			return fmt.Errorf("fabric %s: render: %w", f.Name, err)
		}
		fmt.Fprintln(w, strings.TrimRight(native, "\n"))
		fmt.Fprintln(w)
	}
	if len(p.Skipped) > 0 {
		fmt.Fprintf(w, "# %d input object(s) skipped as bad; run plan -o text to see them\n", len(p.Skipped))
	}
	return nil
}

func newObserveCommand() *cobra.Command {
	var (
		configPath string
		only       []string
		timeout    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "observe",
		Short: "Save what each fabric holds for this cluster (JSON, for plan --fabric-state)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			if err := checkFabricNames(cfg, only); err != nil {
				return &exitError{code: 1, err: err}
			}
			log, _ := newLogger(cmd.ErrOrStderr(), "warn", false)
			ds, err := openDrivers(cfg, only, log)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			defer closeDrivers(ds)
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			snap := fabric.Snapshot{FormatVersion: 1, Fabrics: []fabric.SnapshotFabric{}}
			for _, f := range selectFabrics(cfg, only) {
				obs, err := ds[f.Name].Observe(ctx)
				if err != nil {
					return &exitError{code: 1, err: fmt.Errorf("fabric %s: observe: %w", f.Name, err)}
				}
				snap.Fabrics = append(snap.Fabrics, fabric.NewSnapshotFabric(f.Name, obs))
			}
			return writeJSONValue(cmd.OutOrStdout(), snap)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "configuration file (required)")
	_ = cmd.MarkFlagRequired("config")
	cmd.Flags().StringArrayVar(&only, "fabric", nil, "observe only this fabric (repeatable)")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "deadline for observing")
	return cmd
}

// planExit turns a plan into the exit code: skipped input is an error unless
// allowed; with detailed exit codes, changes give 2.
func planExit(p fabric.Plan, allowSkips, detailed bool) error {
	if len(p.Skipped) > 0 && !allowSkips {
		return &exitError{code: 1, err: fmt.Errorf("%d input object(s) were skipped as bad (listed above); fix them or pass --allow-skips", len(p.Skipped))}
	}
	if detailed && p.HasChanges() {
		return &exitError{code: 2}
	}
	return nil
}
