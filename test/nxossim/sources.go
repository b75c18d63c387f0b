package nxossim

// Replies is where each prompt, reply and error text the NX-OS driver keys
// on comes from. An entry with a Source is backed by a public recording, a
// Cisco document, or code that talks to real switches (napalm, cisco.nxos,
// genieparser); an entry without one is an assumption of the emulator, to
// confirm on a real Nexus, and IfWrong says what the driver does when a
// real switch does the opposite. docs/nxossim.md lists them all
// ("Where each reply comes from"); TestReplySources checks that the two
// agree and that the emulator prints what Probe says.
var Replies = []Reply{
	// Prompts and configuration mode.
	{Text: "leaf201# ", What: "exec prompt",
		Source: "scrapli NX-OS 9.2(4) fixtures, \"switch# \" (testdata/scrapli_nxos_9.2.4_replies.json)"},
	{Text: "leaf201(config)# ", What: "configuration prompt", Probe: []string{"configure terminal"},
		Source: "scrapli NX-OS 9.2(4) fixtures, \"switch(config)# \""},
	{Text: "(config-router)#", What: "router mode prompt",
		Source: "Cisco Nexus 3000 NX-OS Unicast Routing Configuration Guide 5.0(3)U2(2), \"Configuring Advanced BGP\": \"switch(config-router)# bestpath as-path multipath-relax\""},
	{Text: "(config-router-neighbor)#", What: "neighbor mode prompt",
		Source: "ansible/ansible#65909, NX-OS 7.0(3)I7(3): \"nxos-9k(config-router-neighbor)# no password 7\""},
	{Text: "(config-router-neighbor-af)#", What: "other sub-mode prompts: (config-router-af), (config-router-vrf...), (config-route-map)",
		IfWrong: "none: the driver keys on the cisco_nxos pattern, any \"(config...)#\" but config-s and config-tcl"},
	{Text: "(config-s)#", What: "configuration session prompt",
		Source: "Cisco NX-OS Session Manager configuration guide examples (\"switch(config-s)#\", \"(config-s-acl)#\", \"(config-s-if)#\")"},
	{Text: "(config-s-router)#", What: "session sub-mode prompts, \"-s\" inserted after \"config\"",
		IfWrong: "the driver's session pattern takes any \"(config-s...)#\"; session mode is unproven anyway (docs/nxos.md)"},
	{Text: "Enter configuration commands, one per line. End with CNTL/Z.", What: "configure terminal", Probe: []string{"configure terminal"},
		Source: "scrapli NX-OS 9.2(4) fixtures"},

	// Configuration lines.
	{Text: "", What: "a configuration line NX-OS takes prints nothing",
		Source: "Cisco configuration guide examples (no output between a configuration line and the next prompt); ansible/ansible#66228 shows a warning as the exception"},
	{Text: "% Invalid command at '^' marker.", What: "unknown keyword, extra token", Probe: []string{"configure terminal", "frobnicate"},
		Source: "scrapli NX-OS 9.2(4) fixtures (\"disable\", \"tclquit\")"},
	{Text: "% Incomplete command at '^' marker.", What: "command cut short; also the short \"no ip prefix-list NAME seq N\"",
		Probe:  []string{"configure terminal", "ip prefix-list PL seq 5 permit 10.0.0.0/8", "no ip prefix-list PL seq 5"},
		Source: "recorded after \"N9K01(config)# wr\" (testdata/README.md); the short no-form is refused following the command reference's syntax, which makes {permit | deny} prefix mandatory (Cisco Nexus 3548 NX-OS Unicast Routing Command Reference, \"ip prefix-list\")"},
	{Text: "% Invalid ip address at '^' marker.", What: "bad neighbor address or router-id", Probe: []string{"configure terminal", "router bgp 63500", "neighbor 10.0.0.256"},
		Source: "Ansible's NX-OS integration logs (\"no ip name-server use-vrf\")"},
	{Text: "Invalid range at '^' marker.", What: "number out of range, printed without \"%\"", Probe: []string{"configure terminal", "router bgp 4294967296"},
		Source: "recorded for interface ranges (testdata/README.md)"},
	{Text: "% Ambiguous command at '^' marker.", What: "an abbreviation of several keywords", Probe: []string{"configure terminal", "s"},
		IfWrong: "none: any output of a configuration line is a refusal, and every parser error ends with \"at '^' marker\" (the driver's failure string)"},
	{Text: "% Invalid parameter detected at '^' marker.", What: "bad name, description too long or not printable ASCII",
		IfWrong: "none: as above; the driver checks names and descriptions before sending them"},
	{Text: "ERROR: ", What: "semantic errors (a second BGP AS, local-as equal to the router's AS, a prefix range); their wording is the emulator's",
		Probe:   []string{"configure terminal", "router bgp 63500", "exit", "router bgp 65001"},
		IfWrong: "none: \"ERROR:\" is in scrapligo's cisco_nxos failure strings, and any other output is a refusal too"},
	{Text: "% ISSU will be affected if hold time is less than system switchover time (8 seconds)", What: "a warning after a neighbor's timers line NX-OS took (played by Faults.WarnLines)",
		Source: "ansible-collections/cisco.nxos#82, ansible/ansible#66228"},
	{Text: "no maximum-paths", What: "the bare no-form, taken as the numbered one",
		IfWrong: "none: the driver sends \"no maximum-paths [ibgp] N\", as cisco.nxos does"},
	{Text: "description-only prefix-list", What: "a prefix-list with only a description is kept and printed (the driver's markers)",
		IfWrong: "the driver re-adds its markers at every sync and reports the maximum-paths it set as hand-made (a conflict, nothing changed): confirm first on a lab switch"},

	// Checkpoints and rollback.
	{Text: ".....Done", What: "checkpoint NAME description TEXT", Probe: []string{"checkpoint cp1 description test"},
		Source: "learnduty.com and firewall.cx write-ups (testdata/checkpoint_replies.txt)"},
	{Text: "ERROR: Checkpoint name cp1 is already in use", What: "checkpoint of an existing name (the refusal is documented, not its wording)",
		Probe:   []string{"checkpoint cp1", "checkpoint cp1"},
		IfWrong: "none: the driver requires \"Done\"; its lock never relies on the refusal (tested with Options.CheckpointOverwrite)"},
	{Text: "User Checkpoint Summary", What: "show checkpoint summary", Probe: []string{"checkpoint cp1", "show checkpoint summary"},
		Source: "learnduty.com, networkqna.com (testdata/checkpoint_replies.txt)"},
	{Text: "empty checkpoint summary", What: "show checkpoint summary without checkpoints prints the title and dashes",
		IfWrong: "none: the driver takes any reply whose lines do not start with \"%\" or \"ERROR:\""},
	{Text: "!Command: Checkpoint cmd vdc 1", What: "show checkpoint NAME, then the version line and the configuration", Probe: []string{"checkpoint cp1", "show checkpoint cp1"},
		Source: "a public nornir/napalm exercise printing an NX-OS 9.2(3) checkpoint file (\"!Command: Checkpoint cmd vdc 1\", \"version 9.2(3) Bios:version\")"},
	{Text: "Name: cp1", What: "the dashes and \"Name:\" lines show checkpoint NAME prints before the configuration",
		Probe:   []string{"checkpoint cp1", "show checkpoint cp1"},
		IfWrong: "none: the driver reads the configuration after the version line and needs only one of \"!Command:\" or \"version\""},
	{Text: "Generating Rollback Patch", What: "rollback running-config checkpoint NAME", Probe: []string{"checkpoint cp1", "rollback running-config checkpoint cp1"},
		Source: "napalm/nxos/nxos.py _get_diff"},
	{Text: "Rollback Patch is Empty", What: "rollback to an identical configuration", Probe: []string{"checkpoint cp1", "rollback running-config checkpoint cp1"},
		Source: "napalm/nxos/nxos.py _get_diff"},
	{Text: "Rollback completed successfully.", What: "a rollback that changed the configuration",
		Probe:  []string{"checkpoint cp1", "configure terminal", "hostname other", "end", "rollback running-config checkpoint cp1"},
		Source: "napalm/nxos_ssh/nxos_ssh.py rollback: success is a reply containing \"completed\" (the driver's test); the full wording and the other lines (Note:, Collecting Running-Config, Executing Rollback Patch, Verification is Successful.) are from memory"},
	{Text: "Rollback failed.", What: "a failed atomic rollback (played by Faults.FailNextRollback)",
		Source: "napalm/nxos_ssh/nxos_ssh.py _load_cfg_from_checkpoint"},
	{Text: "no checkpoint", What: "no checkpoint NAME prints nothing",
		IfWrong: "the driver reads show checkpoint summary: the deletion succeeded if the checkpoint is gone"},

	// Show output.
	{Text: "!Command: show running-config bgp", What: "show running-config bgp: header, \"version ... Bios:version\", the BGP layout",
		Probe:  []string{"show running-config bgp"},
		Source: "genieparser NX-OS 9.3(7) and 9.3(8) recordings (testdata/running_config_bgp_*.txt)"},
	{Text: "!Command: show running-config rpm", What: "show running-config rpm: the same header as bgp",
		Probe:   []string{"show running-config rpm"},
		IfWrong: "none: the driver needs only one of the \"!Command:\" and \"version\" lines"},
	{Text: "ip prefix-list", What: "prefix-list lines: description, then \"seq N permit|deny PREFIX [ge N] [le N]\"",
		Source: "cisco.nxos nxos_prefix_lists docs, \"show running-config | section 'ip(.*) prefix-list'\" on NX-OS 9.3.6"},
	{Text: "match ip address prefix-list", What: "route-map entry: match lines (with a trailing space), then the description",
		Source: "cisco.nxos nxos_route_maps docs, \"show running-config | section ^route-map\" (the order); a nornir NX-OS exercise (the trailing space)"},
	{Text: "config session name", What: "show configuration session NAME", Source: "Cisco NX-OS Session Manager guide, \"Verifying the Session Manager Configuration\""},
	{Text: "ERROR: Session", What: "show configuration session NAME of a session that does not exist",
		IfWrong: "none: the driver looks only for the line \"config session name NAME\""},

	// Configuration sessions.
	{Text: "Config Session started, Session ID is", What: "configure session NAME", Probe: []string{"configure session s1"},
		Source: "hknutzen/Netspoc-Approve t/simul-NX-OS.t, NX-OS 6.2(16) (testdata/session_manager_replies.txt)"},
	{Text: "Verification Successful", What: "verify", Source: "Netspoc-Approve, as above"},
	{Text: "Commit Successful", What: "commit", Source: "Netspoc-Approve, as above"},
	{Text: "Verification Failed", What: "verify or commit that fails, then an ERROR: line and the failing command",
		IfWrong: "none: the driver requires \"Verification Successful\" and \"Commit Successful\", and aborts otherwise"},
	{Text: "session refuses BGP", What: "a configuration session refuses BGP, prefix-list and route-map lines with % Invalid command (Session Manager is documented for ACL and QoS only)",
		IfWrong: "the driver aborts and changes nothing; session mode is documented as unproven (docs/nxos.md)"},

	// Terminal.
	{Text: "terminal dont-ask", What: "prints nothing", Probe: []string{"terminal dont-ask"},
		IfWrong: "the driver logs a warning and uses the session; napalm and cisco.nxos send it without reading the reply"},
	{Text: "several sessions", What: "a user may hold several SSH sessions at once",
		IfWrong: "a refused login fails that run at its first command; nothing is changed"},
}

// Reply is one entry of Replies.
type Reply struct {
	// Text is the reply, the prompt, or a short name for a behaviour.
	Text string
	// What says which command prints it, or what the behaviour is.
	What string
	// Probe, when set, are lines (exec or configuration) after which the
	// emulator's last reply or prompt holds Text.
	Probe []string
	// Source is where the text or behaviour was seen; "" for an
	// assumption.
	Source string
	// IfWrong is, for an assumption, what the driver does when a real
	// switch does the opposite.
	IfWrong string
}
