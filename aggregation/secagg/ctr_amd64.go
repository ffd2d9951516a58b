//go:build amd64 && !purego

package secagg

import "golang.org/x/sys/cpu"

// useVAES selects the AVX-512 VAES keystream kernel (ctr_amd64.s).
var useVAES = cpu.X86.HasAES && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VAES

//go:noescape
func ctrVAES(rk *[176]byte, ctr *[8]uint64, dst *byte, blocks int)

//go:noescape
func ctrVAESAdd(rk *[176]byte, ctr *[8]uint64, dst *uint32, blocks int)

//go:noescape
func ctrVAESSub(rk *[176]byte, ctr *[8]uint64, dst *uint32, blocks int)

// expandKey128Asm writes the 11 AES-128 round keys of key to rk
// (AESKEYGENASSIST: constant time; every VAES CPU has AES-NI).
//
//go:noescape
func expandKey128Asm(key *[16]byte, rk *[176]byte)

// expandKey128 is the AES-128 key schedule (FIPS 197 §5.2): 11 round
// keys in the byte order AESENC takes them.
func expandKey128(key [16]byte) (rk [176]byte) {
	expandKey128Asm(&key, &rk)
	return rk
}
