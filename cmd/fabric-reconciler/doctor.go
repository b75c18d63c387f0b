package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/fabric-reconciler/fabric-reconciler/internal/doctor"
)

func newDoctorCommand() *cobra.Command {
	var (
		in        inputFlags
		output    string
		listRules bool
	)
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the cluster's routing set-up and the configuration (no switch is contacted)",
		Long: `doctor runs static checks on the cluster state and the configuration: the
set-ups that leave a LoadBalancer address unreachable, traffic black-holed or
failover slow whatever the fabric holds. Each finding has a stable id, a
severity (error, warning, info), the objects involved and what to do.

No switch is contacted; "verify" reads what the switches really hold.

--list-rules prints every rule.

Exit codes: 0 no error found (warnings and notes may be); 1 an error finding,
or doctor could not run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if listRules {
				return doctor.WriteRules(cmd.OutOrStdout())
			}
			if output != "text" && output != "json" {
				return &exitError{code: 1, err: fmt.Errorf("-o %q: use text or json", output)}
			}
			if in.configPath == "" {
				return &exitError{code: 1, err: fmt.Errorf("--config is required")}
			}
			ins, err := in.load()
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			r := doctor.Check(ins.cluster, ins.cfg)
			if output == "json" {
				err = doctor.WriteJSON(cmd.OutOrStdout(), r)
			} else {
				err = doctor.WriteText(cmd.OutOrStdout(), r)
			}
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			if r.HasErrors() {
				return &exitError{code: 1, err: fmt.Errorf("doctor found %d error(s)", r.Summary.Errors)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&in.configPath, "config", "", "configuration file (required)")
	cmd.Flags().StringArrayVar(&in.clusterState, "cluster-state", nil, "exported cluster YAML: a file or a folder (repeatable)")
	in.cluster.register(cmd, "without --cluster-state: the live cluster to read once, through this kubeconfig (default: as kubectl: $KUBECONFIG, ~/.kube/config, else the pod's service account)")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().BoolVar(&listRules, "list-rules", false, "list the rules and exit")
	return cmd
}
