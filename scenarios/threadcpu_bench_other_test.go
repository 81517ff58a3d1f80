//go:build !linux

package scenarios

import "time"

// threadCPU is the CPU time the calling thread has used; measured on Linux only (0 elsewhere).
func threadCPU() time.Duration { return 0 }
