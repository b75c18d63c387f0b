package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
	"github.com/fabric-reconciler/fabric-reconciler/test/apicsim/emulator"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// handDelete deletes an object over the APIC's REST API as an operator
// would: another user, another session.
func handDelete(t *testing.T, sim *emulator.Server, user, password, dn string) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(sim.CertPEM)
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Post(sim.URL+"/api/aaaLogin.json", "application/json",
		strings.NewReader(fmt.Sprintf(`{"aaaUser":{"attributes":{"name":%q,"pwd":%q}}}`, user, password)))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if strings.EqualFold(c.Name, "APIC-cookie") {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatalf("login as %s: HTTP %d, no cookie", user, resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodDelete, sim.URL+"/api/mo/"+dn+".json", nil)
	req.AddCookie(cookie)
	resp, err = hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("DELETE %s: HTTP %d", dn, resp.StatusCode)
	}
}

// TestRunAPICSubscriptionCorrectsDrift (not "ACI" in its name: make test-aci runs
// without a kube-apiserver; make test-controller runs it): `run` against the APIC emulator puts
// back an owned subnet an operator deletes by hand within 2 s, through the
// APIC subscription: the resync is 10 minutes and the cluster does not
// change, so only the notification can trigger it (the reconcile's log
// line says trigger "fabric"). After the socket drops, the driver resyncs,
// subscribes again, and the next hand delete is put back the same way.
func TestRunAPICSubscriptionCorrectsDrift(t *testing.T) {
	kc := labKubeconfig(t)
	const operatorPW = "operator-pw-5150"
	l := newACILab(t, labOpts{})
	l.sim.AddUser("operator", operatorPW)
	if openDriver == nil {
		openDriver = drivers.Open
	}

	root := newRootCommand()
	stderr := &testenv.LogBuffer{}
	root.SetOut(io.Discard)
	root.SetErr(stderr)
	root.SetArgs([]string{"run", "--config", l.config, "--kubeconfig", kc, "--listen", "", "--leader-elect=false",
		"--resync", "10m", "--debounce", "200ms", "--log-level", "debug"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("run did not stop")
		}
	})

	waitFor := func(what string, d time.Duration, cond func() bool) time.Duration {
		t.Helper()
		start := time.Now()
		for !cond() {
			if time.Since(start) > d {
				t.Fatalf("%s: not within %s; logs:\n%s", what, d, stderr.String())
			}
			select {
			case err := <-done:
				t.Fatalf("run exited: %v; logs:\n%s", err, stderr.String())
			case <-time.After(10 * time.Millisecond):
			}
		}
		return time.Since(start)
	}
	ownedSubnet := func() string {
		for _, e := range l.sim.Dump(tenantDN) {
			if e.Class == "l3extSubnet" && strings.HasPrefix(e.Attrs["annotation"], "orchestrator:fabric-reconciler.") {
				return e.DN
			}
		}
		return ""
	}
	waitFor("the first convergence and the subscription", 60*time.Second, func() bool {
		return ownedSubnet() != "" && len(l.sim.Subscriptions()) == 1
	})
	// Settle: the subscription's own first look, and nothing pending.
	time.Sleep(time.Second)

	fabricRounds := func() int {
		n := 0
		for _, line := range strings.Split(stderr.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "reconciled" && rec["trigger"] == "fabric" &&
				rec["drift"] == true && rec["create"] == float64(1) {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		name   string
		before func()
	}{
		{"subscribed", nil},
		{"after the socket dropped", func() {
			opened := l.sim.SubscriptionStats().SocketsOpened
			l.sim.DropSockets()
			waitFor("a new socket and subscription", 10*time.Second, func() bool {
				return l.sim.SubscriptionStats().SocketsOpened > opened && len(l.sim.Subscriptions()) >= 1
			})
			time.Sleep(time.Second) // the gap's and the new subscription's full resyncs
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.before != nil {
				c.before()
			}
			dn := ownedSubnet()
			_, want, _ := l.sim.Lookup(dn)
			rounds := fabricRounds()
			handDelete(t, l.sim, "operator", operatorPW, dn)
			took := waitFor("the hand-deleted subnet put back", 2*time.Second, func() bool {
				_, _, ok := l.sim.Lookup(dn)
				return ok
			})
			t.Logf("%s put back after %s", dn, took)
			if _, got, _ := l.sim.Lookup(dn); got["annotation"] != want["annotation"] || got["scope"] != want["scope"] {
				t.Errorf("put back as %v, want %v", got, want)
			}
			waitFor("the reconcile's log line", 2*time.Second, func() bool { return fabricRounds() > rounds })
		})
	}
	// The driver's own writes notify once more at most: then it is quiet.
	reconciles := func() int { return strings.Count(stderr.String(), `"msg":"reconciled"`) }
	time.Sleep(time.Second)
	n := reconciles()
	time.Sleep(1500 * time.Millisecond)
	if m := reconciles(); m != n {
		t.Errorf("%d reconciles in 1.5 s of quiet: the driver's own writes keep notifying", m-n)
	}
	if !strings.Contains(stderr.String(), "APIC subscription lost") {
		t.Error("the dropped socket was not logged")
	}
	for _, tok := range l.sim.Tokens() {
		if strings.Contains(stderr.String(), tok) {
			t.Fatal("a session token appears in the logs")
		}
	}
	if strings.Contains(stderr.String(), l.apicPW) || strings.Contains(stderr.String(), operatorPW) {
		t.Fatal("a password appears in the logs")
	}
}
