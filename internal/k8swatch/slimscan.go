package k8swatch

import (
	"bytes"
	"strconv"
)

// Direct decoders of the slim objects (slim.go) from JSON the loader has
// already validated, built on the structural scanner (jsonscan.go).
// json.Unmarshal validates every item again and decodes by reflection;
// at 50,000 Services and their EndpointSlices that is most of the time a
// large export takes to read. Each decoder accepts only what it can decode
// exactly as encoding/json would: exact keys (encoding/json also matches a
// key case-insensitively), no duplicate known keys, plain strings (no
// escapes), the JSON type each field expects. Anything else returns !ok and
// the caller decodes with encoding/json, so odd input keeps its exact
// behaviour and error. FuzzSlimScan checks the two agree.

// members calls fn for each member of obj whose key is exactly one of keys,
// with the key's index. It fails on a key that only folds to one of keys,
// on an escaped key, on a known key given twice, and when fn fails.
func members(obj []byte, keys []string, fn func(k int, v []byte) bool) bool {
	ok := true
	var seen uint32
	found := eachMember(obj, func(key, value []byte) {
		if !ok {
			return
		}
		if bytes.IndexByte(key, '\\') >= 0 {
			ok = false
			return
		}
		for i, k := range keys {
			if string(key) == k {
				if seen&(1<<i) != 0 {
					ok = false
					return
				}
				seen |= 1 << i
				ok = fn(i, value)
				return
			}
			if foldsTo(key, k) {
				ok = false
				return
			}
		}
	})
	return found && ok
}

// foldsTo: key matches k as encoding/json matches keys (bytes.EqualFold,
// Unicode simple folding, so "K" (U+212A, 3 bytes) matches "k"). An ASCII
// key of another length cannot.
func foldsTo(key []byte, k string) bool {
	if len(key) != len(k) {
		ascii := true
		for _, c := range key {
			if c >= 0x80 {
				ascii = false
				break
			}
		}
		if ascii {
			return false
		}
	}
	return bytes.EqualFold(key, []byte(k))
}

func isNull(v []byte) bool { return string(v) == "null" }

// scanString sets *dst from a plain JSON string; null leaves it as it is.
func scanString(v []byte, dst *string) bool {
	if isNull(v) {
		return true
	}
	s, ok := plainString(v)
	if ok {
		*dst = s
	}
	return ok
}

// scanStringPtr: null is nil.
func scanStringPtr(v []byte, dst **string) bool {
	if isNull(v) {
		*dst = nil
		return true
	}
	s, ok := plainString(v)
	if ok {
		*dst = &s
	}
	return ok
}

func scanBoolPtr(v []byte, dst **bool) bool {
	switch string(v) {
	case "null":
		*dst = nil
	case "true", "false":
		b := string(v) == "true"
		*dst = &b
	default:
		return false
	}
	return true
}

// scanInt32 takes an integer literal; encoding/json refuses fractions,
// exponents and overflow alike, so those go its way for its error.
func scanInt32(v []byte, dst *int32) bool {
	if isNull(v) {
		return true
	}
	if len(v) == 0 || (v[0] != '-' && (v[0] < '0' || v[0] > '9')) {
		return false
	}
	n, err := strconv.ParseInt(string(v), 10, 32)
	if err != nil {
		return false
	}
	*dst = int32(n)
	return true
}

// scanStringMap: null is nil; a null value goes encoding/json's way.
func scanStringMap(v []byte, dst *map[string]string) bool {
	if isNull(v) {
		*dst = nil
		return true
	}
	if v[0] != '{' {
		return false
	}
	m := *dst
	if m == nil {
		m = map[string]string{}
	}
	ok := true
	found := eachMember(v, func(key, value []byte) {
		if !ok {
			return
		}
		if bytes.IndexByte(key, '\\') >= 0 || !utf8Plain(key) {
			ok = false
			return
		}
		var s string
		if s, ok = plainString(value); ok {
			m[string(key)] = s
		}
	})
	*dst = m
	return found && ok
}

// utf8Plain: a key plainString would accept (no control characters, valid
// UTF-8), as encoding/json would keep it byte for byte.
func utf8Plain(key []byte) bool {
	_, ok := plainString(append(append([]byte{'"'}, key...), '"'))
	return ok
}

// scanObject: null leaves the struct as it is; anything but an object fails.
func scanObject(v []byte, keys []string, fn func(k int, v []byte) bool) bool {
	if isNull(v) {
		return true
	}
	if v[0] != '{' {
		return false
	}
	return members(v, keys, fn)
}

// scanArray: null is a nil slice, [] an empty one, as encoding/json makes
// them; each element is decoded into a zero element by fn.
func scanArray[T any](v []byte, dst *[]T, fn func(v []byte, e *T) bool) bool {
	if isNull(v) {
		*dst = nil
		return true
	}
	if v[0] != '[' {
		return false
	}
	out := make([]T, 0, 2)
	ok := true
	found := eachElement(v, func(e []byte) {
		if !ok {
			return
		}
		var x T
		ok = fn(e, &x)
		out = append(out, x)
	})
	*dst = out
	return found && ok
}

var metaKeys = []string{"name", "namespace", "labels", "annotations", "creationTimestamp"}

func scanMeta(v []byte, m *objectMetaFields) bool {
	return scanObject(v, metaKeys, func(k int, v []byte) bool {
		switch k {
		case 0:
			return scanString(v, &m.Name)
		case 1:
			return scanString(v, &m.Namespace)
		case 2:
			return scanStringMap(v, &m.Labels)
		case 3:
			return scanStringMap(v, &m.Annotations)
		default:
			if v[0] != '"' && !isNull(v) {
				return false
			}
			return m.CreationTimestamp.UnmarshalJSON(v) == nil
		}
	})
}

var (
	serviceKeys     = []string{"metadata", "spec", "status"}
	serviceSpecKeys = []string{"type", "loadBalancerIP", "externalTrafficPolicy", "ports"}
	portKeys        = []string{"name", "protocol", "port"}
	statusKeys      = []string{"loadBalancer"}
	loadBalancerKey = []string{"ingress"}
	ipKey           = []string{"ip"}
)

func scanService(raw []byte, s *slimService) bool {
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	return members(raw, serviceKeys, func(k int, v []byte) bool {
		switch k {
		case 0:
			return scanMeta(v, &s.objectMetaFields)
		case 1:
			return scanObject(v, serviceSpecKeys, func(k int, v []byte) bool {
				switch k {
				case 0:
					return scanString(v, &s.Spec.Type)
				case 1:
					return scanString(v, &s.Spec.LoadBalancerIP)
				case 2:
					return scanString(v, &s.Spec.ExternalTrafficPolicy)
				default:
					return scanArray(v, &s.Spec.Ports, func(v []byte, p *slimServicePort) bool {
						return scanObject(v, portKeys, func(k int, v []byte) bool {
							switch k {
							case 0:
								return scanString(v, &p.Name)
							case 1:
								return scanString(v, &p.Protocol)
							default:
								return scanInt32(v, &p.Port)
							}
						})
					})
				}
			})
		default:
			return scanObject(v, statusKeys, func(_ int, v []byte) bool {
				return scanObject(v, loadBalancerKey, func(_ int, v []byte) bool {
					return scanArray(v, &s.Status.LoadBalancer.Ingress, func(v []byte, in *slimIngress) bool {
						return scanObject(v, ipKey, func(_ int, v []byte) bool { return scanString(v, &in.IP) })
					})
				})
			})
		}
	})
}

var (
	sliceKeys     = []string{"metadata", "endpoints"}
	endpointKeys  = []string{"nodeName", "conditions"}
	conditionKeys = []string{"ready"}
)

func scanEndpointSlice(raw []byte, es *slimEndpointSlice) bool {
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	return members(raw, sliceKeys, func(k int, v []byte) bool {
		if k == 0 {
			return scanMeta(v, &es.objectMetaFields)
		}
		return scanArray(v, &es.Endpoints, func(v []byte, e *slimEndpoint) bool {
			return scanObject(v, endpointKeys, func(k int, v []byte) bool {
				if k == 0 {
					return scanStringPtr(v, &e.NodeName)
				}
				return scanObject(v, conditionKeys, func(_ int, v []byte) bool { return scanBoolPtr(v, &e.Conditions.Ready) })
			})
		})
	})
}

var (
	nodeKeys        = []string{"metadata", "spec", "status"}
	nodeSpecKeys    = []string{"podCIDR", "podCIDRs"}
	nodeStatusKeys  = []string{"addresses"}
	nodeAddressKeys = []string{"type", "address"}
)

func scanNode(raw []byte, n *slimNode) bool {
	if len(raw) == 0 || raw[0] != '{' {
		return false
	}
	return members(raw, nodeKeys, func(k int, v []byte) bool {
		switch k {
		case 0:
			return scanMeta(v, &n.objectMetaFields)
		case 1:
			return scanObject(v, nodeSpecKeys, func(k int, v []byte) bool {
				if k == 0 {
					return scanString(v, &n.Spec.PodCIDR)
				}
				return scanArray(v, &n.Spec.PodCIDRs, func(v []byte, s *string) bool {
					if isNull(v) {
						return true
					}
					return scanString(v, s)
				})
			})
		default:
			return scanObject(v, nodeStatusKeys, func(_ int, v []byte) bool {
				return scanArray(v, &n.Status.Addresses, func(v []byte, a *slimNodeAddress) bool {
					return scanObject(v, nodeAddressKeys, func(k int, v []byte) bool {
						if k == 0 {
							return scanString(v, &a.Type)
						}
						return scanString(v, &a.Address)
					})
				})
			})
		}
	})
}
