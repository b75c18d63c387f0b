package main

// The ACI driver (APIC REST API).
import _ "github.com/fabric-reconciler/fabric-reconciler/drivers/aci"
