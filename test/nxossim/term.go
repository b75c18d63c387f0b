package nxossim

import (
	"io"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// term is the terminal side of an interactive session: echo, line editing,
// the --More-- pager, and CR/LF translation when the client asked for a PTY.
type term struct {
	srv  *Server
	sh   *shell
	ch   ssh.Channel
	conn *ssh.ServerConn
	pty  bool

	pending []string // output lines held back by the pager
	prompt  string   // prompt to print once the pager is done
	lastCR  bool
}

const morePrompt = "\x1b[7m--More--\x1b[m"

// maxLine bounds a typed line; further characters are dropped, not echoed.
const maxLine = 8192

func (t *term) write(s string) bool {
	if t.pty {
		s = strings.ReplaceAll(s, "\n", "\r\n")
	}
	_, err := io.WriteString(t.ch, s)
	return err == nil
}

func (t *term) currentPrompt() string {
	t.srv.mu.Lock()
	defer t.srv.mu.Unlock()
	return t.sh.prompt()
}

func (t *term) interactive() {
	t.srv.mu.Lock()
	banner := t.srv.platform.Notice
	t.srv.mu.Unlock()
	if !t.write(banner + t.currentPrompt()) {
		return
	}
	buf := make([]byte, 4096)
	var line []byte
	esc := 0 // 1 after ESC, 2 inside a CSI sequence
	for {
		n, err := t.ch.Read(buf)
		for _, b := range buf[:n] {
			if len(t.pending) > 0 {
				if !t.pagerKey(b) {
					return
				}
				continue
			}
			if esc > 0 { // drop cursor keys and other escape sequences
				switch {
				case esc == 1 && b == '[':
					esc = 2
				case esc == 2 && (b < 0x40 || b > 0x7e):
				default:
					esc = 0
				}
				continue
			}
			if b == '\n' && t.lastCR {
				t.lastCR = false
				continue
			}
			t.lastCR = b == '\r'
			switch {
			case b == '\r' || b == '\n':
				if t.pty && !t.write("\n") {
					return
				}
				if !t.runLine(string(line)) {
					return
				}
				line = line[:0]
			case b == 0x03: // Ctrl-C drops the line
				line = line[:0]
				if !t.write("\n" + t.currentPrompt()) {
					return
				}
			case b == 0x1a: // Ctrl-Z leaves configuration mode, like end
				line = line[:0]
				t.srv.mu.Lock()
				t.sh.setFrames(nil)
				t.srv.mu.Unlock()
				if !t.write("\n" + t.currentPrompt()) {
					return
				}
			case b == 0x7f || b == 0x08:
				if len(line) > 0 {
					line = line[:len(line)-1]
					if t.pty && !t.write("\b \b") {
						return
					}
				}
			case b == 0x1b:
				esc = 1
			case b >= 0x20 && b != '?' && len(line) < maxLine:
				// '?' would show help on NX-OS; the emulator has none.
				line = append(line, b)
				if t.pty && !t.write(string([]byte{b})) {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// runLine runs a line and writes the reply and the next prompt. It returns
// false when the session is over.
func (t *term) runLine(line string) bool {
	reply, drop, delay := t.srv.execLine(t.sh, line)
	if delay > 0 {
		time.Sleep(delay)
	}
	if drop {
		t.srv.log.Info("fault: dropping connection", "conn", t.sh.conn)
		_ = t.conn.Close()
		return false
	}
	if t.sh.exit {
		t.write(reply)
		return false
	}
	return t.output(reply, t.currentPrompt())
}

// output writes a reply, through the pager when terminal length is set and
// the reply is longer than a screen.
func (t *term) output(reply, prompt string) bool {
	page := t.sh.length - 1
	if !t.pty || t.sh.length == 0 || strings.Count(reply, "\n") <= page {
		return t.write(reply + prompt)
	}
	lines := strings.SplitAfter(reply, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	t.pending, t.prompt = lines[page:], prompt
	return t.write(strings.Join(lines[:page], "") + morePrompt)
}

// pagerKey handles a key typed at --More--: space shows a page, return one
// line, q (or Ctrl-C) stops.
func (t *term) pagerKey(b byte) bool {
	if b == '\n' && t.lastCR {
		t.lastCR = false
		return true
	}
	t.lastCR = b == '\r'
	n := 0
	switch b {
	case ' ':
		n = t.sh.length - 1
	case '\r', '\n':
		n = 1
	case 'q', 'Q', 0x03:
		t.pending = nil
	default:
		return true
	}
	if n > len(t.pending) {
		n = len(t.pending)
	}
	out := "\r\x1b[K" + strings.Join(t.pending[:n], "")
	t.pending = t.pending[n:]
	if len(t.pending) == 0 {
		t.pending = nil
		return t.write(out + t.prompt)
	}
	return t.write(out + morePrompt)
}

// exec runs the command of an SSH exec request (`ssh switch "show version"`)
// and returns the exit status: 1 if NX-OS answered with an error.
func (t *term) exec(command string) uint32 {
	reply, _, delay := t.srv.execLine(t.sh, command)
	if delay > 0 {
		time.Sleep(delay)
	}
	t.write(reply)
	if t.sh.failed {
		return 1
	}
	return 0
}
