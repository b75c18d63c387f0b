package k8swatch

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// stateFrom builds a ClusterState from YAML documents.
func stateFrom(t testing.TB, docs ...string) ClusterState {
	t.Helper()
	b := NewBuilder()
	if err := b.AddDocuments("test.yaml", []byte(strings.Join(docs, "\n---\n"))); err != nil {
		t.Fatal(err)
	}
	return b.Build()
}

func calicoNode(name, v4, v6, asn string, labels ...string) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "apiVersion: projectcalico.org/v3\nkind: Node\nmetadata:\n  name: %s\n", name)
	if len(labels) > 0 {
		sb.WriteString("  labels:\n")
		for i := 0; i+1 < len(labels); i += 2 {
			fmt.Fprintf(&sb, "    %s: %q\n", labels[i], labels[i+1])
		}
	}
	sb.WriteString("spec:\n  bgp:\n")
	if v4 != "" {
		fmt.Fprintf(&sb, "    ipv4Address: %s\n", v4)
	}
	if v6 != "" {
		fmt.Fprintf(&sb, "    ipv6Address: %s\n", v6)
	}
	if asn != "" {
		fmt.Fprintf(&sb, "    asNumber: %s\n", asn)
	}
	return sb.String()
}

func bgpPeer(name, spec string) string {
	return fmt.Sprintf("apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: %s\nspec:\n%s", name, spec)
}

// sessions renders resolved peers as "node>peerIP asNodeASN/asPeerASN".
func sessions(peers []NodePeer) []string {
	var out []string
	for _, p := range peers {
		out = append(out, fmt.Sprintf("%s>%s as%d/as%d", p.Node, p.PeerIP, p.NodeASN, p.PeerASN))
	}
	sort.Strings(out)
	return out
}

func TestResolvePeers(t *testing.T) {
	rack := []string{
		calicoNode("n1", "10.0.0.1/24", "", "65001", "rack", "a", "rr", "true"),
		calicoNode("n2", "10.0.0.2/24", "", "65002", "rack", "b"),
		calicoNode("n3", "10.0.0.3/24", "", "", "rack", "a"),
	}
	tests := []struct {
		name     string
		docs     []string
		want     []string
		problems []string // substrings, one per problem
	}{
		{
			name: "node: applies to that node only",
			docs: append(rack, bgpPeer("p", "  peerIP: 10.0.0.254\n  asNumber: 65500\n  node: n2\n")),
			want: []string{"n2>10.0.0.254 as65002/as65500"},
		},
		{
			name: "nodeSelector: applies to matching nodes",
			docs: append(rack, bgpPeer("p", "  peerIP: 10.0.0.254\n  asNumber: 65500\n  nodeSelector: rack == 'a'\n")),
			want: []string{"n1>10.0.0.254 as65001/as65500", "n3>10.0.0.254 as64512/as65500"},
		},
		{
			name: "nodeSelector with && and has()",
			docs: append(rack, bgpPeer("p", "  peerIP: 10.0.0.254\n  asNumber: 65500\n  nodeSelector: rack == 'a' && !has(rr)\n")),
			want: []string{"n3>10.0.0.254 as64512/as65500"},
		},
		{
			name: "nodeSelector matching nothing: no peers, no problem",
			docs: append(rack, bgpPeer("p", "  peerIP: 10.0.0.254\n  asNumber: 65500\n  nodeSelector: rack == 'z'\n")),
		},
		{
			name: "neither node nor nodeSelector: global, every node",
			docs: append(rack, bgpPeer("p", "  peerIP: 10.0.0.254\n  asNumber: 65500\n")),
			want: []string{"n1>10.0.0.254 as65001/as65500", "n2>10.0.0.254 as65002/as65500", "n3>10.0.0.254 as64512/as65500"},
		},
		{
			name: "all() selects every node",
			docs: append(rack, bgpPeer("p", "  peerIP: 10.0.0.254\n  asNumber: 65500\n  nodeSelector: all()\n")),
			want: []string{"n1>10.0.0.254 as65001/as65500", "n2>10.0.0.254 as65002/as65500", "n3>10.0.0.254 as64512/as65500"},
		},
		{
			name: "peerSelector peers are node-to-node, not fabric peers",
			docs: append(rack, bgpPeer("rr", "  nodeSelector: '!has(rr)'\n  peerSelector: has(rr)\n")),
		},
		{
			name: "node ASN falls back to BGPConfiguration default",
			docs: append(rack, bgpPeer("p", "  peerIP: 10.0.0.254\n  asNumber: 65500\n  node: n3\n"),
				"apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  asNumber: 64600\n"),
			want: []string{"n3>10.0.0.254 as64600/as65500"},
		},
		{
			name: "per-node BGPConfiguration does not change the global AS",
			docs: append(rack, bgpPeer("p", "  peerIP: 10.0.0.254\n  asNumber: 65500\n  node: n3\n"),
				"apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: node.n3\nspec:\n  logSeverityScreen: Debug\n"),
			want: []string{"n3>10.0.0.254 as64512/as65500"},
		},
		{
			name: "node's own ASN beats the global one",
			docs: append(rack, bgpPeer("p", "  peerIP: 10.0.0.254\n  asNumber: 65500\n  node: n1\n"),
				"apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: default\nspec:\n  asNumber: 64600\n"),
			want: []string{"n1>10.0.0.254 as65001/as65500"},
		},
		{
			name: "asdot ASN",
			docs: []string{calicoNode("n1", "10.0.0.1/24", "", `"1.10"`), bgpPeer("p", "  peerIP: 10.0.0.254\n  asNumber: 65500\n")},
			want: []string{"n1>10.0.0.254 as65546/as65500"},
		},
		{
			name: "IPv4 and IPv6 are separate peers",
			docs: []string{calicoNode("d", "10.0.0.1/24", "2001:db8::1/64", "65001"),
				bgpPeer("v4", "  peerIP: 10.0.0.254\n  asNumber: 65500\n"),
				bgpPeer("v6", "  peerIP: 2001:db8::fe\n  asNumber: 65500\n")},
			want: []string{"d>10.0.0.254 as65001/as65500", "d>2001:db8::fe as65001/as65500"},
		},
		{
			name: "IPv6 peer for an IPv4-only node: no session",
			docs: []string{calicoNode("n1", "10.0.0.1/24", "", "65001"), bgpPeer("v6", "  peerIP: 2001:db8::fe\n  asNumber: 65500\n")},
		},
		{
			name: "node without a BGP address gets no peers",
			docs: []string{"apiVersion: v1\nkind: Node\nmetadata:\n  name: plain\n", calicoNode("n1", "10.0.0.1/24", "", "65001"),
				bgpPeer("p", "  peerIP: 10.0.0.254\n  asNumber: 65500\n")},
			want: []string{"n1>10.0.0.254 as65001/as65500"},
		},
		{
			name: "a node does not peer with its own address",
			docs: append(rack, bgpPeer("p", "  peerIP: 10.0.0.2\n  asNumber: 65500\n")),
			want: []string{"n1>10.0.0.2 as65001/as65500", "n3>10.0.0.2 as64512/as65500"},
		},
		{
			name: "peerIP with a port",
			docs: append(rack, bgpPeer("p", "  peerIP: 10.0.0.254:1179\n  asNumber: 65500\n  node: n1\n")),
			want: []string{"n1>10.0.0.254 as65001/as65500"},
		},
		{
			name:     "BGPPeer naming a missing node is reported",
			docs:     append(rack, bgpPeer("ghost", "  peerIP: 10.0.0.254\n  asNumber: 65500\n  node: n9\n")),
			problems: []string{`BGPPeer/ghost: spec.node "n9" names a node that does not exist`},
		},
		{
			name: "same peer IP twice with different AS: first by name wins, second reported",
			docs: append(rack, bgpPeer("a-peer", "  peerIP: 10.0.0.254\n  asNumber: 65500\n  node: n1\n"),
				bgpPeer("b-peer", "  peerIP: 10.0.0.254\n  asNumber: 65501\n  nodeSelector: rack == 'a'\n")),
			want:     []string{"n1>10.0.0.254 as65001/as65500", "n3>10.0.0.254 as64512/as65501"},
			problems: []string{"BGPPeer/b-peer: gives node n1 peer 10.0.0.254 with AS 65501, but BGPPeer a-peer already gives it AS 65500"},
		},
		{
			name: "same peer IP twice with the same AS: one session, no problem",
			docs: append(rack, bgpPeer("a", "  peerIP: 10.0.0.254\n  asNumber: 65500\n  node: n1\n"),
				bgpPeer("b", "  peerIP: 10.0.0.254\n  asNumber: 65500\n")),
			want: []string{"n1>10.0.0.254 as65001/as65500", "n2>10.0.0.254 as65002/as65500", "n3>10.0.0.254 as64512/as65500"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := stateFrom(t, tt.docs...)
			if len(cs.Problems) > 0 {
				t.Fatalf("unexpected load problems: %v", cs.Problems)
			}
			peers, problems := cs.ResolvePeers()
			if got := sessions(peers); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("sessions:\n got %v\nwant %v", got, tt.want)
			}
			if len(problems) != len(tt.problems) {
				t.Fatalf("problems: got %v, want %d like %v", problems, len(tt.problems), tt.problems)
			}
			for i, p := range problems {
				if !strings.Contains(p.String(), tt.problems[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, p.String(), tt.problems[i])
				}
			}
		})
	}
}

func TestInvalidBGPPeersAreProblems(t *testing.T) {
	tests := []struct {
		name, spec, want string
	}{
		{"node and nodeSelector", "  peerIP: 10.0.0.254\n  asNumber: 65500\n  node: n1\n  nodeSelector: all()\n", "cannot both be set"},
		{"peerIP and peerSelector", "  peerIP: 10.0.0.254\n  asNumber: 65500\n  peerSelector: all()\n", "cannot both be set"},
		{"neither peerIP nor peerSelector", "  asNumber: 65500\n", "spec.peerIP or spec.peerSelector is required"},
		{"bad selector", "  peerIP: 10.0.0.254\n  asNumber: 65500\n  nodeSelector: rack = 'a'\n", "spec.nodeSelector"},
		{"bad peerIP", "  peerIP: 10.0.0.256\n  asNumber: 65500\n", "spec.peerIP"},
		{"ASN 0", "  peerIP: 10.0.0.254\n  asNumber: 0\n", "AS number 0 is reserved"},
		{"ASN too large", "  peerIP: 10.0.0.254\n  asNumber: 4294967296\n", "is not 1-4294967295"},
		{"ASN garbage", "  peerIP: 10.0.0.254\n  asNumber: \"65.5.5\"\n", "is not 1-4294967295"},
		{"missing ASN", "  peerIP: 10.0.0.254\n", "spec.asNumber is required"},
		{"node name with newline", "  peerIP: 10.0.0.254\n  asNumber: 65500\n  node: \"n1\\nrouter bgp 1\"\n", "invalid Node name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := stateFrom(t, calicoNode("n1", "10.0.0.1/24", "", "65001"), bgpPeer("bad", tt.spec), bgpPeer("good", "  peerIP: 10.0.0.253\n  asNumber: 65500\n"))
			if len(cs.Problems) != 1 || cs.Problems[0].Object != "BGPPeer/bad" || !strings.Contains(cs.Problems[0].Reason, tt.want) {
				t.Fatalf("problems = %v, want one for BGPPeer/bad containing %q", cs.Problems, tt.want)
			}
			if !strings.Contains(cs.Problems[0].Source, "test.yaml") {
				t.Errorf("problem does not name its file: %+v", cs.Problems[0])
			}
			peers, _ := cs.ResolvePeers()
			if got := sessions(peers); len(got) != 1 || got[0] != "n1>10.0.0.253 as65001/as65500" {
				t.Errorf("the good peer must still apply, got %v", got)
			}
		})
	}
}
