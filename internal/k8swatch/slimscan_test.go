package k8swatch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/fabric-reconciler/fabric-reconciler/test/gen"
	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

// slimDecoders pairs each direct decoder with a zero value for
// encoding/json to decode into.
var slimDecoders = []struct {
	kind string
	scan func(raw []byte) (any, bool)
	std  func(raw []byte) (any, error)
}{
	{"Service",
		func(raw []byte) (any, bool) { s := new(slimService); return s, scanService(raw, s) },
		func(raw []byte) (any, error) { s := new(slimService); return s, json.Unmarshal(raw, s) }},
	{"EndpointSlice",
		func(raw []byte) (any, bool) { s := new(slimEndpointSlice); return s, scanEndpointSlice(raw, s) },
		func(raw []byte) (any, error) { s := new(slimEndpointSlice); return s, json.Unmarshal(raw, s) }},
	{"Node",
		func(raw []byte) (any, bool) { s := new(slimNode); return s, scanNode(raw, s) },
		func(raw []byte) (any, error) { s := new(slimNode); return s, json.Unmarshal(raw, s) }},
}

// agree checks that where a direct decoder accepts valid JSON, encoding/json
// accepts it too and decodes the very same value.
func agree(t *testing.T, raw []byte) (accepted []string) {
	t.Helper()
	if !json.Valid(raw) {
		return nil
	}
	for _, d := range slimDecoders {
		got, ok := d.scan(raw)
		if !ok {
			continue
		}
		accepted = append(accepted, d.kind)
		want, err := d.std(raw)
		if err != nil {
			t.Fatalf("%s: the direct decoder accepts what encoding/json refuses (%v):\n%s", d.kind, err, raw)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: the direct decoder and encoding/json differ:\n%s\ndirect: %+v\njson:   %+v", d.kind, raw, got, want)
		}
	}
	return accepted
}

// exampleObjects is every object of the reference lab's cluster as JSON.
func exampleObjects(t testing.TB) [][]byte {
	var out [][]byte
	for _, p := range []string{"services.yaml", "endpointslices.yaml", "nodes.yaml"} {
		b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "examples", "haystack", "cluster", p))
		if err != nil {
			t.Fatal(err)
		}
		r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
		for {
			doc, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			js, err := yaml.YAMLToJSON(doc)
			if err != nil {
				t.Fatal(err)
			}
			var list struct {
				Items []json.RawMessage `json:"items"`
			}
			if json.Unmarshal(js, &list) == nil && list.Items != nil {
				for _, it := range list.Items {
					out = append(out, it)
				}
				continue
			}
			out = append(out, js)
		}
	}
	return out
}

func TestSlimScanAgreesWithEncodingJSON(t *testing.T) {
	objs := exampleObjects(t)
	// And a synthetic cluster's, as `kubectl get -o json` lists them.
	clusterDir, _, err := gen.Write(t.TempDir(), gen.Sizes[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"services.json", "endpointslices.json", "nodes.json"} {
		b, err := os.ReadFile(filepath.Join(clusterDir, p))
		if err != nil {
			t.Fatal(err)
		}
		var list struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(b, &list); err != nil {
			t.Fatal(err)
		}
		for _, it := range list.Items {
			objs = append(objs, it)
		}
	}
	if len(objs) < 500 {
		t.Fatalf("only %d example objects", len(objs))
	}
	kinds := map[string]int{}
	for _, raw := range objs {
		for _, k := range agree(t, raw) {
			kinds[k]++
		}
	}
	// The direct path must take the ordinary objects, or it saves nothing.
	for _, k := range []string{"Service", "EndpointSlice", "Node"} {
		if kinds[k] == 0 {
			t.Errorf("no example %s took the direct path: %v", k, kinds)
		}
	}
}

// Input only encoding/json decodes exactly: the direct decoders hand it over.
func TestSlimScanHandsOver(t *testing.T) {
	tests := []struct{ name, raw string }{
		{"key differing in case", `{"metadata":{"name":"a"},"Spec":{"type":"LoadBalancer"}}`},
		{"key folding through a long s", `{"metadata":{"name":"a"},"spec":{"type":"LoadBalancer","port` + "\u017f" + `":[{"port":1}]}}`},
		{"known key twice", `{"metadata":{"name":"a","name":"b"}}`},
		{"escaped string", `{"metadata":{"name":"a\u0062"}}`},
		{"escaped key", `{"metad\u0061ta":{"name":"a"}}`},
		{"port with a fraction", `{"spec":{"ports":[{"port":80.0}]}}`},
		{"port with an exponent", `{"spec":{"ports":[{"port":8e1}]}}`},
		{"port out of range", `{"spec":{"ports":[{"port":2147483648}]}}`},
		{"port as a string", `{"spec":{"ports":[{"port":"80"}]}}`},
		{"null label value", `{"metadata":{"name":"a","labels":{"x":null}}}`},
		{"number for a name", `{"metadata":{"name":1}}`},
		{"bad timestamp", `{"metadata":{"name":"a","creationTimestamp":"yesterday"}}`},
		{"not an object", `["metadata"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(tt.raw)
			if !json.Valid(raw) {
				t.Fatalf("test bug: invalid JSON %s", raw)
			}
			if ok := scanService(raw, new(slimService)); ok {
				t.Errorf("the direct decoder took %s", raw)
			}
			agree(t, raw)
		})
	}
}

// FuzzSlimScan: wherever a direct decoder accepts valid JSON, encoding/json
// decodes the same value.
func FuzzSlimScan(f *testing.F) {
	for _, raw := range exampleObjects(f) {
		f.Add(raw)
	}
	f.Add([]byte(`{"metadata":{"name":"a","labels":{},"annotations":null,"creationTimestamp":null},"spec":{"ports":[null,{"port":-0}],"podCIDRs":[null,"10.0.0.0/24"]},"status":{"addresses":[],"loadBalancer":null},"endpoints":[{"nodeName":null,"conditions":{"ready":null}}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		agree(t, raw)
	})
}

// stringEndByBytes is the scanner's first stringEnd: it steps over each
// backslash and the byte after it.
func stringEndByBytes(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// Every string of up to 9 bytes over a, backslash and quote: the jumping
// stringEnd ends where stepping byte by byte does.
func TestStringEndAgrees(t *testing.T) {
	alphabet := []byte{'a', '\\', '"'}
	var walk func(b []byte)
	walk = func(b []byte) {
		data := append([]byte{'"'}, b...)
		if got, want := stringEnd(data, 0), stringEndByBytes(data, 0); got != want {
			t.Fatalf("stringEnd(%q) = %d, want %d", data, got, want)
		}
		if len(b) == 9 {
			return
		}
		for _, c := range alphabet {
			walk(append(b, c))
		}
	}
	walk(nil)
}

// plainName accepts only names the validation package accepts, and the
// ordinary ones.
func TestPlainNameIsASubsetOfValid(t *testing.T) {
	long := func(n int) string { return string(bytes.Repeat([]byte{'a'}, n)) }
	names := []string{"", "a", "web", "web-1", "1web", "-a", "a-", "a.b", "a..b", ".a", "a.", "A", "a_b", "a b",
		"kube-system", "k8c1s1.example.net", "node-1.rack-2", long(63), long(64), long(253), long(63) + "." + long(63), "ä"}
	for _, kind := range []string{"Service", "Namespace", "Node"} {
		for _, name := range names {
			plain := plainName(kind, name)
			var valid bool
			switch kind {
			case "Service":
				valid = len(validation.IsDNS1035Label(name)) == 0
			case "Namespace":
				valid = len(validation.IsDNS1123Label(name)) == 0
			default:
				valid = len(validation.IsDNS1123Subdomain(name)) == 0
			}
			if plain && !valid {
				t.Errorf("%s %q: plainName accepts what validation refuses", kind, name)
			}
			if valid != plain && len(name) < 60 && !bytes.ContainsAny([]byte(name), ".") {
				t.Errorf("%s %q: valid %v, plainName %v: an ordinary name takes the slow path", kind, name, valid, plain)
			}
		}
	}
}
