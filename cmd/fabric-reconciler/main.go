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
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
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
	}
	root.AddCommand(newPlanCommand(), newSyncCommand(), newApplyCommand(), newObserveCommand(), newRunCommand(), newAdoptCommand(), newDoctorCommand(), newVerifyCommand())
	return root
}
