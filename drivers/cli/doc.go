// Package cli holds what the drivers that configure switches through a
// command line (FRR over vtysh, NX-OS) share, and nothing that belongs to one
// vendor's syntax. A driver keeps its own line templates and its own parser of
// the running configuration; this package gives it:
//
// # Grammar: nothing unvalidated reaches a switch
//
// Every string that comes from the cluster is checked against a strict
// grammar before it becomes part of a CLI line. The checks return an
// *InputError that names the field and quotes the value safely (control
// characters escaped), so it can be logged and shown to people.
//
//	Addr(field, s)             an IPv4/IPv6 address in canonical form, no zone
//	Prefix(field, s)           a prefix without host bits
//	PrefixRange(field, p, le)  "le" in [len(p), max length]
//	ASN(field, n)              1-4294967294, not 23456 (AS_TRANS)
//	Name(field, s, max)        [A-Za-z0-9][A-Za-z0-9_.-]*: node names, object names
//	Text(field, s, max)        letters, digits, space and _.-:=/,@+ (descriptions);
//	                           never a newline, ';', ']', '?', '!', '#', '%' or a control character
//	Count(field, n, min, max)  an integer setting such as maximum-paths
//	CheckPeer / CheckPrefixFilter / CheckMaximumPaths   a whole fabric object
//
// # Ownership marks
//
// CLI platforms have no annotation field, so ownership is carried two ways:
//
//	Mark            the description text of marked objects (neighbors, prefix-lists,
//	                route-maps): "<owner mark> node=<node>"; Describe builds it, Parse
//	                reads the owner and node back, Owns tests it.
//	Naming          names of the objects the driver creates (prefix-lists, route-maps,
//	                marker objects) start with a prefix derived from the cluster name,
//	                "FR-<cluster>-" by default, and end with "_<scope>" when the driver
//	                works in a VRF: PeerFilter(addr) and Marker(what) build
//	                them, ParsePeerFilter and IsMarker recognise them exactly (a bare
//	                prefix match is not ownership: cluster "a" must not claim the
//	                objects of cluster "a-IN-x"). A maximum length (63 on NX-OS)
//	                shortens the cluster part with a hash, never the address part.
//
// # Safe order
//
// Order sorts a plan's changes so that a switch never holds a reference to a
// missing object and never drops a filter before the neighbor that uses it:
//
//	1 prefix filters created or updated    (before a neighbor refers to them)
//	2 maximum-paths created or updated     (ECMP in place before routes arrive)
//	3 neighbors deleted                    (before their filters)
//	4 neighbors created or updated
//	5 prefix filters deleted
//	6 maximum-paths deleted
//
// Within a phase, changes keep the plan's order (switch, kind, id).
//
// # Scripts
//
// A Script collects the lines of several changes for one switch. Lines live
// in a mode path (for example ["router bgp 63500", "address-family ipv4
// unicast"] on FRR, or ["router bgp 63500", "neighbor 10.0.0.1",
// "address-family ipv4 unicast"] on NX-OS); the script enters and leaves modes
// as needed with the dialect's exit command, so each driver writes its
// lines in its own syntax and the mode bookkeeping is shared. Every line
// remembers the change it belongs to: after a push stopped at a refused
// line, Script.Result tells which changes went through completely
// (ApplyResult.Applied) and which did not. Refuse records a change that
// produced no line because its input was invalid; Conflict records an object
// found in the way at apply time. Text renders the script with indentation
// for review (plan -o native).
package cli
