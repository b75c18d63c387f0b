package controller

import (
	"net/netip"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
	"github.com/fabric-reconciler/fabric-reconciler/internal/k8swatch"
	"github.com/fabric-reconciler/fabric-reconciler/internal/reconciler"
)

// refs answers for the objects it knows.
type refs map[string]bool

func (r refs) Reference(kind, ns, name string) (corev1.ObjectReference, bool) {
	key := kind + "/" + ns + "/" + name
	if !r[key] {
		return corev1.ObjectReference{}, false
	}
	return corev1.ObjectReference{Kind: kind, Namespace: ns, Name: name}, true
}

func drain(rec *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			sort.Strings(out)
			return out
		}
	}
}

func TestEvents(t *testing.T) {
	cluster := k8swatch.ClusterState{
		Nodes: []k8swatch.Node{{Name: "n1", BGP: k8swatch.NodeBGP{IPv4Address: netip.MustParsePrefix("192.0.2.1/24")}}},
		Services: []k8swatch.Service{
			{Namespace: "shop", Name: "web", IPs: []netip.Addr{netip.MustParseAddr("198.51.100.7")}},
			{Namespace: "shop", Name: "gone", IPs: []netip.Addr{netip.MustParseAddr("198.51.100.8")}},
		},
	}
	known := refs{"Node//n1": true, "Service/shop/web": true}
	webSubnet := fabric.ExternalSubnet{Group: "EPG_WEB", Prefix: "198.51.100.7/32", Scopes: []fabric.Scope{fabric.ScopeImportSecurity}}
	tests := []struct {
		name  string
		round reconciler.Round
		want  []string
	}{
		{"peer created: event on its node", reconciler.Round{Outcome: reconciler.Outcome{Fabric: "f", Stage: reconciler.StageDone,
			Result: fabric.ApplyResult{Applied: []fabric.Change{{Action: fabric.ActionCreate, Kind: fabric.KindBGPPeer, Switch: "leaf1", ID: "192.0.2.1",
				After: fabric.BGPPeer{Switch: "leaf1", Node: "n1", PeerAddress: "192.0.2.1"}}}}}},
			[]string{"Normal FabricObjectCreated fabric f: created BGPPeer leaf1/192.0.2.1"}},
		{"LB subnet and its contract updated: events on the service", reconciler.Round{Outcome: reconciler.Outcome{Fabric: "f", Stage: reconciler.StageDone,
			Result: fabric.ApplyResult{Applied: []fabric.Change{
				{Action: fabric.ActionUpdate, Kind: fabric.KindExternalSubnet, ID: webSubnet.ID(), Before: webSubnet, After: webSubnet},
				{Action: fabric.ActionUpdate, Kind: fabric.KindContract, ID: "CNT_WEB", After: fabric.Contract{Name: "CNT_WEB", Provider: "EPG_WEB"}},
			}}, Plan: fabric.Changeset{Changes: []fabric.Change{{Action: fabric.ActionUpdate, Kind: fabric.KindExternalSubnet, ID: webSubnet.ID(), After: webSubnet}}}}},
			[]string{"Normal FabricObjectUpdated fabric f: updated Contract CNT_WEB", "Normal FabricObjectUpdated fabric f: updated ExternalSubnet EPG_WEB/198.51.100.7/32"}},
		{"fabric-wide objects and deleted services: no event", reconciler.Round{Outcome: reconciler.Outcome{Fabric: "f", Stage: reconciler.StageDone,
			Result: fabric.ApplyResult{Applied: []fabric.Change{
				{Action: fabric.ActionCreate, Kind: fabric.KindMaximumPaths, ID: "ipv4", After: fabric.MaximumPaths{AddressFamily: fabric.IPv4, Paths: 3}},
				{Action: fabric.ActionCreate, Kind: fabric.KindExternalSubnet, ID: "EPG_PODS/10.0.0.0/16", After: fabric.ExternalSubnet{Group: "EPG_PODS", Prefix: "10.0.0.0/16"}},
				{Action: fabric.ActionDelete, Kind: fabric.KindExternalSubnet, ID: "EPG_GONE/198.51.100.8/32", Before: fabric.ExternalSubnet{Group: "EPG_GONE", Prefix: "198.51.100.8/32"}},
			}}}},
			nil},
		{"conflicts: a warning on the object they block", reconciler.Round{Outcome: reconciler.Outcome{Fabric: "f", Stage: reconciler.StageDone,
			Plan: fabric.Changeset{Conflicts: []fabric.Conflict{
				{Kind: fabric.KindBGPPeer, Switch: "leaf1", ID: "192.0.2.1", Reason: "in the way"},
				{Kind: fabric.KindExternalSubnet, ID: "L3O_X/EPG_WEB/198.51.100.7/32", Reason: "in the way"},
			}}}},
			[]string{"Warning FabricConflict fabric f: BGPPeer leaf1/192.0.2.1: in the way", "Warning FabricConflict fabric f: ExternalSubnet L3O_X/EPG_WEB/198.51.100.7/32: in the way"}},
		{"the same conflicts again: no repeat", reconciler.Round{Outcome: reconciler.Outcome{Fabric: "f", Stage: reconciler.StageDone,
			Plan: fabric.Changeset{Conflicts: []fabric.Conflict{
				{Kind: fabric.KindBGPPeer, Switch: "leaf1", ID: "192.0.2.1", Reason: "in the way"},
			}}}},
			nil},
		{"a refused plan: a warning on the lease", reconciler.Round{Outcome: reconciler.Outcome{Fabric: "f", Stage: reconciler.StageGuard,
			Plan: fabric.Changeset{Refused: "it would delete 9 of the 12 objects"}}},
			[]string{"Warning FabricPlanRefused fabric f: plan refused, nothing applied: it would delete 9 of the 12 objects"}},
		{"refused again for the same reason: no repeat", reconciler.Round{Outcome: reconciler.Outcome{Fabric: "f", Stage: reconciler.StageGuard,
			Plan: fabric.Changeset{Refused: "it would delete 9 of the 12 objects"}}},
			nil},
	}
	rec := record.NewFakeRecorder(100)
	ev := newEventer(rec, known, nil, corev1.ObjectReference{Kind: "Lease", Namespace: "fabric-reconciler", Name: "fabric-reconciler"})
	for _, tt := range tests {
		tt.round.Cluster = cluster
		ev.Reconciled(tt.round)
		got := drain(rec)
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestPodNamespace(t *testing.T) {
	t.Setenv("POD_NAMESPACE", "net-ops")
	if got := PodNamespace(); got != "net-ops" {
		t.Errorf("PodNamespace() = %q with POD_NAMESPACE set", got)
	}
}
