package main

import _ "github.com/fabric-reconciler/fabric-reconciler/drivers/nxos"
