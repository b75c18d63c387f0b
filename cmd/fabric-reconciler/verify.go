package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/fabric-reconciler/fabric-reconciler/internal/verify"
)

func newVerifyCommand() *cobra.Command {
	var (
		in      inputFlags
		only    []string
		output  string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Read the switches' BGP sessions and routes back and compare them with what the cluster implies",
		Long: `verify reads the operational state of every switch (read only): each BGP
session with a node (state, uptime, prefixes received, hold time) and the
routes installed for each pod block, service range and LoadBalancer address
with their next hops. It compares them with what the cluster implies: every
(node, switch) session Established; every pod block routed to its node; every
range and LoadBalancer address routed to the nodes that advertise it (all of
them for a Cluster service, those with a ready endpoint for a Local one), over
as many next hops as maximum-paths allows. Each mismatch comes with its cause.

FRR through its JSON show commands, NX-OS through "show ... | json", ACI
through the APIC's operational classes.

Exit codes: 0 everything as expected; 1 a mismatch, a fabric or switch that
could not be read, or an error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return &exitError{code: 1, err: fmt.Errorf("-o %q: use text or json", output)}
			}
			if in.configPath == "" {
				return &exitError{code: 1, err: fmt.Errorf("--config is required")}
			}
			log, _ := newLogger(cmd.ErrOrStderr(), "warn", false)
			ins, ds, err := loadAndOpen(&in, only, log)
			if err != nil {
				return err
			}
			defer closeDrivers(ds)
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			r := verify.Run(ctx, ins.cluster, ins.cfg, ds, only)
			if output == "json" {
				err = verify.WriteJSON(cmd.OutOrStdout(), r)
			} else {
				err = verify.WriteText(cmd.OutOrStdout(), r)
			}
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			if !r.OK() {
				return &exitError{code: 1, err: fmt.Errorf("verify found %d problem(s)", r.Problems)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&in.configPath, "config", "", "configuration file (required)")
	cmd.Flags().StringArrayVar(&in.clusterState, "cluster-state", nil, "exported cluster YAML: a file or a folder (repeatable)")
	in.cluster.register(cmd, "without --cluster-state: the live cluster to read once, through this kubeconfig (default: as kubectl: $KUBECONFIG, ~/.kube/config, else the pod's service account)")
	cmd.Flags().StringArrayVar(&only, "fabric", nil, "verify only this fabric (repeatable)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "deadline for reading the switches")
	return cmd
}
