package bert

import "golang.org/x/sys/cpu"

// haveKernel reports whether kern4x16 may run: AVX2 and FMA with OS
// support for the YMM registers.
var haveKernel = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kern4x16 adds X[0:4][0:k]·W[0:k][0:16] to C[0:4][0:16] (row-major,
// strides in elements). The caller checks bounds; see sgemmNN.
//
//go:noescape
func kern4x16(k int, x *float32, ldx int, w *float32, ldw int, c *float32, ldc int)
