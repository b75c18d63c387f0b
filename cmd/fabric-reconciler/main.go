// Command fabric-reconciler reads a Kubernetes cluster's routing state
// (Calico, MetalLB/PureLB, LoadBalancer services) and drives the switch
// fabric to match.
//
//	fabric-reconciler plan  --config fabric.yaml --cluster-state cluster/   # dry run
//	fabric-reconciler sync  --config fabric.yaml --cluster-state cluster/   # apply once
//	fabric-reconciler run   --config fabric.yaml                            # controller
//	fabric-reconciler doctor --config fabric.yaml --cluster-state cluster/  # static checks
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/fabric-reconciler/fabric-reconciler/internal/buildinfo"
)

// exitError carries a process exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func main() {
	os.Exit(execute(os.Args[1:], os.Stdout, os.Stderr))
}

// execute runs the command line and returns the exit code.
func execute(args []string, stdout, stderr io.Writer) int {
	root := newRootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	var ee *exitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ee.err != nil {
			fmt.Fprintln(stderr, "Error:", ee.err)
		}
		return ee.code
	default:
		fmt.Fprintln(stderr, "Error:", err)
		return 1
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "fabric-reconciler",
		Short:         "Keep a switch fabric in step with a Kubernetes cluster's BGP and LoadBalancer state",
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version prints what `version` prints.
		Version: buildinfo.Get().Version,
	}
	root.SetVersionTemplate(versionLine(buildinfo.Get()) + "\n")
	root.AddCommand(newPlanCommand(), newSyncCommand(), newApplyCommand(), newObserveCommand(), newRunCommand(),
		newAdoptCommand(), newDoctorCommand(), newVerifyCommand(), newVersionCommand())
	return root
}

// versionLine is the one line `version` and `--version` print.
func versionLine(i buildinfo.Info) string {
	return fmt.Sprintf("fabric-reconciler %s (commit %s, %s, %s)", i.Version, i.Commit, i.GoVersion, i.Platform)
}

func newVersionCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the build's version and commit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			i := buildinfo.Get()
			switch output {
			case "text":
				fmt.Fprintln(cmd.OutOrStdout(), versionLine(i))
			case "json":
				b, _ := json.Marshal(i)
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			default:
				return fmt.Errorf("-o %q: use text or json", output)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text or json")
	return cmd
}
