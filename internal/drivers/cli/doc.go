// Package cli holds what the drivers that configure switches through a
// command line (FRR over vtysh, NX-OS) share, and nothing that belongs to one
// vendor's syntax. A driver keeps its parser of the running configuration,
// its model of the BGP context, its line templates and its commit framing;
// the SSH sessions are internal/drivers/clissh's. This package gives it:
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
//
// # Planning: what may be written, and what is the same everywhere
//
// A Planner plans one switch's changes into a Script. It owns every
// decision that keeps the safety contract, the same way on each platform:
// it orders the changes (Order), refuses a change for another switch, of a
// kind the platform does not configure, or with a value that fails the
// grammar, reports a neighbor it does not own at the change's address as a
// conflict (not changed, not deleted, its filter kept), and never creates a
// neighbor whose filter was refused. It writes what FRR and NX-OS write
// alike: a peer filter's prefix-list (WantEntries; new entries before old
// ones go; a list with a line the parser could not read is rebuilt) and
// route-map ("permit 10", the description, MatchLine; foreign lines removed
// if Platform.Echo allows sending them back), the marker prefix-lists, and
// maximum-paths with multipath-relax (PathsAt says where the platform keeps
// them and what a missing line means). For the rest it asks the driver's
// planner, which embeds Planner and implements Platform:
//
//	NeighborAt, RouteMapIn   its model: the neighbor at an address, its inbound route-map
//	PeerUp, PeerDown         its neighbor lines (Rebind says how the binding must change)
//	Bind, Unbind             its route-map binding lines
//	DenyAll, Echo, PathsAt   its deny-everything entry, its echo check, its maximum-paths
//
// Both update the switch's model as they go (Filters, the driver's BGP
// context), so each line is planned against the state the previous ones
// leave and only missing lines are sent.
//
// # Observing
//
// Filters are the prefix-lists and route-maps a driver's parser read;
// Neighbor and Paths are the fields every platform's neighbor and
// address-family types have (a driver's types embed them). Ownership ties
// the Mark and the Naming together: Describe, BindingFor and
// BindingProblem, FilterAddrs, IsFilterName and IsMarkerName, and HasMarker
// (with StrictMarkers a marker also needs the mark in its description, as
// on NX-OS; FRR recognises it by name). An Observation collects one
// switch's owned objects and foreign places: Neighbor (owned by the mark,
// else foreign with the filter the cluster would attach), PeerFilters (read
// back entry by entry and route-map by route-map), MaxPaths (owned through
// its marker, 0 paths when relax is missing or eBGP and iBGP differ). An
// owned object that is incomplete or was changed by hand is observed with
// node Incomplete(reason), so the plan repairs it.
//
// # Session options and secrets
//
// CheckOptions checks a peer's options (CheckPeer calls it): the password
// without ever quoting it, the prefix limit, timers, TTL hops. A password
// line holds Sensitive in its Text and the value beside it (InSecret); only
// Line.Wire, used by the session typing the line, puts it in, and a reply is
// redacted (Line.Redact). A neighbor's description records the password's
// salted fingerprint (Mark.DescribePeer, PasswordMark); PasswordChange says
// whether a password must be typed (only when the fingerprint differs: a
// re-sent password resets the session). Desire keeps the options a platform
// manages (Limits.Options), completes the timers (Timers) and checks a
// platform's ranges (Limits.CheckOptions).
//
// # Listen peering
//
// With Limits.Listen, Desire makes one fabric.BGPListen per switch and
// family (the nodes' subnets, one set of options, the filter any node may
// use) instead of a neighbor and a filter per node; the Planner writes its
// filter (Naming.Listen) and asks a ListenPlatform for the group's lines.
//
// # Per switch
//
// Switches runs Observe, Apply and Render on each switch of the fabric,
// all in parallel, merging results in a fixed order; changes for a switch
// the configuration lacks are reported, not applied. Render writes "!"
// comments around the driver's lines (WriteNotes: refusals and conflicts).
// Seen keeps what each switch held at the last observation, for Render.
package cli
