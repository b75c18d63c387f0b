package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// clusterFlags say how to reach the cluster, as kubectl does: --kubeconfig,
// else $KUBECONFIG (a list of files, merged), else ~/.kube/config, else the
// pod's service account (in-cluster); --context picks a kubeconfig context.
type clusterFlags struct {
	kubeconfig string
	context    string
}

func (c *clusterFlags) register(cmd *cobra.Command, kubeconfigUsage string) {
	cmd.Flags().StringVar(&c.kubeconfig, "kubeconfig", "", kubeconfigUsage)
	cmd.Flags().StringVar(&c.context, "context", "", "the kubeconfig context to use (default: its current context)")
}

// errNoCluster: nothing says where a cluster is.
var errNoCluster = errors.New("no kubeconfig (--kubeconfig, $KUBECONFIG, ~/.kube/config) and not running in a pod: pass --kubeconfig")

// restConfig resolves the cluster connection with clientcmd's default
// loading rules, the ones kubectl uses.
func (c *clusterFlags) restConfig() (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = c.kubeconfig
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules,
		&clientcmd.ConfigOverrides{CurrentContext: c.context}).ClientConfig()
	switch {
	case err == nil:
		return cfg, nil
	case clientcmd.IsEmptyConfig(err):
		return nil, errNoCluster
	case c.kubeconfig != "":
		return nil, fmt.Errorf("--kubeconfig %s: %w", c.kubeconfig, err)
	}
	return nil, fmt.Errorf("kubeconfig: %w", err)
}
