// Package builtin registers every driver built into fabric-reconciler: import
// it for its side effect wherever configurations are read or fabrics
// driven (the binary, tests that read the shipped configurations).
package builtin

import (
	_ "github.com/fabric-reconciler/fabric-reconciler/internal/drivers/aci"
	_ "github.com/fabric-reconciler/fabric-reconciler/internal/drivers/frr"
	_ "github.com/fabric-reconciler/fabric-reconciler/internal/drivers/nxos"
)
