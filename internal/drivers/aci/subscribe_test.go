package aci

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
)

// watched runs WatchChanges and collects the reasons it gives.
type watched struct {
	mu      sync.Mutex
	reasons []string
	poke    chan struct{}
	done    chan error
}

func watch(t *testing.T, d *Driver) *watched {
	t.Helper()
	w := &watched{poke: make(chan struct{}, 1), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		w.done <- d.WatchChanges(ctx, func(reason string) {
			w.mu.Lock()
			w.reasons = append(w.reasons, reason)
			w.mu.Unlock()
			select {
			case w.poke <- struct{}{}:
			default:
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-w.done; err != nil {
			t.Errorf("WatchChanges: %v", err)
		}
	})
	return w
}

// next waits up to d for reasons after the first n and returns them all.
func (w *watched) wait(t *testing.T, d time.Duration, cond func([]string) bool) []string {
	t.Helper()
	deadline := time.After(d)
	for {
		w.mu.Lock()
		got := slices.Clone(w.reasons)
		w.mu.Unlock()
		if cond(got) {
			return got
		}
		select {
		case <-w.poke:
		case <-deadline:
			return got
		}
	}
}

func (w *watched) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.reasons)
}

func hasPrefix(rs []string, p string) bool {
	return slices.ContainsFunc(rs, func(r string) bool { return strings.HasPrefix(r, p) })
}

// TestWatchChanges: once subscribed, a change of an owned object or a new
// object in the way is notified within a second, whoever made it; changes
// of someone else's objects and of the writer lock are not.
func TestWatchChanges(t *testing.T) {
	srv, d := lab(t, emulator.Options{}, tlsCA)
	tn := "uni/tn-TEN_K8_C1"
	reconcile(t, d, fabric.StateOf(sub("EPG_K8_NODES", "192.168.9.192/28"), sub("EPG_WEB", "172.29.0.6/32")))
	w := watch(t, d)
	if got := w.wait(t, 5*time.Second, func(rs []string) bool { return slices.Contains(rs, "subscribed") }); !slices.Contains(got, "subscribed") {
		t.Fatalf("not subscribed: %v", got)
	}
	if n := len(srv.Subscriptions()); n != 1 {
		t.Fatalf("%d subscriptions on the APIC, want 1", n)
	}
	for _, c := range []struct {
		name   string
		change func() bool
		want   string // the reason's start; "" for no notification
	}{
		{"an owned subnet deleted by hand", func() bool { return srv.Delete(tn + "/out-L3O_K8_C1/instP-EPG_K8_NODES/extsubnet-[192.168.9.192/28]") },
			"deleted l3extSubnet " + tn + "/out-L3O_K8_C1/instP-EPG_K8_NODES/extsubnet-[192.168.9.192/28]"},
		{"an owned EPG edited by hand", func() bool { return srv.SetAttr(tn+"/out-L3O_K8_C1/instP-EPG_WEB", "descr", "edited") },
			"modified l3extInstP " + tn + "/out-L3O_K8_C1/instP-EPG_WEB"},
		{"an unmarked EPG created where the driver writes", func() bool {
			return srv.Post(tn+"/out-L3O_K8_C1/instP-EPG_HAND", []byte(`{"l3extInstP":{"attributes":{"name":"EPG_HAND"}}}`)) == nil
		}, "created l3extInstP " + tn + "/out-L3O_K8_C1/instP-EPG_HAND"},
		{"someone else's EPG edited", func() bool { return srv.SetAttr(tn+"/out-L3O_EXTERNAL/instP-EPG_DEFAULT", "descr", "theirs") }, ""},
		{"the writer lock taken", func() bool {
			return srv.Post(d.names.lockDN(), []byte(`{"vzBrCP":{"attributes":{"name":"`+d.names.lock+`","annotation":"`+d.names.mark+`"}}}`)) == nil
		}, ""},
		{"someone else's EPG marked as ours", func() bool {
			return srv.SetAttr(tn+"/out-L3O_EXTERNAL/instP-EPG_DEFAULT", "annotation", d.names.mark)
		}, "modified l3extInstP " + tn + "/out-L3O_EXTERNAL/instP-EPG_DEFAULT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := w.count()
			start := time.Now()
			if !c.change() {
				t.Fatal("the change did not apply")
			}
			if c.want == "" {
				got := w.wait(t, 400*time.Millisecond, func(rs []string) bool { return len(rs) > before })
				if len(got) > before {
					t.Errorf("notified %v", got[before:])
				}
				return
			}
			got := w.wait(t, 2*time.Second, func(rs []string) bool { return hasPrefix(rs[before:], c.want) })
			if !hasPrefix(got[before:], c.want) {
				t.Fatalf("reasons %v, want one starting %q", got[before:], c.want)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("notified after %s", took)
			}
		})
	}
}

// TestWatchFallback: after any gap the driver asks for a full resync,
// subscribes again on a new session and goes on notifying; no log line
// holds a session token.
func TestWatchFallback(t *testing.T) {
	saved := defaultWatch
	defaultWatch = watchTiming{timeout: 60 * time.Second, refresh: 200 * time.Millisecond, backoffMin: 20 * time.Millisecond, backoffMax: 100 * time.Millisecond}
	t.Cleanup(func() { defaultWatch = saved })
	srv, d := lab(t, emulator.Options{}, tlsCA)
	var logs lockedBuffer
	d.log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tn := "uni/tn-TEN_K8_C1"
	owned := tn + "/out-L3O_K8_C1/instP-EPG_WEB"
	reconcile(t, d, fabric.StateOf(sub("EPG_WEB", "172.29.0.6/32")))
	w := watch(t, d)
	subscribed := func(rs []string) int {
		n := 0
		for _, r := range rs {
			if r == "subscribed" {
				n++
			}
		}
		return n
	}
	w.wait(t, 5*time.Second, func(rs []string) bool { return subscribed(rs) == 1 })
	for i, c := range []struct {
		name string
		gap  func()
		want string // the gap's reason holds this
	}{
		{"the socket dropped", srv.DropSockets, "websocket closed"},
		{"the subscription expired unrefreshed", srv.ExpireSubscriptions, "refresh subscription"},
		{"the session ended", srv.ExpireTokens, "subscription gap"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := w.count()
			old := srv.Subscriptions()
			c.gap()
			got := w.wait(t, 5*time.Second, func(rs []string) bool { return subscribed(rs) == i+2 })
			if subscribed(got) != i+2 {
				t.Fatalf("not subscribed again: %v", got[before:])
			}
			gap := slices.IndexFunc(got[before:], func(r string) bool { return strings.HasPrefix(r, "subscription gap") })
			if gap < 0 || !strings.Contains(got[before+gap], c.want) {
				t.Fatalf("reasons %v, want a gap with %q", got[before:], c.want)
			}
			var fresh []string
			for _, id := range srv.Subscriptions() {
				if !slices.Contains(old, id) {
					fresh = append(fresh, id)
				}
			}
			if len(fresh) != 1 {
				t.Fatalf("new subscriptions %v (before %v), want one", fresh, old)
			}
			// And changes reach the driver again.
			before = w.count()
			srv.SetAttr(owned, "descr", c.name)
			got = w.wait(t, 2*time.Second, func(rs []string) bool { return hasPrefix(rs[before:], "modified l3extInstP "+owned) })
			if !hasPrefix(got[before:], "modified l3extInstP "+owned) {
				t.Fatalf("after resubscribing: %v", got[before:])
			}
		})
	}
	text := logs.String()
	for _, tok := range srv.Tokens() {
		if strings.Contains(text, tok) {
			t.Fatal("a session token was logged")
		}
	}
	if strings.Contains(text, apicPW) {
		t.Fatal("the password was logged")
	}
	if !strings.Contains(text, "APIC subscription lost") {
		t.Errorf("the gaps were not logged:\n%s", text)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestWatchNeedsPasswordLogin: certificate login has no session token for
// a socket, and says so at once.
func TestWatchNeedsPasswordLogin(t *testing.T) {
	_, d := lab(t, emulator.Options{}, tlsCA)
	set := *d.aci
	set.APIC.PasswordFile, set.APIC.PrivateKeyFile, set.APIC.CertificateName = "", "key.pem", "c"
	cfg := d.cfg
	cfg.Platform = &set
	nd, err := New(cfg, drivers.Options{Cluster: "unit"})
	if err != nil {
		t.Fatal(err)
	}
	err = nd.(drivers.ChangeNotifier).WatchChanges(context.Background(), func(string) { t.Error("notified") })
	if !errors.Is(err, drivers.ErrNotifyUnsupported) {
		t.Fatalf("err = %v, want ErrNotifyUnsupported", err)
	}
}

func TestParseNotification(t *testing.T) {
	for _, c := range []struct {
		name, msg string
		ids       []string
		dns       []string
		err       bool
	}{
		{"a list of ids", `{"subscriptionId":["1","2"],"imdata":[{"l3extSubnet":{"attributes":{"dn":"uni/tn-T/x","status":"deleted"}}}]}`,
			[]string{"1", "2"}, []string{"uni/tn-T/x"}, false},
		{"one id as a string", `{"subscriptionId":"72057594037927937","imdata":[{"fvTenant":{"attributes":{"dn":"uni/tn-T","status":"modified","descr":"x"}}},{"fvCtx":{"attributes":{"dn":"uni/tn-T/ctx-V","status":"created"}}}]}`,
			[]string{"72057594037927937"}, []string{"uni/tn-T", "uni/tn-T/ctx-V"}, false},
		{"no id", `{"imdata":[]}`, nil, nil, true},
		{"not JSON", `{"subscriptionId":`, nil, nil, true},
		{"an object without dn", `{"subscriptionId":"1","imdata":[{"fvTenant":{"attributes":{"status":"deleted"}}}]}`, nil, nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, err := parseNotification([]byte(c.msg))
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want error %v", err, c.err)
			}
			if c.err {
				return
			}
			var dns []string
			for _, o := range n.objs {
				dns = append(dns, o.dn)
			}
			if !slices.Equal(n.ids, c.ids) || !slices.Equal(dns, c.dns) {
				t.Errorf("ids %v dns %v, want %v %v", n.ids, dns, c.ids, c.dns)
			}
		})
	}
}

func TestRelevant(t *testing.T) {
	_, d := lab(t, emulator.Options{}, tlsCA)
	tn := "uni/tn-TEN_K8_C1"
	mine := object{class: "l3extSubnet", dn: tn + "/out-L3O_K8_C1/instP-EPG_WEB/extsubnet-[172.29.0.6/32]", attrs: map[string]string{"annotation": d.names.mark}}
	theirs := object{class: "l3extInstP", dn: tn + "/out-L3O_EXTERNAL/instP-EPG_DEFAULT", attrs: map[string]string{"annotation": ""}}
	ev := func(o object, status string, attrs ...string) object {
		e := object{class: o.class, dn: o.dn, attrs: map[string]string{"dn": o.dn, "status": status}}
		for i := 0; i+1 < len(attrs); i += 2 {
			e.attrs[attrs[i]] = attrs[i+1]
		}
		return e
	}
	snap := &snapshot{objs: map[string]object{mine.dn: mine, theirs.dn: theirs}}
	newEPG := object{class: "l3extInstP", dn: tn + "/out-L3O_K8_C1/instP-EPG_NEW"}
	lock := object{class: "vzBrCP", dn: d.names.lockDN()}
	for _, c := range []struct {
		name string
		snap *snapshot
		ev   object
		want bool
	}{
		{"before any observation, everything", nil, ev(theirs, "modified", "descr", "x"), true},
		{"an owned object deleted", snap, ev(mine, "deleted"), true},
		{"an owned object modified", snap, ev(mine, "modified", "descr", "x"), true},
		{"a new object", snap, ev(newEPG, "created", "annotation", ""), true},
		{"an unknown object modified", snap, ev(newEPG, "modified", "descr", "x"), true},
		{"someone else's object modified", snap, ev(theirs, "modified", "descr", "x"), false},
		{"someone else's object deleted (no longer in the way)", snap, ev(theirs, "deleted"), true},
		{"someone else's object changes hands", snap, ev(theirs, "modified", "annotation", d.names.mark), true},
		{"the writer lock", snap, ev(lock, "created", "annotation", d.names.mark), false},
		{"the writer lock's takeover subject", snap, ev(object{class: "vzSubj", dn: lock.dn + "/subj-takeover-x"}, "created"), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			d.mu.Lock()
			d.snap = c.snap
			d.mu.Unlock()
			if _, got := d.relevant(c.ev); got != c.want {
				t.Errorf("relevant = %v, want %v", got, c.want)
			}
		})
	}
}
