package k8swatch

import (
	"bytes"
	"unicode/utf8"
)

// A structural scanner for JSON the loader has already validated: it finds
// where values start and end, and the members of an object, without
// decoding or copying anything. encoding/json validates a value before
// decoding it, so splitting a 30 MB list into items with json.Unmarshal
// and RawMessage walks every byte several times more than this does.
// Anything the scanner does not expect makes it report !ok and the caller
// takes the encoding/json path, whose errors the Problems quote.

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func skipSpace(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// valueEnd returns the index just past the value that starts at data[i], or
// -1 when the value is cut short.
func valueEnd(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				if i = stringEnd(data, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	default:
		start := i
		for i < len(data) && !isSpace(data[i]) && data[i] != ',' && data[i] != ']' && data[i] != '}' {
			i++
		}
		if i == start {
			return -1
		}
		return i
	}
}

// stringEnd returns the index just past the string that starts at data[i].
// It jumps from quote to quote (bytes.IndexByte); a quote after an odd run
// of backslashes is escaped, which is what stepping over each backslash and
// the byte after it decides too.
func stringEnd(data []byte, i int) int {
	for i++; i <= len(data); {
		j := bytes.IndexByte(data[i:], '"')
		if j < 0 {
			return -1
		}
		q := i + j
		backslashes := 0
		for k := q - 1; k >= i && data[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
	return -1
}

// splitValues returns the top-level values of a stream of JSON values.
func splitValues(data []byte) ([][]byte, bool) {
	var values [][]byte
	for i := skipSpace(data, 0); i < len(data); i = skipSpace(data, i) {
		end := valueEnd(data, i)
		if end < 0 {
			return nil, false
		}
		values = append(values, data[i:end])
		i = end
	}
	return values, true
}

// eachMember calls fn with each member of the object obj (key without its
// quotes, escapes left as they are; value as it stands).
func eachMember(obj []byte, fn func(key, value []byte)) bool {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return false
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return true
	}
	for i < len(obj) {
		if obj[i] != '"' {
			return false
		}
		keyEnd := stringEnd(obj, i)
		if keyEnd < 0 {
			return false
		}
		key := obj[i+1 : keyEnd-1]
		i = skipSpace(obj, keyEnd)
		if i >= len(obj) || obj[i] != ':' {
			return false
		}
		i = skipSpace(obj, i+1)
		end := valueEnd(obj, i)
		if end < 0 {
			return false
		}
		fn(key, obj[i:end])
		i = skipSpace(obj, end)
		if i >= len(obj) {
			return false
		}
		switch obj[i] {
		case '}':
			return true
		case ',':
			i = skipSpace(obj, i+1)
		default:
			return false
		}
	}
	return false
}

// eachElement calls fn with each element of the array arr.
func eachElement(arr []byte, fn func(value []byte)) bool {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return false
	}
	i = skipSpace(arr, i+1)
	if i < len(arr) && arr[i] == ']' {
		return true
	}
	for i < len(arr) {
		end := valueEnd(arr, i)
		if end < 0 {
			return false
		}
		fn(arr[i:end])
		i = skipSpace(arr, end)
		if i >= len(arr) {
			return false
		}
		switch arr[i] {
		case ']':
			return true
		case ',':
			i = skipSpace(arr, i+1)
		default:
			return false
		}
	}
	return false
}

// plainString returns the text of a JSON string that needs no decoding: no
// escapes, no control characters, valid UTF-8. Anything else is !ok.
func plainString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	s := v[1 : len(v)-1]
	for _, c := range s {
		if c < 0x20 || c == '\\' || c == '"' {
			return "", false
		}
	}
	if !utf8.Valid(s) {
		return "", false
	}
	return string(s), true
}

// header is what the loader needs of an object before decoding it: its
// apiVersion and kind, and the items of a list.
type header struct {
	APIVersion, Kind string
	Items            []byte // the items array; nil when absent or null
}

// scanHeader reads an object's header as encoding/json would decode
// {apiVersion, kind, items} — exact keys only: encoding/json also matches
// keys case-insensitively, so a key that does so only without being exact,
// or any value that is not plain, sends the caller to encoding/json.
func scanHeader(obj []byte) (header, bool) {
	var h header
	ok := true
	found := eachMember(obj, func(key, value []byte) {
		if !ok {
			return
		}
		switch {
		case string(key) == "apiVersion":
			h.APIVersion, ok = plainString(value)
		case string(key) == "kind":
			h.Kind, ok = plainString(value)
		case string(key) == "items":
			switch {
			case value[0] == '[':
				h.Items = value
			case string(value) == "null":
				h.Items = nil
			default:
				ok = false
			}
		case bytes.EqualFold(key, []byte("apiVersion")), bytes.EqualFold(key, []byte("kind")),
			bytes.EqualFold(key, []byte("items")), bytes.IndexByte(key, '\\') >= 0:
			ok = false
		}
	})
	return h, found && ok
}
