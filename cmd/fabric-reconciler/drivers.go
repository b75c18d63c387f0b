package main

// The built-in drivers register themselves.
import _ "github.com/fabric-reconciler/fabric-reconciler/internal/drivers/builtin"
