package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/fabric-reconciler/fabric-reconciler/internal/config"
	"github.com/fabric-reconciler/fabric-reconciler/internal/controller"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
)

// openDriver builds the drivers `run` uses; tests replace it.
var openDriver drivers.Factory = drivers.Open

func newRunCommand() *cobra.Command {
	var (
		configPath               string
		cluster                  clusterFlags
		listen                   string
		opts                     controller.Options
		logLevel, logFormat      string
		leaseNS                  string
		debounce, resync         time.Duration
		backoffInitial, backoffX time.Duration
		timeout                  time.Duration
		verifyInterval           time.Duration
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run as a controller: follow the cluster and keep every fabric in step",
		Long: `run watches the cluster (informers) and reconciles every configured fabric
whenever something that matters changes, after a short debounce, and again
every --resync to catch changes made on the switches by hand. A fabric
that notifies its changes (ACI, through APIC websocket subscriptions) is
also reconciled within a --debounce of each notification, so hand changes
there are put right in seconds. Nothing is applied before every informer
has synced. Fabrics are reconciled
independently; a failing one is retried with exponential backoff.

With --leader-elect (the default) the replicas share a coordination.k8s.io
Lease and only its holder talks to the switches. A replica that loses the
lease exits with code 1 so that Kubernetes restarts it as a standby.

Every --verify-interval the leader reads each fabric's BGP sessions and routes
back (as "verify" does): per-session metrics, a status ConfigMap per fabric
(fabric-reconciler-status-<fabric>, one line per node) in --status-namespace,
and an Event on a Node whose session goes down or comes back.

Endpoints: /metrics (Prometheus) on --metrics-bind-address, /healthz and
/readyz (ready once the caches have synced) on --health-probe-bind-address.
Logs are JSON on stderr.

The cluster is found as kubectl finds it: --kubeconfig, else $KUBECONFIG,
else ~/.kube/config, else the pod's service account.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if logFormat != "json" && logFormat != "text" {
				return &exitError{code: 1, err: fmt.Errorf("--log-format %q: use json or text", logFormat)}
			}
			log, err := newLogger(cmd.ErrOrStderr(), logLevel, logFormat == "json")
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			klog.SetSlogLogger(log.With("source", "client-go"))
			// cobra keeps pflag's deprecation notices to itself.
			cmd.Flags().Visit(func(f *pflag.Flag) {
				if f.Deprecated != "" {
					log.Warn("flag --"+f.Name+" is deprecated, "+f.Deprecated, "flag", f.Name)
				}
			})
			cfg, err := config.Load(configPath)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			rc, err := cluster.restConfig()
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			rc.UserAgent = "fabric-reconciler"
			opts.Config, opts.RestConfig, opts.Logger, opts.OpenDriver = cfg, rc, log, openDriver
			opts.LeaseNamespace = leaseNS
			opts.VerifyInterval = verifyInterval
			if verifyInterval == 0 {
				opts.VerifyInterval = -1 // off
			}
			if cmd.Flags().Changed("listen") {
				// The deprecated single port serves everything.
				opts.ListenAddress, opts.MetricsAddress, opts.HealthAddress = listen, "", ""
			}
			opts.MetricsAddress, opts.HealthAddress = bindAddress(opts.MetricsAddress), bindAddress(opts.HealthAddress)
			opts.Loop.Debounce, opts.Loop.Resync, opts.Loop.Timeout = debounce, resync, timeout
			opts.Loop.BackoffInitial, opts.Loop.BackoffMax = backoffInitial, backoffX

			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log.Info("starting", "cluster", cfg.Cluster, "fabrics", len(cfg.Fabrics), "leaderElection", opts.LeaderElection,
				"dryRun", opts.Loop.DryRun)
			err = controller.Run(ctx, opts)
			switch {
			case errors.Is(err, controller.ErrResourcesChanged):
				return &exitError{code: 1, err: fmt.Errorf("%w: exiting so that a restart watches them", err)}
			case errors.Is(err, controller.ErrLostLeadership):
				return &exitError{code: 1, err: fmt.Errorf("%w: exiting so that this replica restarts as a standby", err)}
			case err != nil:
				return &exitError{code: 1, err: err}
			}
			log.Info("stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&configPath, "config", "", "configuration file (required)")
	_ = cmd.MarkFlagRequired("config")
	cluster.register(cmd, "kubeconfig file (default: as kubectl: $KUBECONFIG, ~/.kube/config, else the pod's service account)")
	f.DurationVar(&debounce, "debounce", reconciler.DefaultDebounce, "how long to gather cluster events before recomputing")
	f.DurationVar(&resync, "resync", reconciler.DefaultResync, "how often to observe every fabric even without cluster changes (catches drift)")
	f.DurationVar(&backoffInitial, "backoff-initial", reconciler.DefaultBackoffInitial, "first wait before retrying a failed fabric (doubles per failure)")
	f.DurationVar(&backoffX, "backoff-max", reconciler.DefaultBackoffMax, "longest wait before retrying a failed fabric")
	f.DurationVar(&timeout, "reconcile-timeout", reconciler.DefaultTimeout, "deadline for observing, planning and applying one fabric")
	f.BoolVar(&opts.Loop.AllowEmpty, "allow-empty", false, "allow deleting everything the cluster owns on a fabric when it wants nothing there")
	f.BoolVar(&opts.Loop.DryRun, "dry-run", false, "observe and plan, log the plans, apply nothing")
	f.StringVar(&opts.LegacyMetalLB, "legacy-metallb-configmap", k8swatch.LegacyMetalLBAuto,
		"read MetalLB's pre-0.13 ConfigMap metallb-system/config: auto (when no IPAddressPool CRD is served and RBAC allows), on, off")
	leaderElectionFlags(f, &opts, &leaseNS)
	f.StringVar(&opts.MetricsAddress, "metrics-bind-address", DefaultMetricsAddress, `address of /metrics ("0" or "": none)`)
	f.StringVar(&opts.HealthAddress, "health-probe-bind-address", DefaultHealthAddress, `address of /healthz and /readyz ("0" or "": none)`)
	f.StringVar(&listen, "listen", "", "one address for /metrics, /healthz and /readyz")
	_ = f.MarkDeprecated("listen", "use --metrics-bind-address and --health-probe-bind-address")
	f.DurationVar(&verifyInterval, "verify-interval", controller.DefaultVerifyInterval, "how often the leader reads the fabrics' sessions and routes back (0: never)")
	f.StringVar(&opts.StatusNamespace, "status-namespace", "", "namespace of the status ConfigMaps (default: the Lease's)")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.StringVar(&logFormat, "log-format", "json", "log format: json or text")
	return cmd
}

// Defaults of the endpoints' addresses: controller-runtime's ports.
const (
	DefaultMetricsAddress = ":8080"
	DefaultHealthAddress  = ":8081"
)

// bindAddress maps controller-runtime's "0" (serve nothing) to "".
func bindAddress(a string) string {
	if a == "0" {
		return ""
	}
	return a
}

// leaderElectionFlags are the leader election's flags, named as
// Kubernetes' own components name them (kube-controller-manager's
// --leader-elect-*), and the names of earlier versions as deprecated
// aliases of the same settings.
func leaderElectionFlags(f *pflag.FlagSet, opts *controller.Options, namespace *string) {
	f.BoolVar(&opts.LeaderElection, "leader-elect", true, "share a Lease with the other replicas; only its holder writes")
	f.DurationVar(&opts.LeaseDuration, "leader-elect-lease-duration", controller.DefaultLeaseDuration,
		"how long a standby waits before taking over a lease that is not renewed")
	f.DurationVar(&opts.RenewDeadline, "leader-elect-renew-deadline", controller.DefaultRenewDeadline,
		"how long the leader retries renewing before it stops writing")
	f.DurationVar(&opts.RetryPeriod, "leader-elect-retry-period", controller.DefaultRetryPeriod,
		"how often to try to acquire or renew the lease")
	f.StringVar(&opts.LeaseName, "leader-elect-resource-name", controller.DefaultLeaseName, "name of the Lease")
	f.StringVar(namespace, "leader-elect-resource-namespace", "", "namespace of the Lease (default: the pod's namespace)")
	for _, alias := range []struct{ old, now string }{
		{"lease-duration", "leader-elect-lease-duration"},
		{"renew-deadline", "leader-elect-renew-deadline"},
		{"retry-period", "leader-elect-retry-period"},
		{"leader-election-id", "leader-elect-resource-name"},
		{"leader-election-namespace", "leader-elect-resource-namespace"},
	} {
		now := f.Lookup(alias.now)
		// The same value under the old name: setting either sets it.
		f.Var(now.Value, alias.old, now.Usage)
		_ = f.MarkDeprecated(alias.old, "use --"+alias.now)
	}
}
