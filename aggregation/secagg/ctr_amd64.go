//go:build amd64 && !purego

package secagg

import "golang.org/x/sys/cpu"

// useVAES selects the AVX-512 VAES keystream kernel (ctr_amd64.s).
var useVAES = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VAES

//go:noescape
func ctrVAES(rk *[176]byte, ctr *[8]uint64, dst *byte, blocks int)

//go:noescape
func ctrVAESAdd(rk *[176]byte, ctr *[8]uint64, dst *uint32, blocks int)

//go:noescape
func ctrVAESSub(rk *[176]byte, ctr *[8]uint64, dst *uint32, blocks int)
