package aci

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// Service grouping: how LoadBalancer services share the external EPGs
// that classify their IPs and the contracts that open their ports.
//
//   - service (the default): one external EPG and one contract per
//     service, named by externalEPGs.service and contract.
//   - namespace: one per namespace.
//   - label:<key>: one per value of the Service label <key>. A service
//     without the label (or with an empty value) keeps its own EPG and
//     contract, named as under service: it is never put together with
//     services it was not grouped with by its owners, and never left out
//     (its IPs stay classified, its ports open). A value that is not a
//     Kubernetes label value is refused (the service is skipped, with the
//     reason): it could only come from crafted input, and it names an
//     APIC object.
//   - ports: one per set of ports (protocol and port): services that open
//     the same ports share an EPG and a contract, which then opens to each
//     of them exactly its own ports.
//
// A group's EPG holds every member's /32 (/128); its contract's filter
// holds the union of the members' ports. Under namespace and label
// grouping that union is opened towards every member's IPs: a member's
// port is reachable on another member's IP too (ACI contracts are between
// EPGs, not between single IPs). Under ports grouping nothing is widened.
//
// A service that shares its IPs with another (MetalLB allow-shared-ip)
// holds none itself and joins the group of the service holding them,
// whatever its own namespace, label or ports: an IP can be classified into
// one external EPG of a VRF only (aci-realism.md F6: "each subnet must be
// unique within its VRF"), so its ports must be in that EPG's contract.
// Under ports grouping the key is then the ports of the owner and its
// sharers together.
const (
	groupByService   = "service"
	groupByNamespace = "namespace"
	groupByLabel     = "label"
	groupByPorts     = "ports"
)

// grouping is a parsed serviceGrouping.
type grouping struct {
	mode     string
	labelKey string // with label
}

func (g grouping) String() string {
	if g.mode == groupByLabel {
		return groupByLabel + ":" + g.labelKey
	}
	return g.mode
}

// groupDefaults are the default name templates of a group's EPG and
// contract. Their fixed parts differ from the per-service defaults'
// (EPG_K8_APP_, CNT_K8_), so that a group never takes a per-service name
// by default; Desire checks it anyway.
var groupDefaults = map[string][2]string{
	groupByNamespace: {"EPG_K8_NS_{NAMESPACE}", "CNT_K8_NS_{NAMESPACE}"},
	groupByLabel:     {"EPG_K8_LBL_{label}", "CNT_K8_LBL_{label}"},
	groupByPorts:     {"EPG_K8_PORTS_{PORTS}", "CNT_K8_PORTS_{PORTS}"},
}

// groupPlaceholders are the placeholders a group's template may (and
// must, once) hold, per grouping. A label value is used as it is: label
// values are case-sensitive, so an upper-cased {LABEL} would give two
// values one name.
var groupPlaceholders = map[string][]string{
	groupByNamespace: {"{namespace}", "{NAMESPACE}"},
	groupByLabel:     {"{label}"},
	groupByPorts:     {"{ports}", "{PORTS}"},
}

var (
	groupTemplateRe    = regexp.MustCompile(`^([a-zA-Z0-9_.-]|\{[a-zA-Z]+\})+$`)
	groupPlaceholderRe = regexp.MustCompile(`\{[a-zA-Z]+\}`)
	// A Kubernetes label key: an optional DNS-subdomain prefix and '/', and
	// a name of at most 63 characters (Kubernetes "Labels and Selectors",
	// "Syntax and character set"; apimachinery validation.IsQualifiedName).
	labelNameRe   = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	labelPrefixRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	// A Kubernetes label value: at most 63 characters, empty or
	// alphanumerics at both ends with '-', '_', '.' between (ibid.,
	// validation.IsValidLabelValue). Every character is an ACI name
	// character.
	labelValueRe = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`)
)

// parseGrouping reads serviceGrouping.
func parseGrouping(s string) (grouping, error) {
	switch s {
	case "", groupByService:
		return grouping{mode: groupByService}, nil
	case groupByNamespace, groupByPorts:
		return grouping{mode: s}, nil
	}
	if key, ok := strings.CutPrefix(s, groupByLabel+":"); ok {
		if err := checkLabelKey(key); err != nil {
			return grouping{}, err
		}
		return grouping{mode: groupByLabel, labelKey: key}, nil
	}
	return grouping{}, fmt.Errorf("%s is not one of service, namespace, label:<key>, ports", printable(s))
}

func checkLabelKey(key string) error {
	name, prefix := key, ""
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		prefix, name = key[:i], key[i+1:]
		if prefix == "" || len(prefix) > 253 || !labelPrefixRe.MatchString(prefix) {
			return fmt.Errorf("label key %s: its prefix must be a DNS subdomain", printable(key))
		}
	}
	if len(name) > 63 || !labelNameRe.MatchString(name) {
		return fmt.Errorf("label key %s is not a Kubernetes label key (a name of at most 63 characters [A-Za-z0-9_.-], alphanumeric at both ends, with an optional DNS-subdomain prefix and '/')", printable(key))
	}
	return nil
}

// groupingOf returns a fabric's parsed grouping (config has checked it).
func groupingOf(a *Settings) grouping {
	g, err := parseGrouping(a.ServiceGrouping)
	if err != nil {
		return grouping{mode: groupByService}
	}
	return g
}

func (a *Settings) groupingDefaults() {
	if a.ServiceGrouping == "" {
		a.ServiceGrouping = groupByService
	}
	g, err := parseGrouping(a.ServiceGrouping)
	if err != nil || g.mode == groupByService {
		return
	}
	if a.ExternalEPGs.ServiceGroup == "" {
		a.ExternalEPGs.ServiceGroup = groupDefaults[g.mode][0]
	}
	if a.GroupContract == "" {
		a.GroupContract = groupDefaults[g.mode][1]
	}
}

func (a *Settings) validateGrouping(at string) []string {
	var errs []string
	g, err := parseGrouping(a.ServiceGrouping)
	if err != nil {
		return []string{fmt.Sprintf("%s.serviceGrouping: %v", at, err)}
	}
	templates := []struct{ field, v string }{{"externalEPGs.serviceGroup", a.ExternalEPGs.ServiceGroup}, {"groupContract", a.GroupContract}}
	if g.mode == groupByService {
		for _, t := range templates {
			if t.v != "" {
				errs = append(errs, fmt.Sprintf("%s.%s: used only with serviceGrouping namespace, label:<key> or ports (serviceGrouping is service)", at, t.field))
			}
		}
		return errs
	}
	for _, t := range templates {
		if err := checkGroupTemplate(g.mode, t.v); err != nil {
			errs = append(errs, fmt.Sprintf("%s.%s: %q %v", at, t.field, t.v, err))
		}
	}
	return errs
}

// checkGroupTemplate insists that a group's template holds exactly one
// placeholder, the one of its grouping, and ACI name characters around it:
// fixed text around one value that itself never maps two groups to one
// text gives two groups two names.
func checkGroupTemplate(mode, tmpl string) error {
	allowed := groupPlaceholders[mode]
	want := strings.Join(allowed, " or ")
	if !groupTemplateRe.MatchString(tmpl) {
		return fmt.Errorf("must be ACI name characters [a-zA-Z0-9_.-] with the placeholder %s", want)
	}
	found := groupPlaceholderRe.FindAllString(tmpl, -1)
	if len(found) != 1 || !contains(allowed, found[0]) {
		msg := fmt.Sprintf("must hold the placeholder %s exactly once and no other (serviceGrouping %s)", want, mode)
		if mode == groupByLabel && contains(found, "{LABEL}") {
			msg += "; {LABEL} is not offered: label values are case-sensitive, and upper-casing would give two values one name"
		}
		return errors.New(msg)
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// expandGroupTemplate fills a group's template with the group's value and
// makes the result a valid ACI name (aciName: cut and hashed when too
// long).
func expandGroupTemplate(tmpl, value string) (string, error) {
	r := strings.NewReplacer("{namespace}", value, "{NAMESPACE}", strings.ToUpper(value),
		"{label}", value, "{ports}", value, "{PORTS}", strings.ToUpper(value))
	return aciName(r.Replace(tmpl))
}

// portsValue is the {ports} text of a set of ports: its tcp and udp
// entries sorted and joined ("tcp80-tcp443-udp53"), "none" for none. Each
// entry is a protocol's letters and the port's digits, so the text names
// exactly one set.
func portsValue(entries []fabric.ContractEntry) string {
	if len(entries) == 0 {
		return "none"
	}
	parts := make([]string, len(entries))
	for i, e := range entries {
		parts[i] = e.Protocol + strconv.Itoa(e.Port)
	}
	return strings.Join(parts, "-")
}

// sortedEntries sorts and dedupes contract entries (protocol, then port).
func sortedEntries(in []fabric.ContractEntry) []fabric.ContractEntry {
	out := append([]fabric.ContractEntry(nil), in...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Protocol != out[j].Protocol {
			return out[i].Protocol < out[j].Protocol
		}
		return out[i].Port < out[j].Port
	})
	n := 0
	for i, e := range out {
		if i == 0 || e != out[n-1] {
			out[n] = e
			n++
		}
	}
	return out[:n]
}

// subnetAdder puts a subnet into a group, with its scope and sources.
type subnetAdder func(group string, p netip.Prefix, scope fabric.Scope, from []string)

// serviceObjects realizes the LoadBalancer services: their IPs as subnets
// of external EPGs, and contracts opening their ports to the consumers,
// per service or per group as serviceGrouping says.
func serviceObjects(a *Settings, in fabric.Intent, r *fabric.Realized, consumers []string, add subnetAdder) {
	if w := limitsWarning(a); w != "" {
		r.Warnings = append(r.Warnings, w)
	}
	if g := groupingOf(a); g.mode != groupByService {
		groupedServiceObjects(a, g, in, r, consumers, add)
		return
	}
	named := serviceNames(a, in, r)
	epgOf := map[string]string{} // service key -> its EPG
	for _, s := range named {
		epgOf[s.Key()] = s.epg
		for _, ip := range s.OwnIPs {
			add(s.epg, netip.PrefixFrom(ip, ip.BitLen()), fabric.ScopeImportSecurity, []string{"Service/" + s.Key()})
		}
	}
	for _, s := range named {
		provider := s.epg
		if len(s.OwnIPs) == 0 {
			provider = epgOf[s.SharesWith]
		}
		entries := contractEntries(in.Fabric, s.ServiceIntent, r)
		if provider == "" || len(entries) == 0 || (len(s.OwnIPs) == 0 && s.SharesWith == "") {
			continue
		}
		r.Add(fabric.Contract{Name: s.contract, Provider: provider, Consumers: consumers, Entries: entries}, "Service/"+s.Key())
	}
}

// contractEntries are a service's ports an ACI filter can match; the
// others are reported as skipped.
func contractEntries(fab string, s fabric.ServiceIntent, r *fabric.Realized) []fabric.ContractEntry {
	var entries []fabric.ContractEntry
	for _, p := range s.Ports {
		if !aciProtocols[p.Protocol] {
			if r != nil {
				r.Skipped = append(r.Skipped, fabric.Skip{Object: "Service/" + s.Key(),
					Reason: fmt.Sprintf("fabric %s: port %s: ACI filter entries match ports of tcp and udp only; that port is left out of the contract", fab, p)})
			}
			continue
		}
		entries = append(entries, p)
	}
	return entries
}

// serviceGroup is one group of services: an external EPG and a contract.
type serviceGroup struct {
	id            string // what the members share ("namespace/web", "label/blue", "ports/tcp80", "service/ns/name")
	epg, contract string
	members       []fabric.ServiceIntent
}

// groupedServiceObjects realizes the services under a grouping other than
// service (see the top of this file).
func groupedServiceObjects(a *Settings, g grouping, in fabric.Intent, r *fabric.Realized, consumers []string, add subnetAdder) {
	skip := func(key, reason string) {
		r.Skipped = append(r.Skipped, fabric.Skip{Object: "Service/" + key, Reason: fmt.Sprintf("fabric %s: %s", in.Fabric, reason)})
	}
	byKey := map[string]fabric.ServiceIntent{}
	sharers := map[string][]fabric.ServiceIntent{} // owner -> the services sharing its IPs
	for _, s := range in.Services {
		byKey[s.Key()] = s
		if len(s.OwnIPs) == 0 && s.SharesWith != "" {
			sharers[s.SharesWith] = append(sharers[s.SharesWith], s)
		}
	}

	// Each owner's group; a sharer joins its owner's.
	var order []*serviceGroup
	groups := map[string]*serviceGroup{}
	var unlabelled []string
	for _, s := range in.Services {
		if len(s.OwnIPs) == 0 && s.SharesWith != "" {
			if _, ok := byKey[s.SharesWith]; ok {
				continue // with its owner, below
			}
			continue // its owner is not planned: nothing to provide its ports on (as under service)
		}
		id, tmplEPG, tmplCnt, value := "", a.ExternalEPGs.ServiceGroup, a.GroupContract, ""
		perService := false
		switch g.mode {
		case groupByNamespace:
			value, id = s.Namespace, "namespace/"+s.Namespace
		case groupByLabel:
			v := s.Labels[g.labelKey]
			switch {
			case v == "":
				perService = true
				unlabelled = append(unlabelled, s.Key())
			case len(v) > 63 || !labelValueRe.MatchString(v):
				skip(s.Key(), fmt.Sprintf("label %s: %s is not a Kubernetes label value (at most 63 characters [A-Za-z0-9_.-], alphanumeric at both ends); no external EPG or contract is named after it",
					g.labelKey, printable(v)))
				continue
			default:
				value, id = v, "label/"+v
			}
		case groupByPorts:
			all := contractEntries(in.Fabric, s, nil)
			for _, sh := range sharers[s.Key()] {
				all = append(all, contractEntries(in.Fabric, sh, nil)...)
			}
			value = portsValue(sortedEntries(all))
			id = "ports/" + value
		}
		if perService {
			id = "service/" + s.Key()
		}
		grp := groups[id]
		if grp == nil {
			grp = &serviceGroup{id: id}
			var err error
			if perService {
				if grp.epg, err = expandTemplate(a.ExternalEPGs.Service, s.Namespace, s.Name); err == nil {
					grp.contract, err = expandTemplate(a.Contract, s.Namespace, s.Name)
				}
			} else if grp.epg, err = expandGroupTemplate(tmplEPG, value); err == nil {
				grp.contract, err = expandGroupTemplate(tmplCnt, value)
			}
			if err != nil {
				skip(s.Key(), fmt.Sprintf("group %s: its external EPG or contract name: %v", printable(id), err))
				continue
			}
			groups[id] = grp
			order = append(order, grp)
		}
		grp.members = append(grp.members, s)
		grp.members = append(grp.members, sharers[s.Key()]...)
	}
	if len(unlabelled) > 0 {
		sort.Strings(unlabelled)
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d service(s) have no label %s (%s): each keeps an external EPG and a contract of its own, named as under serviceGrouping service",
			len(unlabelled), g.labelKey, listSome(unlabelled, 3)))
	}

	// Names: a group never takes the cluster's own EPGs, nor another
	// group's EPG or contract (a label value may spell a per-service name).
	epgOwner, cntOwner := map[string]string{}, map[string]string{}
	for _, grp := range order {
		why := ""
		switch {
		case grp.epg == a.ExternalEPGs.Nodes || grp.epg == a.ExternalEPGs.Pods:
			why = fmt.Sprintf("external EPG name %s is the cluster's %s EPG", grp.epg, grp.epg)
		case epgOwner[grp.epg] != "":
			why = fmt.Sprintf("external EPG name %s is already that of group %s", grp.epg, epgOwner[grp.epg])
		case cntOwner[grp.contract] != "":
			why = fmt.Sprintf("contract name %s is already that of group %s", grp.contract, cntOwner[grp.contract])
		}
		if why != "" {
			for _, m := range grp.members {
				skip(m.Key(), fmt.Sprintf("group %s: %s", printable(grp.id), why))
			}
			grp.members = nil
			continue
		}
		epgOwner[grp.epg], cntOwner[grp.contract] = grp.id, grp.id
	}

	for _, grp := range order {
		var entries []fabric.ContractEntry
		var sources []string
		hasIPs := false
		for _, m := range grp.members {
			for _, ip := range m.OwnIPs {
				hasIPs = true
				add(grp.epg, netip.PrefixFrom(ip, ip.BitLen()), fabric.ScopeImportSecurity, []string{"Service/" + m.Key()})
			}
			if e := contractEntries(in.Fabric, m, r); len(e) > 0 {
				entries = append(entries, e...)
				sources = append(sources, "Service/"+m.Key())
			}
		}
		if !hasIPs || len(entries) == 0 {
			continue
		}
		r.Add(fabric.Contract{Name: grp.contract, Provider: grp.epg, Consumers: consumers, Entries: sortedEntries(entries)}, sources...)
	}
}

// listSome lists the first n of a list, and how many more.
func listSome(list []string, n int) string {
	if len(list) <= n {
		return strings.Join(list, ", ")
	}
	return strings.Join(list[:n], ", ") + fmt.Sprintf(" and %d more", len(list)-n)
}

// groupedServiceHolds maps a hold on one unseen service under a grouping
// (ok false under service grouping, which desire.go's holds maps). Under
// namespace grouping the service's group is known from its key: that
// namespace's EPG subnets and contract are held. Under label and ports
// grouping the group of a service that cannot be seen is not known: every
// service's objects are held (as for HoldServices), which never lets a
// change through that the unseen service could be behind.
func groupedServiceHolds(a *Settings, g aciGroups, h fabric.IntentHold) ([]fabric.Hold, bool) {
	gr := groupingOf(a)
	switch gr.mode {
	case groupByService:
		return nil, false
	case groupByNamespace:
		ns, _, _ := strings.Cut(h.Service, "/")
		var out []fabric.Hold
		if epg, err := expandGroupTemplate(a.ExternalEPGs.ServiceGroup, ns); err == nil {
			out = append(out, fabric.Hold{Reason: h.Reason, Kind: fabric.KindExternalSubnet, Group: epg, ShrinkOnly: h.ShrinkOnly})
		}
		if cnt, err := expandGroupTemplate(a.GroupContract, ns); err == nil {
			out = append(out, fabric.Hold{Reason: h.Reason, Kind: fabric.KindContract, ID: cnt, ShrinkOnly: h.ShrinkOnly})
		}
		return out, true
	}
	all := h
	all.Scope = fabric.HoldServices
	return g.holds(a, all), true
}
