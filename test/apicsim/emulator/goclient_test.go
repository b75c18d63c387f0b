package emulator

import (
	"io"
	"log"
	"testing"

	"github.com/ciscoecosystem/aci-go-client/v2/client"
	"github.com/ciscoecosystem/aci-go-client/v2/models"
)

// TestGoClientHelpers drives the emulator with aci-go-client's typed helpers,
// unchanged: each is one POST of one object with status "created, modified"
// to /api/mo.json, then a GET of its DN.
func TestGoClientHelpers(t *testing.T) {
	log.SetOutput(io.Discard) // the client logs every request
	srv, _ := lab(t, Options{})
	c := client.NewClient(srv.URL, "admin", client.Password(pw), client.Insecure(true), client.SkipLoggingPayload(true), client.MoURL("/api/mo"))
	const tenant, l3out = "TEN_GO", "L3O_GO"

	if _, err := c.CreateTenant(tenant, "made by aci-go-client", models.TenantAttributes{Annotation: "orchestrator:terraform"}); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if _, err := c.CreateVRF("VRF_GO", tenant, "", models.VRFAttributes{}); err != nil {
		t.Fatalf("CreateVRF: %v", err)
	}
	if _, err := c.CreateL3Outside(l3out, tenant, "", models.L3OutsideAttributes{}); err != nil {
		t.Fatalf("CreateL3Outside: %v", err)
	}
	if _, err := c.CreateLogicalNodeProfile("NP", l3out, tenant, "", models.LogicalNodeProfileAttributes{}); err != nil {
		t.Fatalf("CreateLogicalNodeProfile: %v", err)
	}
	if _, err := c.CreateExternalNetworkInstanceProfile("EPG_GO", l3out, tenant, "", models.ExternalNetworkInstanceProfileAttributes{}); err != nil {
		t.Fatalf("CreateExternalNetworkInstanceProfile: %v", err)
	}
	if _, err := c.CreateL3ExtSubnet("10.20.0.0/16", "EPG_GO", l3out, tenant, "", models.L3ExtSubnetAttributes{Scope: "import-security,export-rtctrl",
		Annotation: "orchestrator:terraform"}); err != nil {
		t.Fatalf("CreateL3ExtSubnet: %v", err)
	}
	if _, err := c.CreateBgpPeerConnectivityProfile("10.9.9.9", "NP", l3out, tenant, "", models.BgpPeerConnectivityProfileAttributes{Ttl: "3"}); err != nil {
		t.Fatalf("CreateBgpPeerConnectivityProfile: %v", err)
	}
	if _, err := c.CreateBGPAddressFamilyContextPolicy("ECMP_GO", tenant, "", models.BGPAddressFamilyContextPolicyAttributes{MaxEcmp: "8"}); err != nil {
		t.Fatalf("CreateBGPAddressFamilyContextPolicy: %v", err)
	}
	if _, err := c.CreateContract("CNT_GO", tenant, "", models.ContractAttributes{Scope: "tenant"}); err != nil {
		t.Fatalf("CreateContract: %v", err)
	}
	if _, err := c.CreateFilter("FLT_GO", tenant, "", models.FilterAttributes{}); err != nil {
		t.Fatalf("CreateFilter: %v", err)
	}
	if _, err := c.CreateFilterEntry("https", "FLT_GO", tenant, "", models.FilterEntryAttributes{EtherT: "ip", Prot: "tcp", DFromPort: "443", DToPort: "443"}); err != nil {
		t.Fatalf("CreateFilterEntry: %v", err)
	}
	// Creating again is an upsert, as on an APIC.
	if _, err := c.CreateL3ExtSubnet("10.20.0.0/16", "EPG_GO", l3out, tenant, "", models.L3ExtSubnetAttributes{Scope: "import-security"}); err != nil {
		t.Fatalf("CreateL3ExtSubnet again: %v", err)
	}

	sn, err := c.ReadL3ExtSubnet("10.20.0.0/16", "EPG_GO", l3out, tenant)
	if err != nil || sn.Scope != "import-security" || sn.Annotation != "orchestrator:terraform" {
		t.Fatalf("ReadL3ExtSubnet: %+v, %v", sn, err)
	}
	pol, err := c.ReadBGPAddressFamilyContextPolicy("ECMP_GO", tenant)
	if err != nil || pol.MaxEcmp != "8" || pol.MaxEcmpIbgp != "16" || pol.EDist != "20" {
		t.Fatalf("ReadBGPAddressFamilyContextPolicy: %+v, %v", pol, err)
	}
	ent, err := c.ReadFilterEntry("https", "FLT_GO", tenant)
	if err != nil || ent.DFromPort != "https" || ent.Prot != "tcp" {
		t.Fatalf("ReadFilterEntry: %+v, %v", ent, err)
	}
	ct, err := c.ReadContract("CNT_GO", tenant)
	if err != nil || ct.Scope != "tenant" {
		t.Fatalf("ReadContract: %+v, %v", ct, err)
	}
	cont, err := c.GetViaURL("/api/mo/uni/tn-" + tenant + ".json?query-target=subtree&target-subtree-class=l3extSubnet,bgpPeerP")
	if err != nil {
		t.Fatalf("GetViaURL: %v", err)
	}
	subnets := models.ListFromContainer(cont, "l3extSubnet")
	if n := models.G(cont, "totalCount"); n != "2" || models.G(subnets[0], "ip") != "10.20.0.0/16" {
		t.Fatalf("subtree query: totalCount %s, first %v; want 2, the subnet first", n, subnets[0])
	}
	if err := c.DeleteL3ExtSubnet("10.20.0.0/16", "EPG_GO", l3out, tenant); err != nil {
		t.Fatalf("DeleteL3ExtSubnet: %v", err)
	}
	if _, _, ok := srv.Lookup("uni/tn-" + tenant + "/out-" + l3out + "/instP-EPG_GO/extsubnet-[10.20.0.0/16]"); ok {
		t.Fatal("DeleteL3ExtSubnet left the subnet")
	}
	// The client's GET of a missing object is an error, as against an APIC.
	if _, err := c.ReadL3ExtSubnet("10.20.0.0/16", "EPG_GO", l3out, tenant); err == nil {
		t.Fatal("reading a deleted subnet succeeded")
	}
	if got := srv.Counters(); got.Logins != 1 {
		t.Errorf("the client logged in %d times, want once", got.Logins)
	}
}
