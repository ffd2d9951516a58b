//go:build !amd64 || purego

package secagg

const useVAES = false

func ctrVAES(rk *[176]byte, ctr *[8]uint64, dst *byte, blocks int) {
	panic("secagg: no VAES kernel on this platform")
}

func ctrVAESAdd(rk *[176]byte, ctr *[8]uint64, dst *uint32, blocks int) {
	panic("secagg: no VAES kernel on this platform")
}

func ctrVAESSub(rk *[176]byte, ctr *[8]uint64, dst *uint32, blocks int) {
	panic("secagg: no VAES kernel on this platform")
}

func expandKey128(key [16]byte) (rk [176]byte) {
	panic("secagg: no VAES kernel on this platform")
}
