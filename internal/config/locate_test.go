package config

import (
	"reflect"
	"testing"

	yamlv3 "go.yaml.in/yaml/v3"
)

// TestShapeOfEmbeddedStruct: the keys of a struct embedded without a JSON
// name are the outer struct's own, as encoding/json decodes them, so the
// shape check neither calls them unknown nor lets a wrong type through.
func TestShapeOfEmbeddedStruct(t *testing.T) {
	type Inner struct {
		Hold int `json:"hold,omitempty"`
		Name string
	}
	type Outer struct {
		Name string `json:"name"`
		Inner
		Named Inner `json:"named"`
	}
	for _, tc := range []struct {
		doc  string
		want []string
	}{
		{"hold: 9\nname: x", nil},
		{"HOLD: 9", nil},
		{"named: {hold: 9}", nil},
		{"hold: nine", []string{`hold: the string "nine", want an integer`}},
		{"holdd: 9", []string{"holdd: unknown field"}},
		{"inner: {hold: 9}", []string{"inner: unknown field"}},
	} {
		var n yamlv3.Node
		if err := yamlv3.Unmarshal([]byte(tc.doc), &n); err != nil {
			t.Fatal(err)
		}
		var out []locatedProblem
		walkShape(n.Content[0], reflect.TypeOf(Outer{}), "", &out)
		var got []string
		for _, p := range out {
			got = append(got, p.problem)
		}
		if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
			t.Errorf("%q: %q, want %q", tc.doc, got, tc.want)
		}
	}
	// The outer field shadows the inner one of its name.
	if f, ok := fieldByKey(reflect.TypeOf(Outer{}), "name"); !ok || f.Type != reflect.TypeOf("") || f.Tag.Get("json") != "name" {
		t.Errorf("name: %+v", f)
	}
}
