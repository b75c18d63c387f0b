package reconciler

// The drivers realize each fabric's intent (drivers.Desire): the tests
// translate for every platform.
import _ "github.com/fabric-reconciler/fabric-reconciler/internal/drivers/builtin"
