package emulator

// Query subscriptions: the APIC pushes the changes of a query's result over
// a websocket.
//
// What each behaviour rests on:
//
//	[S1] Cisco APIC REST API Configuration Guide, 4.2(x) and later, "Using the
//	     REST API": the REST API provides "a means of subscribing to
//	     push-based event notification, so that when a change occurs in the
//	     MIT, an event can be sent through a web socket".
//	     https://www.cisco.com/c/en/us/td/docs/dcn/aci/apic/all/apic-rest-api-configuration-guide/cisco-apic-rest-api-configuration-guide-42x-and-later/m_using_the_rest_api.html
//	[S2] Cisco NX-API REST (the same object store and REST engine as the
//	     APIC), "Subscribing to Query Results": a websocket (RFC 6455) is
//	     opened first; one websocket carries every subscription of a
//	     session and closes when the API session ends; a query with
//	     ?subscription=yes answers with a subscriptionId; an event is sent
//	     when an object is created, changed or deleted, by a user or by the
//	     system, and the change alters the result of a subscribed query; a
//	     notification holds the subscription IDs (several when several
//	     subscriptions match) and the object; subscriptions must be
//	     refreshed periodically to go on receiving notifications.
//	     https://developer.cisco.com/docs/nx-os/subscribing-to-query-results
//	[S3] IBM Netcool probe for Cisco APIC, "Subscribing to alarms in the
//	     target system": refresh with an HTTP GET of the subscriptionRefresh
//	     method with the id set to the subscriptionId; "The default timeout
//	     period for a subscription in Cisco APIC is one minute."
//	     https://www.ibm.com/docs/en/cloud-paks/cloud-pak-aiops/4.6.1?topic=acquisition-subscribing-alarms-in-target-system
//	[S4] Cisco's own Kubernetes integration, noironetworks/aci-containers,
//	     pkg/apicapi/apicapi.go (read for behaviour): the socket is
//	     wss://<apic>/socket<token> with the aaaLogin token; subscriptions
//	     are /api/{mo|class}/<dn|class>.json?subscription=yes&refresh-timeout=N
//	     plus the usual query options (query-target=subtree,
//	     target-subtree-class, query-target-filter); the answer's
//	     subscriptionId is a string, a notification's is a string or a list;
//	     each notified object carries dn and status (created, modified,
//	     deleted); GET /api/subscriptionRefresh.json?id=<id> refreshes one
//	     subscription, GET /api/aaaRefresh.json keeps the session, and the
//	     socket stays open across session refreshes.
//
// Assumptions (no source found; docs/aci.md lists them too):
//   - A modified object's notification carries dn, status, modTs and the
//     properties that changed; a deleted one's carries dn and status only.
//     (Clients in [S4] read only dn and status.)
//   - Deleting a subtree notifies each deleted object of a matching query,
//     children included.
//   - subscriptionRefresh of an unknown or expired id is refused with HTTP
//     400 and APIC error code 400; the APIC's real answer is not published.
//   - A subscription is delivered to every open socket of the session that
//     made it (a session refreshed with aaaRefresh is the same session);
//     events while no socket is open are lost. Subscriptions end only by
//     expiring.
//   - refresh-timeout accepts any whole number of seconds from 1 to 3600.
//   - A socket whose send queue overflows is closed (the client sees a gap).
//   - A socket opened with an unknown or expired token is refused before
//     the upgrade with 403 "Token was invalid (Error: Token timeout)".

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// DefaultSubscriptionTimeout is how long a subscription lives without a
// refresh when the query names no refresh-timeout [S3].
const DefaultSubscriptionTimeout = 60 * time.Second

// SubscriptionStats count the emulator's subscription traffic.
type SubscriptionStats struct {
	Subscribed      int // queries answered with a subscriptionId
	Refreshed       int // successful subscriptionRefresh calls
	RefreshRejected int // subscriptionRefresh of an unknown or expired id
	Expired         int // subscriptions that ran out without a refresh
	Events          int // notifications queued to sockets
	SocketsOpened   int // websockets accepted
	SocketsOpen     int // websockets open now
}

type subscription struct {
	id      string
	session string // the root token of the session that subscribed
	kind    string // "mo" or "class"
	dn      string // mo: the queried DN; class: the scope ("" = everywhere)
	class   string // class queries
	opts    *queryOpts
	timeout time.Duration
	expires time.Time
}

type socketClient struct {
	session string
	conn    *websocket.Conn
	send    chan []byte
	once    sync.Once
	done    chan struct{}
}

func (c *socketClient) close(code websocket.StatusCode, why string) {
	c.once.Do(func() {
		close(c.done)
		if code == 0 {
			_ = c.conn.CloseNow()
			return
		}
		go func() { _ = c.conn.Close(code, why) }()
	})
}

// subState is the emulator's subscription state (guarded by Sim.mu).
type subState struct {
	next    uint64
	byID    map[string]*subscription
	sockets map[*socketClient]bool
	// session maps a token to the first token of its session: aaaRefresh
	// issues a new token for the same session.
	session map[string]string
	stats   SubscriptionStats
}

func (st *subState) init() {
	if st.byID == nil {
		st.byID = map[string]*subscription{}
		st.sockets = map[*socketClient]bool{}
		st.session = map[string]string{}
		// Real ids are large decimal numbers [S2 example]; these start at 2^56.
		st.next = 1 << 56
	}
}

func (st *subState) root(tok string) string {
	if r, ok := st.session[tok]; ok {
		return r
	}
	return tok
}

// SubscriptionStats returns the subscription counters.
func (s *Sim) SubscriptionStats() SubscriptionStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.subs.stats
	st.SocketsOpen = len(s.subs.sockets)
	return st
}

// Subscriptions lists the ids of the live (unexpired) subscriptions.
func (s *Sim) Subscriptions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var out []string
	for id, sub := range s.subs.byID {
		if now.Before(sub.expires) {
			out = append(out, id)
		}
	}
	return out
}

// ExpireSubscriptions ends every subscription now, as if none had been
// refreshed in time; later refreshes of them are refused.
func (s *Sim) ExpireSubscriptions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs.init()
	for id := range s.subs.byID {
		delete(s.subs.byID, id)
		s.subs.stats.Expired++
	}
}

// DropSockets closes every open websocket abruptly (a network drop, an
// APIC restart); subscriptions are kept until they expire.
func (s *Sim) DropSockets() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs.init()
	for c := range s.subs.sockets {
		delete(s.subs.sockets, c)
		c.close(0, "")
	}
}

// sessionRefreshed records that aaaRefresh gave newTok to oldTok's session
// (with s.mu held).
func (s *Sim) sessionRefreshed(oldTok, newTok string) {
	s.subs.init()
	s.subs.session[newTok] = s.subs.root(oldTok)
}

// sessionAlive reports whether a session still has a valid token (with s.mu
// held). A logged-out or timed-out session ends its sockets [S2].
func (s *Sim) sessionAlive(root string) bool {
	now := s.now()
	if ss, ok := s.sessions[root]; ok && now.Before(ss.expires) {
		return true
	}
	for tok, r := range s.subs.session {
		if r != root {
			continue
		}
		if ss, ok := s.sessions[tok]; ok && now.Before(ss.expires) {
			return true
		}
	}
	return false
}

// serveSocket opens the notification websocket at /socket<token> [S4].
func (s *Sim) serveSocket(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimPrefix(r.URL.Path, "/socket")
	entry := Request{Method: r.Method, Path: "/socket", Time: time.Now()} // the token stays out of the log
	s.mu.Lock()
	s.subs.init()
	ss, ok := s.sessions[tok]
	if !ok || !s.now().Before(ss.expires) {
		entry.Status = writeError(w, errf(403, "403", textTokenTimeout))
		s.log = append(s.log, entry)
		s.mu.Unlock()
		return
	}
	entry.User = ss.user
	root := s.subs.root(tok)
	// The lock is held through the handshake: once the client has its
	// socket, every later change reaches it (and DropSockets finds it).
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		entry.Status = http.StatusBadRequest
		s.log = append(s.log, entry)
		s.mu.Unlock()
		return
	}
	c := &socketClient{session: root, conn: conn, send: make(chan []byte, 1024), done: make(chan struct{})}
	s.subs.sockets[c] = true
	s.subs.stats.SocketsOpened++
	entry.Status = http.StatusSwitchingProtocols
	s.log = append(s.log, entry)
	s.mu.Unlock()

	defer func() {
		s.mu.Lock()
		delete(s.subs.sockets, c)
		s.mu.Unlock()
		c.close(0, "")
	}()
	// Reader: clients send nothing the APIC acts on; reading notices a
	// close.
	go func() {
		for {
			if _, _, err := conn.Read(context.Background()); err != nil {
				c.close(0, "")
				return
			}
		}
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-c.done:
			return
		case msg := <-c.send:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := conn.Write(ctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				return
			}
		case <-tick.C:
			s.mu.Lock()
			alive := s.sessionAlive(root)
			s.mu.Unlock()
			if !alive {
				c.close(websocket.StatusPolicyViolation, "session ended")
				return
			}
		}
	}
}

// subscribeRequested reports whether a query asks for a subscription.
func subscribeRequested(r *http.Request) bool { return r.URL.Query().Get("subscription") == "yes" }

// subscribe registers a subscription for the query of r (with s.mu held)
// and returns its id, or an error answer.
func (s *Sim) subscribe(r *http.Request, kind, dn, class string, o *queryOpts) (string, *apicError) {
	s.subs.init()
	timeout := s.opts.SubscriptionTimeout
	if timeout <= 0 {
		timeout = DefaultSubscriptionTimeout
	}
	if v := r.URL.Query().Get("refresh-timeout"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 3600 {
			return "", errf(400, "400", "Request failed, invalid value %s for refresh-timeout", v)
		}
		timeout = time.Duration(n) * time.Second
	}
	tok := ""
	for _, t := range apicCookies(r) {
		if ss, ok := s.sessions[t]; ok && s.now().Before(ss.expires) {
			tok = t
			break
		}
	}
	if tok == "" {
		// A signed request has no session for a socket to belong to.
		return "", errf(400, "400", "Request failed, subscriptions need a session token (APIC-cookie)")
	}
	s.subs.next++
	id := strconv.FormatUint(s.subs.next, 10)
	s.subs.byID[id] = &subscription{id: id, session: s.subs.root(tok), kind: kind, dn: dn, class: class, opts: o,
		timeout: timeout, expires: s.now().Add(timeout)}
	s.subs.stats.Subscribed++
	return id, nil
}

// subscribedResponse is a query answer with its subscription [S2, S4].
type subscribedResponse struct {
	TotalCount     string `json:"totalCount"`
	SubscriptionID string `json:"subscriptionId"`
	Imdata         []any  `json:"imdata"`
}

func withSubscription(r response, id string) subscribedResponse {
	return subscribedResponse{TotalCount: r.TotalCount, SubscriptionID: id, Imdata: r.Imdata}
}

// handleSubscriptionRefresh answers GET /api/subscriptionRefresh.json?id=
// [S3, S4] (with s.mu held).
func (s *Sim) handleSubscriptionRefresh(w http.ResponseWriter, r *http.Request) {
	s.subs.init()
	id := r.URL.Query().Get("id")
	sub, ok := s.subs.byID[id]
	now := s.now()
	if ok && !now.Before(sub.expires) {
		delete(s.subs.byID, id)
		s.subs.stats.Expired++
		ok = false
	}
	if !ok {
		s.subs.stats.RefreshRejected++
		writeError(w, errf(400, "400", "Request failed, subscription %s does not exist or has expired", id))
		return
	}
	sub.expires = now.Add(sub.timeout)
	s.subs.stats.Refreshed++
	writeJSON(w, 200, imdata(nil, 0))
}

// matches reports whether a changed object is in the result of the
// subscription's query (before or after the change).
func (sub *subscription) matches(class, dn string, attrs map[string]string) bool {
	o := sub.opts
	switch sub.kind {
	case "mo":
		switch o.target {
		case "self":
			if dn != sub.dn {
				return false
			}
		case "children":
			if ParentDN(dn) != sub.dn {
				return false
			}
		case "subtree":
			if dn != sub.dn && !strings.HasPrefix(dn, sub.dn+"/") {
				return false
			}
		}
		if o.target != "self" && o.targetClass != nil && !o.targetClass[class] {
			return false
		}
	case "class":
		if class != sub.class {
			return false
		}
		if sub.dn != "" && dn != sub.dn && !strings.HasPrefix(dn, sub.dn+"/") {
			return false
		}
	}
	return o.filter == nil || o.filter.eval(class, attrs)
}

// publish notifies the subscribers of what changed between two trees (with
// s.mu held). Every committed change counts, whoever made it [S2].
func (s *Sim) publish(before, after *tree) {
	if len(s.subs.byID) == 0 {
		return
	}
	s.notify(before, after, diffTrees(before, after))
}

func (s *Sim) notify(before, after *tree, changes []MOChange) {
	if len(s.subs.byID) == 0 || len(changes) == 0 {
		return
	}
	now := s.now()
	for id, sub := range s.subs.byID {
		if !now.Before(sub.expires) {
			delete(s.subs.byID, id)
			s.subs.stats.Expired++
		}
	}
	for _, ch := range changes {
		var attrs map[string]string // what the notification carries
		var match map[string]string // what the query's filter sees
		var was map[string]string   // a modified object before: leaving a result changes it too [S2]
		switch ch.Status {
		case "created":
			m := after.lookup(ch.DN)
			if m == nil {
				continue
			}
			attrs = s.render(after, m, true, propAll)
			match = attrs
		case "modified":
			m := after.lookup(ch.DN)
			if m == nil {
				continue
			}
			match = s.render(after, m, true, propAll)
			was = maps.Clone(match)
			maps.Copy(was, ch.Before)
			attrs = map[string]string{"dn": ch.DN, "modTs": m.ModTs}
			for k, v := range ch.After {
				if ch.Before[k] != v {
					attrs[k] = v
				}
			}
		case "deleted":
			attrs = map[string]string{"dn": ch.DN}
			match = maps.Clone(ch.Before)
			match["dn"] = ch.DN
		}
		attrs["status"] = ch.Status
		ids := map[string][]string{} // session -> matching subscription ids
		for id, sub := range s.subs.byID {
			if sub.matches(ch.Class, ch.DN, match) || (was != nil && sub.matches(ch.Class, ch.DN, was)) {
				ids[sub.session] = append(ids[sub.session], id)
			}
		}
		for session, list := range ids {
			msg, _ := json.Marshal(map[string]any{
				"subscriptionId": list,
				"imdata":         []any{Props{Class: ch.Class, Attrs: attrs}},
			})
			for c := range s.subs.sockets {
				if c.session != session {
					continue
				}
				select {
				case c.send <- msg:
					s.subs.stats.Events++
				default:
					delete(s.subs.sockets, c)
					c.close(websocket.StatusTryAgainLater, "too many notifications")
				}
			}
		}
	}
}

// notifyDeleted publishes the removal of m's subtree from t (with s.mu
// held), for the direct test hooks that change the tree in place.
func (s *Sim) notifyDeleted(t *tree, m *MO) {
	if len(s.subs.byID) == 0 {
		return
	}
	var changes []MOChange
	m.walk(func(o *MO) {
		changes = append(changes, MOChange{DN: o.DN, Class: o.Class, Status: "deleted", Before: copyMap(o.Attrs)})
	})
	s.notify(t, t, changes)
}

// notifyModified publishes a direct property change (with s.mu held).
func (s *Sim) notifyModified(t *tree, m *MO, attr, old string) {
	if len(s.subs.byID) == 0 {
		return
	}
	before := copyMap(m.Attrs)
	before[attr] = old
	s.notify(t, t, []MOChange{{DN: m.DN, Class: m.Class, Status: "modified", Before: before, After: copyMap(m.Attrs)}})
}
