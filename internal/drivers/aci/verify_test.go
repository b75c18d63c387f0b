package aci

import "testing"

func TestNodeDN(t *testing.T) {
	for in, want := range map[string]string{
		"topology/pod-1/paths-201/pathep-[eth1/33]":             "topology/pod-1/node-201",
		"topology/pod-2/protpaths-301-302/pathep-[VPC_K8S_IPG]": "topology/pod-2/node-301",
	} {
		if got, err := nodeDN(in); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", in, got, err, want)
		}
	}
	if _, err := nodeDN("uni/tn-x"); err == nil {
		t.Error("a DN without a leaf gave a node")
	}
}
