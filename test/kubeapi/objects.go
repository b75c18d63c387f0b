package kubeapi

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/fabric-reconciler/fabric-reconciler/test/testenv"
)

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// ReadObjects reads YAML or JSON files and folders (multi-document, kind:
// List and typed lists are expanded) into objects. Relative paths are taken
// from the repository root.
func ReadObjects(paths ...string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, p := range paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(testenv.RepoRoot(), p)
		}
		files := []string{p}
		if st, err := os.Stat(p); err != nil {
			return nil, err
		} else if st.IsDir() {
			files = nil
			entries, err := os.ReadDir(p)
			if err != nil {
				return nil, err
			}
			for _, e := range entries {
				if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
					files = append(files, filepath.Join(p, e.Name()))
				}
			}
			sort.Strings(files)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			objs, err := DecodeObjects(data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out = append(out, objs...)
		}
	}
	return out, nil
}

// DecodeObjects splits a YAML or JSON stream into objects, expanding lists.
func DecodeObjects(data []byte) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		chunk, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		js, err := yaml.YAMLToJSON(chunk)
		if err != nil {
			return nil, err
		}
		if t := bytes.TrimSpace(js); len(t) == 0 || bytes.Equal(t, []byte("null")) {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			return nil, err
		}
		if u.IsList() {
			l, err := u.ToList()
			if err != nil {
				return nil, err
			}
			for i := range l.Items {
				item := l.Items[i]
				if item.GetAPIVersion() == "" {
					item.SetAPIVersion(u.GetAPIVersion())
				}
				if item.GetKind() == "" {
					item.SetKind(strings.TrimSuffix(u.GetKind(), "List"))
				}
				out = append(out, &item)
			}
			continue
		}
		out = append(out, u)
	}
}

// InstallCRDs creates the CRDs in the manifests and waits until the
// apiserver serves them.
func InstallCRDs(ctx context.Context, cfg *rest.Config, manifests ...string) error {
	objs, err := ReadObjects(manifests...)
	if err != nil {
		return err
	}
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	var names []string
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" {
			return fmt.Errorf("%s is not a CustomResourceDefinition", o.GetName())
		}
		if _, err := dc.Resource(crdGVR).Create(ctx, o, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create CRD %s: %w", o.GetName(), err)
		}
		names = append(names, o.GetName())
	}
	for _, name := range names {
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			crd, err := dc.Resource(crdGVR).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			conds, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("CRD %s not established: %w", name, err)
		}
	}
	// Established CRDs can take a moment more to show in discovery.
	return waitDiscovery(ctx, cfg, objs)
}

func waitDiscovery(ctx context.Context, cfg *rest.Config, crds []*unstructured.Unstructured) error {
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	for _, crd := range crds {
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			name, _ := v.(map[string]any)["name"].(string)
			gv := group + "/" + name
			err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
				rl, err := disc.ServerResourcesForGroupVersion(gv)
				if err != nil {
					return false, nil
				}
				for _, r := range rl.APIResources {
					if r.Name == plural {
						return true, nil
					}
				}
				return false, nil
			})
			if err != nil {
				return fmt.Errorf("%s %s not in discovery: %w", gv, plural, err)
			}
		}
	}
	return nil
}

// Client creates and changes objects given as unstructured values, the way
// `kubectl create` does, including their status.
type Client struct {
	Dynamic dynamic.Interface
	mapper  *restmapper.DeferredDiscoveryRESTMapper
}

// NewClient makes a Client for a config.
func NewClient(cfg *rest.Config) (*Client, error) {
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Client{Dynamic: dc, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))}, nil
}

// Resource returns the dynamic client for an object's kind and namespace.
func (c *Client) Resource(o *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := o.GroupVersionKind()
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		c.mapper.Reset()
		if m, err = c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err != nil {
			return nil, fmt.Errorf("%s: %w", gvk, err)
		}
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := o.GetNamespace()
		if ns == "" {
			ns = "default"
		}
		return c.Dynamic.Resource(m.Resource).Namespace(ns), nil
	}
	return c.Dynamic.Resource(m.Resource), nil
}

// Create creates objects, then writes the status of those that carry one
// (a Node's addresses, a Service's load-balancer ingress). Missing
// namespaces are created first. Objects that exist already are left as
// they are.
func (c *Client) Create(ctx context.Context, objs ...*unstructured.Unstructured) error {
	nsGVR := schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	made := map[string]bool{"default": true}
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" && !made[ns] {
			n := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
			if _, err := c.Dynamic.Resource(nsGVR).Create(ctx, n, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("namespace %s: %w", ns, err)
			}
			made[ns] = true
		}
		ri, err := c.Resource(o)
		if err != nil {
			return err
		}
		in := o.DeepCopy()
		unstructured.RemoveNestedField(in.Object, "metadata", "resourceVersion")
		unstructured.RemoveNestedField(in.Object, "metadata", "uid")
		unstructured.RemoveNestedField(in.Object, "metadata", "creationTimestamp")
		created, err := ri.Create(ctx, in, metav1.CreateOptions{})
		if err != nil {
			// An existing object can fail validation before the name
			// check (the kubernetes Service's cluster IP is taken).
			if _, gerr := ri.Get(ctx, o.GetName(), metav1.GetOptions{}); gerr == nil {
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("create %s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
		status, has, _ := unstructured.NestedFieldCopy(o.Object, "status")
		if !has || status == nil {
			continue
		}
		created.Object["status"] = status
		if _, err := ri.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			// Kinds without a status subresource took the status on create.
			return fmt.Errorf("status of %s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
	return nil
}

// Delete deletes objects; missing ones are fine.
func (c *Client) Delete(ctx context.Context, objs ...*unstructured.Unstructured) error {
	var errs []error
	for _, o := range objs {
		ri, err := c.Resource(o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := ri.Delete(ctx, o.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
