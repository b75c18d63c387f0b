package k8swatch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// maxFileSize bounds one input file; an export larger than this is not a
// cluster state someone meant to hand over.
const maxFileSize = 256 << 20

// LoadFiles reads files and folders of YAML or JSON (multi-document files,
// `kind: List` and `kind: <X>List` as kubectl and calicoctl export them) into
// one ClusterState. Folders are read recursively, in name order, taking files
// ending in .yaml, .yml or .json. A file that cannot be read or parsed is an
// error; a malformed object inside a readable file is a Problem.
func LoadFiles(paths ...string) (ClusterState, error) {
	b := NewBuilder()
	if len(paths) == 0 {
		return ClusterState{}, errors.New("no cluster state given")
	}
	var files []string
	for _, p := range paths {
		fs, err := expand(p)
		if err != nil {
			return ClusterState{}, err
		}
		files = append(files, fs...)
	}
	// Files are read, split, validated and decoded in parallel (a large
	// export is a few big files: Services, EndpointSlices) and recorded in
	// order as each is ready, so the result and the first error are the
	// same as reading them one by one.
	type loaded struct {
		data  []byte
		prep  *preparedJSON
		err   error
		ready chan struct{}
	}
	out := make([]*loaded, len(files))
	sem := make(chan struct{}, max(runtime.GOMAXPROCS(0), 1))
	for i, f := range files {
		out[i] = &loaded{ready: make(chan struct{})}
		go func(l *loaded) {
			sem <- struct{}{}
			defer func() { <-sem; close(l.ready) }()
			if l.data, l.err = readFile(f); l.err == nil {
				l.prep = prepareJSON(l.data)
			}
		}(out[i])
	}
	var failed error
	for i, f := range files {
		l := out[i]
		<-l.ready
		out[i] = nil
		switch {
		case failed != nil:
		case l.err != nil:
			failed = l.err
		default:
			failed = b.addDocuments(f, l.data, l.prep)
		}
	}
	if failed != nil {
		return ClusterState{}, failed
	}
	return b.Build(), nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d MiB", path, maxFileSize>>20)
	}
	return data, nil
}

func expand(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no .yaml, .yml or .json files", path)
	}
	return files, nil
}

// AddDocuments adds every object of a YAML or JSON stream. source names the
// stream in Problems. A stream of JSON values (what `kubectl get -o json`
// writes) is decoded as JSON directly: YAML is a superset of JSON, but going
// through YAML costs several times the time and memory, which a cluster of
// 50,000 services feels.
func (b *Builder) AddDocuments(source string, data []byte) error {
	return b.addDocuments(source, data, prepareJSON(data))
}

// addDocuments is AddDocuments with the stream already prepared (nil when
// it is not a stream of valid JSON values the scanner can split).
func (b *Builder) addDocuments(source string, data []byte, prep *preparedJSON) error {
	if prep != nil {
		for i, raw := range prep.values {
			if bytes.Equal(raw, []byte("null")) {
				continue
			}
			src := fmt.Sprintf("%s (document %d)", source, i+1)
			if l := prep.lists[i]; l != nil {
				b.recordItems(src, l)
				continue
			}
			b.addDocument(src, raw, "", "")
		}
		return nil
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return b.addJSONDocuments(source, data)
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for doc := 1; ; doc++ {
		chunk, err := reader.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: document %d: %w", source, doc, err)
		}
		if len(bytes.TrimSpace(stripComments(chunk))) == 0 {
			continue
		}
		js, err := yaml.YAMLToJSON(chunk)
		if err != nil {
			return fmt.Errorf("%s: document %d: %w", source, doc, err)
		}
		if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
			continue
		}
		b.addDocument(fmt.Sprintf("%s (document %d)", source, doc), js, "", "")
	}
}

// preparedJSON is a stream of JSON values split by the structural scanner
// (jsonscan.go), validated, and the items of its lists decoded: the work
// that touches no Builder state, so files and items are prepared in
// parallel and recorded in order.
type preparedJSON struct {
	values [][]byte
	lists  []*preparedItems // per value: its items when it is a List
}

// prepareJSON prepares a stream that is valid JSON value by value; nil for
// anything else (YAML, invalid JSON), which AddDocuments reads the slow
// way. Validation runs beside the decoding of the items; what was decoded
// from a stream found invalid is dropped.
func prepareJSON(data []byte) *preparedJSON {
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return nil
	}
	values, ok := splitValues(data)
	if !ok {
		return nil
	}
	valid := make(chan bool, 1)
	go func() { valid <- allValid(values) }()
	p := &preparedJSON{values: values, lists: make([]*preparedItems, len(values))}
	for i, raw := range values {
		// The same test addDocument makes before addItems.
		if head, ok := scanHeader(raw); ok && strings.HasSuffix(head.Kind, "List") && head.Items != nil {
			p.lists[i] = prepareItems(head)
		}
	}
	if !<-valid {
		return nil
	}
	return p
}

// addJSONDocuments adds every JSON value of a stream that prepareJSON did
// not take, through encoding/json, whose error names the document.
func (b *Builder) addJSONDocuments(source string, data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	for doc := 1; ; doc++ {
		// Each value is taken from data by its offsets: no copy.
		var skip struct{}
		start := dec.InputOffset()
		if err := dec.Decode(&skip); err == io.EOF {
			return nil
		} else if err != nil {
			var ute *json.UnmarshalTypeError
			if !errors.As(err, &ute) {
				return fmt.Errorf("%s: document %d: %w", source, doc, err)
			}
		}
		raw := bytes.TrimSpace(data[start:dec.InputOffset()])
		if bytes.Equal(raw, []byte("null")) {
			continue
		}
		b.addDocument(fmt.Sprintf("%s (document %d)", source, doc), raw, "", "")
	}
}

func allValid(values [][]byte) bool {
	for _, v := range values {
		if !json.Valid(v) {
			return false
		}
	}
	return true
}

// addDocument adds one object, descending into lists. Items of a typed list
// (BGPPeerList ...) may leave out apiVersion and kind; they inherit them.
// js is valid JSON (every caller has checked or produced it), so the
// scanner may read its header; what it cannot read plainly is decoded.
func (b *Builder) addDocument(source string, js []byte, listAPIVersion, itemKind string) {
	head, ok := scanHeader(js)
	if !ok {
		var slow struct {
			APIVersion string            `json:"apiVersion"`
			Kind       string            `json:"kind"`
			Items      []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(js, &slow); err != nil {
			b.problem(source, "object", "not a Kubernetes object: %v", err)
			return
		}
		if strings.HasSuffix(slow.Kind, "List") && slow.Items != nil {
			kind := strings.TrimSuffix(slow.Kind, "List")
			for i, item := range slow.Items {
				b.addDocument(fmt.Sprintf("%s item %d", source, i), item, slow.APIVersion, kind)
			}
			return
		}
		head = header{APIVersion: slow.APIVersion, Kind: slow.Kind}
	}
	if head.APIVersion == "" && head.Kind == "" && itemKind != "" {
		var m map[string]json.RawMessage
		if json.Unmarshal(js, &m) == nil {
			m["apiVersion"], _ = json.Marshal(listAPIVersion)
			m["kind"], _ = json.Marshal(itemKind)
			js, _ = json.Marshal(m)
			head.APIVersion, head.Kind = listAPIVersion, itemKind
		}
	}
	if strings.HasSuffix(head.Kind, "List") && head.Items != nil {
		b.addItems(source, head)
		return
	}
	b.add(source, js, head)
}

// addItems adds a list's items in order.
func (b *Builder) addItems(source string, list header) {
	b.recordItems(source, prepareItems(list))
}

// preparedItems is a list's items, those that are Services, EndpointSlices
// or Nodes decoded (decoding is most of the cost of a large list).
type preparedItems struct {
	list    header
	items   [][]byte
	decoded []slimObject
	done    []bool
}

// prepareItems decodes a list's items in parallel; it touches no Builder
// state.
func prepareItems(list header) *preparedItems {
	p := &preparedItems{list: list}
	eachElement(list.Items, func(item []byte) { p.items = append(p.items, item) })
	p.decoded = make([]slimObject, len(p.items))
	p.done = make([]bool, len(p.items))
	workers := runtime.GOMAXPROCS(0)
	if len(p.items) < 256 || workers < 2 {
		workers = 1
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(p.items); i += workers {
				if h, ok := scanHeader(p.items[i]); ok && h.Items == nil && h.Kind != "" {
					p.decoded[i], p.done[i] = decodeSlim(h, p.items[i])
				}
			}
		}(w)
	}
	wg.Wait()
	return p
}

// recordItems records a prepared list's items in order, one at a time.
func (b *Builder) recordItems(source string, p *preparedItems) {
	kind := strings.TrimSuffix(p.list.Kind, "List")
	for i, item := range p.items {
		itemSource := fmt.Sprintf("%s item %d", source, i)
		if p.done[i] {
			b.addSlim(itemSource, item, p.decoded[i])
			p.decoded[i] = slimObject{}
			continue
		}
		b.addDocument(itemSource, item, p.list.APIVersion, kind)
	}
}

func stripComments(b []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("---")) {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}

func yamlToJSONInto(y []byte, into any) error {
	js, err := yaml.YAMLToJSON(y)
	if err != nil {
		return err
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil
	}
	return json.Unmarshal(js, into)
}
