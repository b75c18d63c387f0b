package emulator

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// event is one notification as a client reads it.
type event struct {
	ids    []string
	class  string
	attrs  map[string]string
	closed error
}

// openSocket opens the notification socket of a login's session.
func openSocket(t *testing.T, hc *http.Client, srv *Server, cookie string) (*websocket.Conn, <-chan event) {
	t.Helper()
	tok := strings.TrimPrefix(cookie, "APIC-cookie=")
	ws := &http.Client{Transport: hc.Transport}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(srv.URL, "https")+"/socket"+tok, &websocket.DialOptions{HTTPClient: ws})
	if err != nil {
		t.Fatalf("open the socket: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("socket: HTTP %d", resp.StatusCode)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	out := make(chan event, 100)
	go func() {
		defer close(out)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				out <- event{closed: err}
				return
			}
			var m struct {
				SubscriptionID []string                     `json:"subscriptionId"`
				Imdata         []map[string]json.RawMessage `json:"imdata"`
			}
			if err := json.Unmarshal(b, &m); err != nil {
				t.Errorf("notification is not JSON: %v: %s", err, b)
				return
			}
			for _, o := range m.Imdata {
				for cls, body := range o {
					var at struct {
						Attributes map[string]string `json:"attributes"`
					}
					_ = json.Unmarshal(body, &at)
					out <- event{ids: m.SubscriptionID, class: cls, attrs: at.Attributes}
				}
			}
		}
	}()
	return conn, out
}

// subscribeQuery runs a query with subscription=yes and returns its id.
func subscribeQuery(t *testing.T, hc *http.Client, srv *Server, cookie, path string) string {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	a := do(t, hc, srv, "GET", path+sep+"subscription=yes", "", cookie)
	if a.status != 200 {
		t.Fatalf("subscribe %s: %d %s", path, a.status, a.body)
	}
	id, _ := a.json(t)["subscriptionId"].(string)
	if id == "" {
		t.Fatalf("subscribe %s: no subscriptionId in %s", path, a.body)
	}
	return id
}

// collect reads events until none arrives for quiet.
func collect(ch <-chan event, quiet time.Duration) []event {
	var out []event
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return out
			}
			out = append(out, e)
		case <-time.After(quiet):
			return out
		}
	}
}

func TestSubscriptionEvents(t *testing.T) {
	srv, hc := lab(t, Options{})
	ck := login(t, hc, srv)
	_, events := openSocket(t, hc, srv, ck)
	epg := tn + "/out-L3O_K8_C1/instP-EPG_SUB"
	subnet := epg + "/extsubnet-[172.29.9.9/32]"
	subs := map[string]string{
		"tenant subtree, subnets": subscribeQuery(t, hc, srv, ck, "/api/mo/"+tn+".json?query-target=subtree&target-subtree-class=l3extSubnet"),
		"tenant subtree, EPGs":    subscribeQuery(t, hc, srv, ck, "/api/node/mo/"+tn+".json?query-target=subtree&target-subtree-class=l3extInstP"),
		"class, everywhere":       subscribeQuery(t, hc, srv, ck, "/api/class/l3extSubnet.json"),
		"class, filtered":         subscribeQuery(t, hc, srv, ck, `/api/class/l3extSubnet.json?query-target-filter=eq(l3extSubnet.descr,"watched")`),
		"the EPG itself":          subscribeQuery(t, hc, srv, ck, "/api/mo/"+epg+".json"),
		"another tenant":          subscribeQuery(t, hc, srv, ck, "/api/mo/uni/tn-common.json?query-target=subtree&target-subtree-class=l3extSubnet"),
	}
	if got := len(srv.Subscriptions()); got != len(subs) {
		t.Fatalf("%d live subscriptions, want %d", got, len(subs))
	}
	for _, c := range []struct {
		name   string
		change func()
		// want: per event (class, dn, status), the subscriptions it names
		want []struct {
			class, dn, status string
			subs              []string
		}
	}{
		{"a client creates an EPG with a subnet", func() {
			a := do(t, hc, srv, "POST", "/api/mo/"+epg+".json",
				`{"l3extInstP":{"attributes":{"name":"EPG_SUB"},"children":[{"l3extSubnet":{"attributes":{"ip":"172.29.9.9/32"}}}]}}`, ck)
			if a.status != 200 {
				t.Fatalf("POST: %d %s", a.status, a.body)
			}
		}, []struct {
			class, dn, status string
			subs              []string
		}{
			{"l3extInstP", epg, "created", []string{"tenant subtree, EPGs", "the EPG itself"}},
			{"l3extSubnet", subnet, "created", []string{"tenant subtree, subnets", "class, everywhere"}},
		}},
		{"a client modifies the subnet", func() {
			a := do(t, hc, srv, "POST", "/api/mo/"+subnet+".json", `{"l3extSubnet":{"attributes":{"descr":"watched"}}}`, ck)
			if a.status != 200 {
				t.Fatalf("POST: %d %s", a.status, a.body)
			}
		}, []struct {
			class, dn, status string
			subs              []string
		}{
			{"l3extSubnet", subnet, "modified", []string{"tenant subtree, subnets", "class, everywhere", "class, filtered"}},
		}},
		{"a hand change made outside the REST API", func() { srv.SetAttr(subnet, "descr", "by hand") }, []struct {
			class, dn, status string
			subs              []string
		}{
			{"l3extSubnet", subnet, "modified", []string{"tenant subtree, subnets", "class, everywhere", "class, filtered"}},
		}},
		{"another client deletes the subnet over REST", func() {
			other := login(t, hc, srv)
			if a := do(t, hc, srv, "DELETE", "/api/mo/"+subnet+".json", "", other); a.status != 200 {
				t.Fatalf("DELETE: %d %s", a.status, a.body)
			}
		}, []struct {
			class, dn, status string
			subs              []string
		}{
			{"l3extSubnet", subnet, "deleted", []string{"tenant subtree, subnets", "class, everywhere"}},
		}},
		{"the EPG is deleted by hand", func() { srv.Delete(epg) }, []struct {
			class, dn, status string
			subs              []string
		}{
			{"l3extInstP", epg, "deleted", []string{"tenant subtree, EPGs", "the EPG itself"}},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.change()
			got := collect(events, 300*time.Millisecond)
			if len(got) != len(c.want) {
				t.Fatalf("%d events, want %d: %+v", len(got), len(c.want), got)
			}
			for i, w := range c.want {
				e := got[i]
				if e.class != w.class || e.attrs["dn"] != w.dn || e.attrs["status"] != w.status {
					t.Errorf("event %d: %s %s %s, want %s %s %s", i, e.class, e.attrs["dn"], e.attrs["status"], w.class, w.dn, w.status)
				}
				var want []string
				for _, n := range w.subs {
					want = append(want, subs[n])
				}
				slices.Sort(want)
				ids := slices.Clone(e.ids)
				slices.Sort(ids)
				if !slices.Equal(ids, want) {
					t.Errorf("event %d names subscriptions %v, want %v (%v)", i, ids, want, w.subs)
				}
				switch w.status {
				case "deleted":
					if len(e.attrs) != 2 {
						t.Errorf("a deleted object's notification carries %v, want dn and status only", e.attrs)
					}
				case "modified":
					if e.attrs["descr"] == "" || e.attrs["ip"] != "" {
						t.Errorf("a modified object's notification carries %v, want what changed", e.attrs)
					}
				case "created":
					if w.class == "l3extSubnet" && e.attrs["ip"] != "172.29.9.9/32" {
						t.Errorf("a created object's notification carries %v, want its properties", e.attrs)
					}
				}
			}
		})
	}
}

func TestSubscriptionSocket(t *testing.T) {
	srv, hc := lab(t, Options{})
	ck := login(t, hc, srv)
	ws := &http.Client{Transport: hc.Transport}
	base := "wss" + strings.TrimPrefix(srv.URL, "https")
	for _, c := range []struct {
		name, path string
		ok         bool
	}{
		{"the session's token", "/socket" + strings.TrimPrefix(ck, "APIC-cookie="), true},
		{"an unknown token", "/socket" + "bm90LWEtdG9rZW4", false},
		{"no token", "/socket", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			conn, resp, err := websocket.Dial(ctx, base+c.path, &websocket.DialOptions{HTTPClient: ws})
			if c.ok {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				conn.CloseNow()
				return
			}
			if err == nil {
				conn.CloseNow()
				t.Fatal("accepted")
			}
			if resp == nil || resp.StatusCode != 403 {
				t.Fatalf("answer %v, want 403", resp)
			}
		})
	}
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path+r.Query, strings.TrimPrefix(ck, "APIC-cookie=")) {
			t.Errorf("the request log holds the session token: %s", r.Path)
		}
	}

	t.Run("logout closes the session's socket", func(t *testing.T) {
		ck := login(t, hc, srv)
		_, events := openSocket(t, hc, srv, ck)
		do(t, hc, srv, "POST", "/api/aaaLogout.json", `{"aaaUser":{"attributes":{"name":"admin"}}}`, ck)
		select {
		case e := <-events:
			if e.closed == nil {
				t.Fatalf("got %+v, want the socket closed", e)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("the socket stayed open after logout")
		}
	})
	t.Run("DropSockets closes them", func(t *testing.T) {
		ck := login(t, hc, srv)
		_, events := openSocket(t, hc, srv, ck)
		srv.DropSockets()
		select {
		case e := <-events:
			if e.closed == nil {
				t.Fatalf("got %+v, want the socket closed", e)
			}
		case <-time.After(3 * time.Second):
			t.Fatal("the socket stayed open")
		}
	})
	t.Run("aaaRefresh keeps the socket and its subscriptions", func(t *testing.T) {
		ck := login(t, hc, srv)
		_, events := openSocket(t, hc, srv, ck)
		id := subscribeQuery(t, hc, srv, ck, "/api/class/l3extSubnet.json")
		a := do(t, hc, srv, "GET", "/api/aaaRefresh.json", "", ck)
		if a.status != 200 {
			t.Fatalf("aaaRefresh: %d", a.status)
		}
		fresh := "APIC-cookie=" + a.json(t)["imdata"].([]any)[0].(map[string]any)["aaaLogin"].(map[string]any)["attributes"].(map[string]any)["token"].(string)
		// The first token ends; the session lives on in the fresh one.
		do(t, hc, srv, "POST", "/api/aaaLogout.json", `{"aaaUser":{"attributes":{"name":"admin"}}}`, ck)
		if a := do(t, hc, srv, "GET", "/api/subscriptionRefresh.json?id="+id, "", fresh); a.status != 200 {
			t.Fatalf("refresh with the fresh token: %d %s", a.status, a.body)
		}
		srv.SetAttr(tn+"/out-L3O_EXTERNAL/instP-EPG_DEFAULT/extsubnet-[0.0.0.0/0]", "descr", "x")
		got := collect(events, 500*time.Millisecond)
		if len(got) != 1 || got[0].closed != nil || !slices.Contains(got[0].ids, id) {
			t.Fatalf("events %+v, want one for %s", got, id)
		}
	})
}

func TestSubscriptionRefreshAndExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	srv, hc := lab(t, Options{Now: clock, TokenTTL: time.Hour})
	ck := login(t, hc, srv)
	_, events := openSocket(t, hc, srv, ck)
	subnet := tn + "/out-L3O_EXTERNAL/instP-EPG_DEFAULT/extsubnet-[0.0.0.0/0]"

	def := subscribeQuery(t, hc, srv, ck, "/api/class/l3extSubnet.json")
	short := subscribeQuery(t, hc, srv, ck, "/api/class/l3extSubnet.json?refresh-timeout=10")
	refresh := func(id string) int {
		return do(t, hc, srv, "GET", "/api/subscriptionRefresh.json?id="+url.QueryEscape(id), "", ck).status
	}
	steps := []struct {
		name      string
		advance   time.Duration
		refresh   string // refresh this one first
		refreshOK bool
		live      []string // subscriptions a change then reaches
	}{
		{"fresh", 0, "", false, []string{def, short}},
		{"refreshed in time", 9 * time.Second, short, true, []string{def, short}},
		{"short ran out 10 s after its refresh", 11 * time.Second, "", false, []string{def}},
		{"refreshing it is refused", 0, short, false, []string{def}},
		{"default timeout is 60 s: refreshed at 59 s", 39 * time.Second, def, true, []string{def}},
		{"and lives 60 s from there", 59 * time.Second, "", false, []string{def}},
		{"then expires", 2 * time.Second, "", false, nil},
		{"and cannot be refreshed", 0, def, false, nil},
	}
	for i, s := range steps {
		advance(s.advance)
		if s.refresh != "" {
			got := refresh(s.refresh)
			if (got == 200) != s.refreshOK {
				t.Fatalf("step %q: refresh answered %d, want ok=%v", s.name, got, s.refreshOK)
			}
		}
		srv.SetAttr(subnet, "descr", "step"+string(rune('a'+i)))
		got := collect(events, 300*time.Millisecond)
		var ids []string
		for _, e := range got {
			ids = append(ids, e.ids...)
		}
		slices.Sort(ids)
		want := slices.Clone(s.live)
		slices.Sort(want)
		if !slices.Equal(ids, want) {
			t.Errorf("step %q: the change reached %v, want %v", s.name, ids, want)
		}
	}
	st := srv.SubscriptionStats()
	if st.Subscribed != 2 || st.Refreshed != 2 || st.RefreshRejected != 2 || st.Expired != 2 {
		t.Errorf("stats %+v", st)
	}
	if a := do(t, hc, srv, "GET", "/api/class/l3extSubnet.json?subscription=yes&refresh-timeout=0", "", ck); a.status != 400 {
		t.Errorf("refresh-timeout=0: %d, want 400", a.status)
	}
}
