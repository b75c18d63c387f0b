// Package clissh is the SSH plumbing the CLI drivers (FRR over vtysh,
// NX-OS) share: one persistent scrapligo session per switch, opened on
// first use and reopened after the switch drops it. A driver keeps its
// platform (a platform definition or scrapligo's built-in one), its
// privilege levels and its commit framing; this package gives it:
//
// # Connecting
//
// Config says how to reach a switch: config.SSH (password or private key
// from their files, read at each connection and never logged or put into
// errors; host keys checked against ssh.knownHostsFile, or not at all with
// the lab-only ssh.insecureIgnoreHostKey, which logs a warning at each
// connection), the scrapligo platform, extra options (FRR's wide
// terminal), and Prepare, which adjusts the session's own scrapligo driver
// before it opens (NX-OS adds a privilege level for configuration sessions
// and failure strings; the platform is never changed).
//
// # Sessions
//
// A Session is locked for a whole observation or apply (Lock, Unlock);
// its methods expect the caller to hold the lock, except Close and Opened.
//
//	Ensure              open the session if needed (fresh: it just did)
//	Query, Read         a show command; on an established session that fails
//	                    it is retried once on a new one (reads are
//	                    idempotent). The platform's failure strings are not
//	                    applied to show output, which holds the network
//	                    team's descriptions and banners: Read checks the
//	                    output by its structure instead (a check function
//	                    per command), and a *ReadError quotes its first line
//	                    only
//	Exec                an exec-mode command that changes the switch
//	                    (checkpoint, rollback): never retried; its reply is
//	                    flagged by the platform's failure strings
//	Enter, Leave        acquire a privilege level (configuration mode, a
//	                    configuration session) and return to Config.ExecLevel
//	Send                one command at the current level (verify, commit, abort)
//	SendLines           configuration lines (cli.Line), indented by their
//	                    depth, one by one; the first refused one stops them:
//	                    a reply flagged as failed, or any output that is not
//	                    one of the driver's known warnings (Config.Benign,
//	                    each with its source), since FRR and NX-OS print
//	                    nothing for a line they accept
//
// Errors name the switch and never carry a secret: no error quotes more
// than one line of device output, and that line goes through
// cli.DeviceLine (bounded, escaped, with what follows a password or key
// keyword removed); a refused line is quoted through cli.Redact. A
// transport failure drops the session (the next use reconnects) and is a
// *ConnError: what was sent may or may not have reached the switch. A
// refused line is a *LineError with one line of the switch's reply
// (Config.Reply).
//
// # The fabric's switches
//
// Pool keeps one session per switch for the life of the driver; S is the
// driver's session type, usually a struct embedding *Session with what the
// driver caches per connection. CheckSwitches vets the switches' addresses
// (SplitHostPort) and AS numbers before a driver accepts a fabric, and
// Metrics counts requests for drivers.Options.Metrics.
package clissh
