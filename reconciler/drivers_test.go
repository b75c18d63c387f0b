package reconciler

// The drivers realize each fabric's intent (drivers.Desire): the tests
// translate for every platform.
import (
	_ "github.com/fabric-reconciler/fabric-reconciler/drivers/aci"
	_ "github.com/fabric-reconciler/fabric-reconciler/drivers/frr"
	_ "github.com/fabric-reconciler/fabric-reconciler/drivers/nxos"
)
