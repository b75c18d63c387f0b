package testenv

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestLogBuffer(t *testing.T) {
	var l LogBuffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fmt.Fprintf(&l, "line %d\n", i)
		}()
	}
	wg.Wait()
	if n := strings.Count(l.String(), "\n"); n != 8 {
		t.Fatalf("%d lines in %q", n, l.String())
	}
}
