package aci

// Drift in seconds: the driver subscribes to its observation query and
// tells the caller when the APIC pushes a change (drivers.ChangeNotifier).
//
// How an APIC subscription works, and where that is written:
//
//	[S1] Cisco APIC REST API Configuration Guide, 4.2(x) and later, "Using the
//	     REST API": push-based event notification through a web socket when
//	     a change occurs in the MIT.
//	     https://www.cisco.com/c/en/us/td/docs/dcn/aci/apic/all/apic-rest-api-configuration-guide/cisco-apic-rest-api-configuration-guide-42x-and-later/m_using_the_rest_api.html
//	[S2] Cisco NX-API REST, "Subscribing to Query Results" (the same REST
//	     engine): open the websocket first, one per session for every
//	     subscription, closed when the session ends; ?subscription=yes
//	     answers a subscriptionId; notifications carry the subscription IDs
//	     and the object; refresh periodically to keep receiving them.
//	     https://developer.cisco.com/docs/nx-os/subscribing-to-query-results
//	[S3] IBM Netcool probe for Cisco APIC: GET subscriptionRefresh with
//	     id=<subscriptionId>; the default subscription timeout is one minute.
//	     https://www.ibm.com/docs/en/cloud-paks/cloud-pak-aiops/4.6.1?topic=acquisition-subscribing-alarms-in-target-system
//	[S4] noironetworks/aci-containers pkg/apicapi/apicapi.go (Cisco's
//	     Kubernetes controller, read for behaviour): wss://<apic>/socket<token>;
//	     subscribe with /api/mo/<dn>.json?subscription=yes&refresh-timeout=N&
//	     query-target=subtree&target-subtree-class=...; each notified object
//	     has dn and status created|modified|deleted; refresh every
//	     subscription with /api/subscriptionRefresh.json?id=<id> and the
//	     session with aaaRefresh, by default every 30 s; any failure (socket
//	     closed, refresh refused) restarts the connection, subscribes again
//	     and syncs in full.
//
// What this driver does with them: one subscription, to exactly the query
// Observe runs (the tenant's subtree, the classes the driver writes and
// the containers it writes under), so every object Observe could report
// notifies, whoever changed it. The watch has its own APIC session: its
// socket lives and dies with that session [S2], apart from the writer's.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/fabric-reconciler/fabric-reconciler/internal/drivers"
)

var _ drivers.ChangeNotifier = (*Driver)(nil)

// watchTiming paces a subscription.
type watchTiming struct {
	// timeout is the refresh-timeout asked for: the APIC ends a
	// subscription not refreshed for this long. One minute is the APIC's
	// default [S3]; asking for it explicitly [S4] keeps the pacing below
	// right whatever an APIC's default is.
	timeout time.Duration
	// refresh is how often the subscription is refreshed: every 30 s, as
	// aci-containers does by default [S4], half the timeout, so one slow or
	// lost refresh is survived.
	refresh time.Duration
	// backoffMin and backoffMax pace subscribing again after a gap.
	backoffMin, backoffMax time.Duration
}

// defaultWatch is the pacing of every driver (tests shorten it).
var defaultWatch = watchTiming{timeout: 60 * time.Second, refresh: 30 * time.Second, backoffMin: time.Second, backoffMax: 30 * time.Second}

// maxNotification bounds one websocket message (a burst of changes).
const maxNotification = 64 << 20

// WatchChanges subscribes to what Observe reads and calls changed on every
// relevant notification, and after every (re)subscription. On any gap (the
// socket closed, a refresh refused, a notification for a subscription it
// does not hold) it calls changed, so the caller resyncs in full, and
// subscribes again with backoff. Certificate login has no session token
// for a socket; the fabric then relies on the periodic resync.
func (d *Driver) WatchChanges(ctx context.Context, changed func(reason string)) error {
	if d.aci.APIC.PasswordFile == "" {
		return fmt.Errorf("fabric %s: %w: APIC subscriptions need password login (the websocket is opened with a session token)",
			d.cfg.Name, drivers.ErrNotifyUnsupported)
	}
	t := defaultWatch
	a := newAPIC(d.aci.APIC, d.cfg.Name, d.apic.metrics)
	defer a.close()
	wait := t.backoffMin
	for {
		start := time.Now()
		err := d.watchOnce(ctx, a, t, changed)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(start) > 2*t.refresh {
			wait = t.backoffMin // it had worked for a while: not a failing loop
		}
		d.log.Warn("APIC subscription lost; resyncing in full and subscribing again", "error", err.Error(), "retryIn", wait.String())
		changed("subscription gap: " + err.Error())
		// Start over with a new session: the old one may be why the socket
		// closed, and its subscriptions end with it [S2].
		a.close()
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, t.backoffMax)
	}
}

// subscribeQuery is Observe's query with a subscription.
func (n names) subscribeQuery(timeout time.Duration) string {
	return n.observeQuery() + "&subscription=yes&refresh-timeout=" + strconv.Itoa(int(timeout/time.Second))
}

// watchOnce opens the socket, subscribes and follows notifications until a
// gap, which it returns as an error (ctx's error when ctx ended).
func (d *Driver) watchOnce(ctx context.Context, a *apic, t watchTiming, changed func(string)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tok, hc, err := a.socketSession(ctx)
	if err != nil {
		return err
	}
	began := time.Now()
	conn, err := dialSocket(ctx, a, tok, hc)
	a.observe("socket", time.Since(began), err)
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(maxNotification)

	cont, err := a.request(ctx, "subscribe", http.MethodGet, d.names.subscribeQuery(t.timeout), nil)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	id, _ := cont.S("subscriptionId").Data().(string)
	if id == "" {
		return errors.New("subscribe: the APIC's answer holds no subscriptionId")
	}
	d.log.Info("subscribed to APIC changes", "tenant", d.names.tenant, "subscription", id, "refreshEvery", t.refresh.String())
	// Whatever changed before this point was not notified: look once.
	changed("subscribed")

	type message struct {
		b   []byte
		err error
	}
	msgs := make(chan message)
	go func() {
		for {
			_, b, err := conn.Read(ctx)
			select {
			case msgs <- message{b, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	tick := time.NewTicker(t.refresh)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if _, err := a.request(ctx, "subscription-refresh", http.MethodGet, "/api/subscriptionRefresh.json?id="+id, nil); err != nil {
				return fmt.Errorf("refresh subscription %s: %w", id, err)
			}
		case m := <-msgs:
			if m.err != nil {
				return fmt.Errorf("the APIC websocket closed: %s", cutToken(m.err.Error(), tok))
			}
			n, err := parseNotification(m.b)
			if err != nil {
				return err
			}
			if !slices.Contains(n.ids, id) {
				return fmt.Errorf("a notification for subscriptions %v, not %s", n.ids, id)
			}
			for _, o := range n.objs {
				if reason, ok := d.relevant(o); ok {
					changed(reason)
				}
			}
		}
	}
}

// socketSession returns the session token to open the socket with (after
// logging in or refreshing the session as needed) and a client on the
// APIC connection's transport.
func (a *apic) socketSession(ctx context.Context) (string, *http.Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.connect(); err != nil {
		return "", nil, err
	}
	if a.certAuth {
		return "", nil, fmt.Errorf("%w: certificate login has no session token", drivers.ErrNotifyUnsupported)
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout())
	defer cancel()
	if err := a.ensureSession(ctx); err != nil {
		return "", nil, err
	}
	return a.token, &http.Client{Transport: a.transport}, nil
}

// dialSocket opens wss://<apic>/socket<token> [S4]. The token is part of the
// URL: it is cut out of every error.
func dialSocket(ctx context.Context, a *apic, tok string, hc *http.Client) (*websocket.Conn, error) {
	base := strings.TrimSuffix(a.cfg.URL, "/")
	switch {
	case strings.HasPrefix(base, "https://"):
		base = "wss://" + strings.TrimPrefix(base, "https://")
	case strings.HasPrefix(base, "http://"):
		base = "ws://" + strings.TrimPrefix(base, "http://")
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout())
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, base+"/socket"+tok, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		status := ""
		if resp != nil {
			status = fmt.Sprintf(" (HTTP %d)", resp.StatusCode)
		}
		return nil, fmt.Errorf("open the APIC websocket%s: %s", status, cutToken(err.Error(), tok))
	}
	return conn, nil
}

// cutToken cuts a session token out of a text.
func cutToken(s, tok string) string {
	if tok == "" {
		return s
	}
	return strings.ReplaceAll(s, tok, "<token>")
}

// notification is one websocket message: the subscriptions it answers and
// the objects that changed.
type notification struct {
	ids  []string
	objs []object // attrs hold what the APIC sent, status included
}

// parseNotification reads {"subscriptionId":[...] or "...","imdata":[...]}
// [S2, S4].
func parseNotification(b []byte) (notification, error) {
	var raw struct {
		SubscriptionID json.RawMessage              `json:"subscriptionId"`
		Imdata         []map[string]json.RawMessage `json:"imdata"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return notification{}, fmt.Errorf("a notification that is not JSON: %v", err)
	}
	var n notification
	var one string
	if err := json.Unmarshal(raw.SubscriptionID, &one); err == nil {
		n.ids = []string{one}
	} else if err := json.Unmarshal(raw.SubscriptionID, &n.ids); err != nil {
		return notification{}, errors.New("a notification without a subscriptionId")
	}
	for _, it := range raw.Imdata {
		for cls, body := range it {
			var mo struct {
				Attributes map[string]any `json:"attributes"`
			}
			if err := json.Unmarshal(body, &mo); err != nil {
				return notification{}, fmt.Errorf("a notification with a malformed %s: %v", cls, err)
			}
			o := object{class: cls, attrs: map[string]string{}}
			for k, v := range mo.Attributes {
				if s, ok := v.(string); ok {
					o.attrs[k] = s
				}
			}
			o.dn = o.attrs["dn"]
			if o.dn == "" {
				return notification{}, fmt.Errorf("a notification with a %s without dn", cls)
			}
			n.objs = append(n.objs, o)
		}
	}
	return n, nil
}

// relevant says whether a notified change may alter what Observe returns,
// and why: an owned object changed or went away, an object appeared (ours
// by another writer, or one in the way), an object in the way went away or
// changed hands. The writer lock's own marker is not: taking and releasing
// it is the driver's own bookkeeping.
func (d *Driver) relevant(ev object) (string, bool) {
	status := ev.attrs["status"]
	reason := status + " " + ev.class + " " + ev.dn
	lock := d.names.lockDN()
	if ev.dn == lock || strings.HasPrefix(ev.dn, lock+"/") {
		return "", false
	}
	d.mu.Lock()
	snap := d.snap
	d.mu.Unlock()
	if snap == nil {
		return reason, true
	}
	was, seen := snap.get(ev.dn)
	switch {
	case !seen:
		// New to the driver: created, or changed before the last
		// observation saw it. Either may be in the way.
		return reason, true
	case d.names.owned(was):
		return reason, true
	case status == "deleted":
		return reason, true // an object in the way went away
	}
	if a, ok := ev.attrs["annotation"]; ok && a != was.attrs["annotation"] {
		return reason, true // changed hands
	}
	return "", false // someone else's object, still someone else's
}
