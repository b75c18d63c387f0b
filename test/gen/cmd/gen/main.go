// Command gen writes a synthetic cluster (see package gen):
//
//	go run ./test/gen/cmd/gen -size L -out /tmp/bench-L
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/fabric-reconciler/fabric-reconciler/test/gen"
)

func main() {
	size := flag.String("size", "S", "S, M or L")
	out := flag.String("out", "", "folder to write into (required)")
	flag.Parse()
	for _, s := range gen.Sizes {
		if s.Name == *size && *out != "" {
			cluster, cfg, err := gen.Write(*out, s)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			fmt.Println(cluster, cfg)
			return
		}
	}
	fmt.Fprintln(os.Stderr, "usage: gen -size S|M|L -out DIR")
	os.Exit(2)
}
