package memfabric

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fabric-reconciler/fabric-reconciler/fabric"
)

// OpAdopt is recorded in Call.Op for an adoption.
const OpAdopt = "adopt"

// PutUnmarked places objects without any ownership mark, as a person
// building the fabric by hand would: foreign to the cluster (Observe
// reports their places), and offered for adoption by ObserveForAdoption.
func (f *Fabric) PutUnmarked(objs ...fabric.Object) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.unmarked == nil {
		f.unmarked = map[fabric.Key]fabric.Object{}
	}
	for _, o := range objs {
		o = fabric.Canonical(o)
		k := fabric.KeyOf(o)
		if _, dup := f.unmarked[k]; !dup {
			f.foreign = append(f.foreign, fabric.Foreign{Kind: k.Kind, Switch: k.Switch, ID: k.ID})
		}
		f.unmarked[k] = o
	}
}

// ObserveForAdoption is Observe with every unmarked object read.
func (d *driver) ObserveForAdoption(ctx context.Context) (fabric.Observed, error) {
	obs, err := d.Observe(ctx)
	if err != nil {
		return obs, err
	}
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	for i, fo := range obs.Foreign {
		if fo.Owner != "" {
			continue
		}
		if o, ok := d.f.unmarked[fo.Key()]; ok {
			obs.Foreign[i].Adoption = &fabric.Adoptable{Object: o}
		} else {
			obs.Foreign[i].Adoption = &fabric.Adoptable{Why: "memfabric holds no attributes for it (AddForeign)"}
		}
	}
	return obs, nil
}

// Adopt marks the plan's unmarked objects as owned, each only while it is
// still unmarked and identical to the desired object.
func (d *driver) Adopt(ctx context.Context, plan fabric.Changeset) (fabric.ApplyResult, error) {
	if err := ctx.Err(); err != nil {
		return fabric.ApplyResult{}, err
	}
	if !plan.AdoptOnly() {
		return fabric.ApplyResult{}, errors.New("memfabric: Adopt takes adoptions only")
	}
	d.f.mu.Lock()
	defer d.f.mu.Unlock()
	if d.closed {
		return fabric.ApplyResult{}, errors.New("memfabric: driver is closed")
	}
	began := time.Now()
	err := d.f.fail
	d.f.record(Call{At: began, Instance: d.instance, Op: OpAdopt, Changes: plan.Changes, Err: err})
	d.observe(OpAdopt, began, err)
	if err != nil {
		return fabric.ApplyResult{}, err
	}
	var res fabric.ApplyResult
	for _, c := range plan.Changes {
		k := c.Key()
		o, ok := d.f.unmarked[k]
		if !ok || len(fabric.Differences(o, c.After, nil)) > 0 || len(fabric.Differences(o, c.Before, nil)) > 0 {
			res.Conflicts = append(res.Conflicts, fabric.Conflict{Kind: k.Kind, Switch: k.Switch, ID: k.ID,
				Reason: "no longer an unmarked object identical to the desired one; not adopted"})
			continue
		}
		delete(d.f.unmarked, k)
		kept := d.f.foreign[:0]
		for _, fo := range d.f.foreign {
			if fo.Key() != k || fo.Owner != "" {
				kept = append(kept, fo)
			}
		}
		d.f.foreign = kept
		d.f.owned[k] = o
		res.Applied = append(res.Applied, c)
	}
	res.Messages = append(res.Messages, fmt.Sprintf("memfabric: %d object(s) adopted by %s", len(res.Applied), d.instance))
	if len(res.Conflicts) > 0 {
		return res, fmt.Errorf("%d adoption(s) refused", len(res.Conflicts))
	}
	return res, nil
}
