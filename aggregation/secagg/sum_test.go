package secagg

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/fedb2b/fedb2b/privacy"
)

// TestAddKernelsMatchGeneric: the vector and parallel sums equal the
// word-by-word Go loops at every length (tails, one part, several parts).
func TestAddKernelsMatchGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 31, 32, 33, 1000, minPartWords - 1, 2*minPartWords + 77, 5*minPartWords + 3} {
		sum := make([]uint32, n)
		v := make([]uint32, n)
		b := make([]byte, 4*n)
		for i := range sum {
			sum[i], v[i] = r.Uint32(), r.Uint32()
		}
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		want := slices.Clone(sum)
		addBigEndianGeneric(want, b)
		got := slices.Clone(sum)
		addBigEndian(got, b)
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: addBigEndian differs from the generic loop", n)
		}
		for i := range want {
			want[i] += v[i]
		}
		addVector(got, v)
		if !slices.Equal(got, want) {
			t.Fatalf("n=%d: addVector differs from the generic loop", n)
		}
	}
}

// maskedSession returns a session at the masked-input stage and the
// encoded masked inputs of its clients.
func maskedSession(t testing.TB, n, d int) (*session, [][]byte, []*MaskedInput) {
	s := setupSession(t, n, n-1, n/2+1, d)
	s.checkShares(t)
	input := make([]uint32, d)
	var wire [][]byte
	var ms []*MaskedInput
	for i := range n {
		for j := range input {
			input[j] = uint32(i*j + 7)
		}
		mr, _ := s.srv.MaskRequestFor(uint32(i))
		m, err := s.cl[i].MaskInput(mr, input)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := m.MarshalBinary()
		wire = append(wire, b)
		ms = append(ms, m)
	}
	return s, wire, ms
}

func cloneServer(s *Server) *Server {
	c := *s
	c.sum, c.u3 = slices.Clone(s.sum), slices.Clone(s.u3)
	c.signedBy, c.replied, c.blamed = slices.Clone(s.signedBy), slices.Clone(s.replied), slices.Clone(s.blamed)
	c.selfSh, c.keySh, c.sigs = slices.Clone(s.selfSh), slices.Clone(s.keySh), slices.Clone(s.sigs)
	return &c
}

// deliverDecoded is the old path: decode, then OnMaskedInput.
func deliverDecoded(s *Server, from uint32, b []byte) error {
	var m MaskedInput
	if err := m.UnmarshalBinary(b); err != nil {
		return err
	}
	return s.OnMaskedInput(from, &m)
}

// TestOnMaskedInputWireSameAsDecoded: streaming the wire bytes into the
// sum gives exactly the sum of decoding and adding, the unmasked result is
// the plain sum of the inputs, and every hostile variant (truncated,
// trailing bytes, wrong tag/version/session/sender/length, duplicate, late)
// is refused with the same error class by both paths, leaving the sum
// unchanged.
func TestOnMaskedInputWireSameAsDecoded(t *testing.T) {
	const n, d = 5, 3*minPartWords + 5 // several parts and a tail
	s, wire, _ := maskedSession(t, n, d)
	fast, slow := cloneServer(s.srv), cloneServer(s.srv)
	hostile := func(b []byte) [][]byte {
		other := slices.Clone(b)
		other[5] ^= 1 // session
		from := slices.Clone(b)
		from[37] ^= 1 // claimed sender
		short := slices.Clone(b[:len(b)-4])
		binary.BigEndian.PutUint32(short[38:], d-1) // consistent count, wrong dimension
		tag := slices.Clone(b)
		tag[0] = tagUnmaskRequest
		ver := slices.Clone(b)
		ver[1] = 1
		return [][]byte{b[:len(b)-1], append(slices.Clone(b), 0), other, from, short, tag, ver, b[:10], nil}
	}
	for i, b := range wire {
		for j, h := range hostile(b) {
			ef, es := fast.OnMaskedInputWire(uint32(i), h), deliverDecoded(slow, uint32(i), h)
			if ef == nil || es == nil || !sameClass(ef, es) {
				t.Fatalf("input %d variant %d: wire path %v, decoded path %v", i, j, ef, es)
			}
		}
		if !slices.Equal(fast.sum, slow.sum) {
			t.Fatalf("input %d: a refused message changed the sum", i)
		}
		if err := fast.OnMaskedInputWire(uint32(i), b); err != nil {
			t.Fatal(err)
		}
		if err := deliverDecoded(slow, uint32(i), b); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(fast.sum, slow.sum) {
			t.Fatalf("after input %d the sums differ", i)
		}
		ef, es := fast.OnMaskedInputWire(uint32(i), b), deliverDecoded(slow, uint32(i), b)
		if !errors.Is(ef, ErrDuplicate) || !errors.Is(es, ErrDuplicate) {
			t.Fatalf("duplicate: wire %v, decoded %v", ef, es)
		}
	}
	s.srv = fast
	req := s.consistency(t)
	for _, u := range req.Survivors {
		resp, err := s.cl[u].Unmask(req)
		if err != nil {
			t.Fatal(err)
		}
		if err := fast.OnUnmask(u, resp); err != nil {
			t.Fatal(err)
		}
	}
	sum, _, err := fast.Result()
	if err != nil {
		t.Fatal(err)
	}
	for j, w := range sum {
		want := uint32(0)
		for i := range n {
			want += uint32(i*j + 7)
		}
		if w != want {
			t.Fatalf("coordinate %d: sum %d, want %d", j, w, want)
		}
	}
	if err := fast.OnMaskedInputWire(0, wire[0]); !errors.Is(err, ErrWrongStage) {
		t.Fatalf("late masked input: %v", err)
	}
}

func sameClass(a, b error) bool {
	for _, e := range []error{ErrMalformed, ErrWrongSession, ErrInconsistent, ErrDuplicate, ErrWrongStage, ErrUnknownParticipant, ErrParams} {
		if errors.Is(a, e) != errors.Is(b, e) {
			return false
		}
	}
	return true
}

// FuzzServerOnMaskedInputWire: for any bytes, the wire path and the
// decode-then-add path agree on acceptance, error class and the sum.
func FuzzServerOnMaskedInputWire(f *testing.F) {
	s, wire, _ := maskedSession(f, 3, 40)
	for _, b := range wire {
		f.Add(uint32(0), b)
		f.Add(uint32(1), b[:len(b)-3])
	}
	f.Fuzz(func(t *testing.T, from uint32, b []byte) {
		fast, slow := cloneServer(s.srv), cloneServer(s.srv)
		ef, es := fast.OnMaskedInputWire(from, b), deliverDecoded(slow, from, b)
		if (ef == nil) != (es == nil) || !sameClass(ef, es) {
			t.Fatalf("wire path %v, decoded path %v", ef, es)
		}
		if !slices.Equal(fast.sum, slow.sum) || !slices.Equal(fast.u3, slow.u3) {
			t.Fatal("the two paths left different state")
		}
	})
}

// TestApplyAllParallelMatchesSequential: splitting the masks across cores
// (each part seeking its streams) gives exactly the sequential masks,
// including counters that carry across 64 bits and wrap at 2^128.
func TestApplyAllParallelMatchesSequential(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4)) // several parts on any machine
	r := rand.New(rand.NewPCG(5, 6))
	seeds := make([]maskSeed, 5)
	subs := make([]bool, len(seeds))
	for i := range seeds {
		for j := range seeds[i].key {
			seeds[i].key[j] = byte(r.Uint32())
			seeds[i].iv[j] = byte(r.Uint32())
		}
		subs[i] = i%2 == 0
	}
	for j := 8; j < 16; j++ {
		seeds[1].iv[j] = 0xff // low half about to carry
	}
	for j := range seeds[2].iv {
		seeds[2].iv[j] = 0xff // wraps at 2^128
	}
	for _, n := range []int{0, 5, 2*minPartWords + 1001, 3 * minPartWords} {
		v := make([]uint32, n)
		for i := range v {
			v[i] = r.Uint32()
		}
		want := slices.Clone(v)
		newExpander().applyAll(want, seeds, subs)
		for _, off := range []int{4, 2048, n / 2 &^ 3} { // seeking, whatever the core count
			if off > n {
				continue
			}
			part := slices.Clone(v[off:])
			newExpander().applyAllAt(part, off, seeds, subs)
			if !slices.Equal(part, want[off:]) {
				t.Fatalf("n=%d: masks from offset %d differ from sequential", n, off)
			}
		}
		// The client's fused path: input + masks, emitted per chunk.
		masked, par := make([]uint32, n), make([]uint32, n)
		newExpander().maskChunks(v, seeds, subs, func(off int, w []uint32) { copy(masked[off:], w) })
		maskChunksParallel(v, seeds, subs, func(off int, w []uint32) { copy(par[off:], w) })
		if !slices.Equal(masked, want) || !slices.Equal(par, want) {
			t.Fatalf("n=%d: masked chunks (sequential %v, parallel %v) differ from applyAll", n, slices.Equal(masked, want), slices.Equal(par, want))
		}
		applyAllParallel(v, seeds, subs)
		if !slices.Equal(v, want) {
			t.Fatalf("n=%d: parallel masks differ from sequential", n)
		}
	}
}

// TestAppendMaskedInputSameBytes: the fused mask-and-encode path gives
// exactly MaskInput(...).MarshalBinary(), appended after dst's contents,
// and refuses what MaskInput refuses.
func TestAppendMaskedInputSameBytes(t *testing.T) {
	for _, d := range []int{1, 37, 3*chunkBytes/4 + 45} {
		s := newSuite(t, 4, d, 0)
		input := make([]uint32, d)
		for i := range input {
			input[i] = uint32(i) * 2654435761
		}
		fresh := func() *Client {
			c, err := NewClient(ClientConfig{Params: s.p, ID: s.ps[0].ID, Identity: s.keys[0], Rand: privacy.SeededReader(100)})
			if err != nil {
				t.Fatal(err)
			}
			c.Advertise()
			c.ShareKeys(s.ads)
			if _, err := c.CheckShares(s.shares0); err != nil {
				t.Fatal(err)
			}
			return c
		}
		m, err := fresh().MaskInput(s.mreq0, input)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := m.MarshalBinary()
		c := fresh()
		got, err := c.AppendMaskedInput([]byte("prefix"), s.mreq0, input)
		if err != nil {
			t.Fatal(err)
		}
		if string(got[:6]) != "prefix" || !slices.Equal(got[6:], want) {
			t.Fatalf("d=%d: fused encoding differs from MaskInput+MarshalBinary", d)
		}
		if _, err := c.AppendMaskedInput(nil, s.mreq0, input); !errors.Is(err, ErrWrongStage) {
			t.Fatalf("second masking: %v", err)
		}
		if _, err := fresh().AppendMaskedInput(nil, s.mreq0, input[1:]); !errors.Is(err, ErrParams) {
			t.Fatalf("short input: %v", err)
		}
	}
}
