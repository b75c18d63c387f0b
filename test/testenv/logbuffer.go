package testenv

import (
	"bytes"
	"sync"
)

// LogBuffer collects what a logger writes from several goroutines (drivers,
// controller replicas, emulators), for tests to read and grep.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
