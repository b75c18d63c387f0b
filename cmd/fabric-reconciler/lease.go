package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/fabric-reconciler/fabric-reconciler/internal/controller"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
)

// lockFlags say how sync and apply take the writer locks: the lock on each
// fabric, always, and the controller's Lease when they reach the cluster.
type lockFlags struct {
	wait           time.Duration
	leaseNamespace string
	leaseName      string
}

func (l *lockFlags) register(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&l.wait, "lock-wait", 30*time.Second,
		"how long to wait for another writer (a sync, apply or the controller) to finish with a fabric before giving up")
	cmd.Flags().StringVar(&l.leaseNamespace, "lease-namespace", "fabric-reconciler",
		"reading a live cluster: namespace of the controller's Lease, taken for the whole run (the controller's namespace; \"\" for none)")
	cmd.Flags().StringVar(&l.leaseName, "lease-name", controller.DefaultLeaseName, "reading a live cluster: name of the controller's Lease")
}

// options are the per-fabric lock options of a run with this deadline.
func (l *lockFlags) options(timeout time.Duration) reconciler.LockOptions {
	return reconciler.LockOptions{Wait: l.wait, TTL: timeout + time.Minute, Poll: 500 * time.Millisecond}
}

// clusterLease takes the controller's Lease for the run when the run reaches
// a live cluster (rc, not --cluster-state files): while a controller replica leads, a sync or
// apply waits for it (up to --lock-wait) and then refuses, naming the
// holder. It returns the release function.
func (l *lockFlags) clusterLease(ctx context.Context, rc *rest.Config, runFor time.Duration, warn io.Writer) (func(), error) {
	if rc == nil || l.leaseNamespace == "" {
		return func() {}, nil
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	identity := fmt.Sprintf("cli:%s:%d:%s", host, os.Getpid(), reconciler.NewRunID())
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: l.leaseNamespace, Name: l.leaseName},
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
	release, err := acquireLease(ctx, lock, identity, runFor+time.Minute, l.wait)
	if err != nil && apierrors.IsNotFound(err) {
		// No namespace, so no controller there: the fabrics' own locks
		// still keep writers apart.
		fmt.Fprintf(warn, "Note: namespace %s does not exist, so no controller runs there; only the fabrics' writer locks are taken (%v)\n",
			l.leaseNamespace, err)
		return func() {}, nil
	}
	return release, err
}

// acquireLease takes a Lease for duration, waiting up to wait for its holder
// to let go. Unlike leader election, it does not renew: a CLI run is
// bounded by its own deadline, and the lease outlasts it.
func acquireLease(ctx context.Context, lock resourcelock.Interface, identity string, duration, wait time.Duration) (func(), error) {
	deadline := time.Now().Add(wait)
	for {
		now := metav1.NewTime(time.Now())
		rec := resourcelock.LeaderElectionRecord{HolderIdentity: identity, LeaseDurationSeconds: int(duration.Seconds()),
			AcquireTime: now, RenewTime: now}
		old, _, err := lock.Get(ctx)
		switch {
		case err != nil && !isNotFound(err):
			return nil, fmt.Errorf("lease %s: %w", lock.Describe(), err)
		case err != nil:
			if err = lock.Create(ctx, rec); apierrors.IsNotFound(err) {
				return nil, err // the namespace does not exist
			}
		case old.HolderIdentity == "" || old.RenewTime.Add(time.Duration(old.LeaseDurationSeconds)*time.Second).Before(time.Now()):
			rec.LeaderTransitions = old.LeaderTransitions + 1
			err = lock.Update(ctx, rec) // optimistic: fails if someone else updated it first
		default:
			held := fmt.Errorf("lease %s is held by %s until %s", lock.Describe(), old.HolderIdentity,
				old.RenewTime.Add(time.Duration(old.LeaseDurationSeconds)*time.Second).Format(time.RFC3339))
			left := time.Until(deadline)
			if left <= 0 {
				return nil, held
			}
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("%w (%v)", held, ctx.Err())
			case <-time.After(min(time.Second, left)):
			}
			continue
		}
		if err == nil {
			return func() {
				rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				cur, _, err := lock.Get(rctx)
				if err != nil || cur.HolderIdentity != identity {
					return
				}
				// Released as client-go's leader election releases: no
				// holder, a one-second lease.
				_ = lock.Update(rctx, resourcelock.LeaderElectionRecord{LeaderTransitions: cur.LeaderTransitions,
					LeaseDurationSeconds: 1, RenewTime: metav1.NewTime(time.Now()), AcquireTime: metav1.NewTime(time.Now())})
			}, nil
		}
		if time.Until(deadline) <= 0 {
			return nil, fmt.Errorf("lease %s: %w", lock.Describe(), err)
		}
		time.Sleep(min(time.Second, max(time.Until(deadline), 10*time.Millisecond))) // lost a race: look again
	}
}

func isNotFound(err error) bool { return apierrors.IsNotFound(err) }
