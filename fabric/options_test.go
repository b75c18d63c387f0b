package fabric

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestPeerOptionSpecs: every option of the table is cleared by its Clear
// and by Keep when not managed, and sessions that set it differently are
// told apart by Unlike (shutdown excepted: a group never holds it).
func TestPeerOptionSpecs(t *testing.T) {
	all := PeerOptions{Password: NewSecret("pw", "salt"), MaxPrefix: &MaxPrefix{Limit: 5, Action: MaxPrefixShutdown},
		Keepalive: 3, Hold: 9, GracefulRestart: 120, TTLSecurityHops: 1, Shutdown: true}
	other := PeerOptions{Password: NewSecret("other", "salt"), MaxPrefix: &MaxPrefix{Limit: 5, Action: MaxPrefixWarn},
		Keepalive: 10, Hold: 30, GracefulRestart: 60, TTLSecurityHops: 2}
	for _, s := range PeerOptionSpecs() {
		t.Run(string(s.Option), func(t *testing.T) {
			if !s.IsSet(all) {
				t.Fatalf("not set in %+v", all)
			}
			o := all
			o.Clear(s.Option)
			if s.IsSet(o) {
				t.Errorf("set after Clear")
			}
			kept, dropped := all.Keep(map[PeerOption]bool{})
			if s.IsSet(kept) || !strings.Contains(strings.Join(optionNames(dropped), ","), string(s.Option)) {
				t.Errorf("Keep of nothing: %+v, dropped %v", kept, dropped)
			}
			if s.Alike == nil {
				return
			}
			// Only this option differs from all.
			mixed := mixOption(all, other, s.Option)
			if why := mixed.Unlike(all, "k8c1m0"); why == "" || !strings.Contains(why, "k8c1m0") {
				t.Errorf("Unlike %q", why)
			}
			if why := all.Unlike(all, "k8c1m0"); why != "" {
				t.Errorf("Unlike of the same options: %q", why)
			}
		})
	}
	// A group takes the largest prefix limit: the limit alone is alike.
	more := all
	more.MaxPrefix = &MaxPrefix{Limit: 50, Action: MaxPrefixShutdown}
	if why := more.Unlike(all, "k8c1m0"); why != "" {
		t.Errorf("a larger limit: %q", why)
	}
}

// TestOptionErrors: each value no platform takes is an *OptionError naming
// its key and value, every one of them listed (both timers when both are
// wrong), and a session refuses the first with the message it always had.
func TestOptionErrors(t *testing.T) {
	o := PeerOptions{Keepalive: 5, Hold: 2, GracefulRestart: 5000, TTLSecurityHops: 300}
	var got []string
	for _, err := range o.problems() {
		var oe *OptionError
		if !errors.As(err, &oe) {
			t.Fatalf("%v is not an OptionError", err)
		}
		got = append(got, fmt.Sprintf("%s=%v", oe.Key, oe.Value))
	}
	if want := "hold=2 keepalive=5 gracefulRestart=5000 ttlSecurityHops=300"; strings.Join(got, " ") != want {
		t.Errorf("problems %q, want %q", got, want)
	}
	p := BGPPeer{Switch: "leaf201", Node: "k8c1m0", PeerAddress: "192.168.9.193", RemoteASN: 63551, LocalASN: 63500, AddressFamily: IPv4, PeerOptions: o}
	if err := p.Validate(); err == nil || err.Error() != "BGPPeer 192.168.9.193: hold time must be 0 or 3-65535 seconds" {
		t.Errorf("Validate: %v", err)
	}
	o = PeerOptions{Keepalive: 3, Hold: 9, GracefulRestart: 120, TTLSecurityHops: 1}
	if errs := o.problems(); len(errs) != 0 {
		t.Errorf("valid options refused: %v", errs)
	}
}

// TestSessionDefaults: each field of SessionDefaults is the PeerOptions
// field of its name and JSON key, Options copies it, and Check reports
// every value no platform takes as an *OptionError naming one of
// SessionDefaults' keys (the configuration names the field by it).
func TestSessionDefaults(t *testing.T) {
	dt, ot := reflect.TypeOf(SessionDefaults{}), reflect.TypeOf(PeerOptions{})
	keys := map[string]bool{}
	for i := 0; i < dt.NumField(); i++ {
		key, _, _ := strings.Cut(dt.Field(i).Tag.Get("json"), ",")
		keys[key] = true
	}
	for i := 0; i < dt.NumField(); i++ {
		f := dt.Field(i)
		of, ok := ot.FieldByName(f.Name)
		if !ok || of.Type != f.Type || of.Tag.Get("json") != f.Tag.Get("json") {
			t.Errorf("SessionDefaults.%s is not a PeerOptions field of its type and JSON key", f.Name)
			continue
		}
		if f.Type.Kind() != reflect.Int {
			t.Errorf("SessionDefaults.%s: a %s, which this test does not set", f.Name, f.Type)
			continue
		}
		for _, v := range []int64{-1, 1, 2, 3, 255, 70000} {
			var d SessionDefaults
			reflect.ValueOf(&d).Elem().Field(i).SetInt(v)
			if got := reflect.ValueOf(d.Options()).FieldByName(f.Name).Int(); got != v {
				t.Errorf("Options of %s %d: %d", f.Name, v, got)
			}
			for _, err := range d.Check() {
				var oe *OptionError
				if !errors.As(err, &oe) || !keys[oe.Key] {
					t.Errorf("%s %d: %v is not an OptionError naming a key of SessionDefaults", f.Name, v, err)
				}
			}
		}
	}
	// Both timers wrong: both reported, by key.
	errs := SessionDefaults{Keepalive: 5, Hold: 2}.Check()
	var hold, ka *OptionError
	if len(errs) != 2 || !errors.As(errs[0], &hold) || !errors.As(errs[1], &ka) || hold.Key != "hold" || hold.Value != 2 || ka.Key != "keepalive" || ka.Value != 5 {
		t.Fatalf("Check: %v", errs)
	}
	if errs := (SessionDefaults{Keepalive: 3, Hold: 9}).Check(); len(errs) != 0 {
		t.Errorf("3/9 refused: %v", errs)
	}
}

// mixOption is a with option opt as b sets it (a new option needs its
// case here).
func mixOption(a, b PeerOptions, opt PeerOption) PeerOptions {
	switch opt {
	case OptionPassword:
		a.Password = b.Password
	case OptionMaxPrefix:
		a.MaxPrefix = b.MaxPrefix
	case OptionTimers:
		a.Keepalive, a.Hold = b.Keepalive, b.Hold
	case OptionGracefulRestart:
		a.GracefulRestart = b.GracefulRestart
	case OptionTTLSecurity:
		a.TTLSecurityHops = b.TTLSecurityHops
	}
	return a
}

func optionNames(opts []PeerOption) []string {
	var out []string
	for _, o := range opts {
		out = append(out, string(o))
	}
	return out
}
