//go:build !amd64

package bert

// haveKernel is false off amd64: sgemmNN is never called there.
const haveKernel = false

func kern4x16(k int, x *float32, ldx int, w *float32, ldw int, c *float32, ldc int) {
	panic("bert: kern4x16 without an assembly kernel")
}
