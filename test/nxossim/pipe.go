package nxossim

import (
	"fmt"
	"regexp"
	"strings"
)

// Output filters after "|" on show commands, as NX-OS has them:
// include, exclude, begin, section (a line and the lines indented below it)
// and count. "| json" (alone) is handled by the shell: the commands of
// oper.go write JSON. Other NX-OS filters (xml, grep, head, ...) are
// reported as not implemented.

var pipeTree = kw("",
	kwAs("f", "include", prm("re", lineP(0)).do(hPipe)),
	kwAs("f", "exclude", prm("re", lineP(0)).do(hPipe)),
	kwAs("f", "begin", prm("re", lineP(0)).do(hPipe)),
	kwAs("f", "section", prm("re", lineP(0)).do(hPipe)),
	kwAs("f", "count").do(hPipe),
).add(unimpl("json", "json-pretty", "xml", "grep", "egrep", "head", "last", "less", "no-more",
	"sed", "sort", "tr", "uniq", "wc", "diff", "redirect", "vsh", "cut", "email", "human", "tee", "awk")...)

// pipeFilter is set by hPipe for the shell to apply.
type pipeFilter struct {
	kind string
	re   *regexp.Regexp
}

func hPipe(sh *shell, a args) *cmd {
	return &cmd{do: func(sh *shell) string {
		f := pipeFilter{kind: a["f"]}
		if pat, ok := a["re"]; ok {
			pat = strings.Trim(pat, `"`)
			re, err := regexp.Compile(pat)
			if err != nil {
				sh.failed = true
				return "ERROR: invalid regular expression\n"
			}
			f.re = re
		}
		sh.pipe = &f
		return ""
	}}
}

func (f *pipeFilter) apply(out string) string {
	lines := strings.SplitAfter(out, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	var b strings.Builder
	n := 0
	inSection := false
	for i, l := range lines {
		text := strings.TrimRight(l, "\n")
		switch f.kind {
		case "include":
			if f.re.MatchString(text) {
				b.WriteString(l)
			}
		case "exclude":
			if !f.re.MatchString(text) {
				b.WriteString(l)
			}
		case "begin":
			if f.re.MatchString(text) {
				return strings.Join(lines[i:], "")
			}
		case "section":
			top := text != "" && text[0] != ' '
			if top {
				inSection = f.re.MatchString(text)
			}
			if inSection && text != "" {
				b.WriteString(l)
			}
		case "count":
			n++
		}
	}
	if f.kind == "count" {
		return fmt.Sprintf("%d\n", n)
	}
	return b.String()
}

// splitPipe cuts "show ... | filter | filter" into the command and the
// offsets of its filters. Only show commands take filters.
func splitPipe(line string) (cmdEnd int, filters []int) {
	toks := tokenize(line)
	if len(toks) == 0 || len(toks[0].text) < 2 || !strings.HasPrefix("show", strings.ToLower(toks[0].text)) {
		return len(line), nil
	}
	cmdEnd = -1
	for i := 0; i < len(line); i++ {
		if line[i] == '|' {
			if cmdEnd < 0 {
				cmdEnd = i
			}
			filters = append(filters, i+1)
		}
	}
	if cmdEnd < 0 {
		return len(line), nil
	}
	return cmdEnd, filters
}
