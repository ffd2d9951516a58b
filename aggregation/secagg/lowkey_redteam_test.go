package secagg

import (
	"slices"
	"testing"
)

// TestRedteamLowOrderAdvertKeys: a hostile tenant signs an advert whose
// mask key (or encryption key) is a low-order X25519 point — here the
// all-zero encoding, which every X25519 agreement turns into the all-zero
// secret that crypto/ecdh refuses. The advert's signature is valid, so
// before the fix the server relayed it, and every honest neighbour then
// failed: ShareKeys could not encrypt a share to the encryption key, and
// MaskInput could not agree a pairwise mask with the mask key, with an
// error that is neither ErrBlamed nor ErrBelowThreshold (the tenant
// process stopped, and the round with it). The server must refuse such an
// advert (the tenant counts as not advertised) and a client given one by
// the relay must leave that neighbour out, so the honest tenants finish
// with the sum of their inputs.
func TestRedteamLowOrderAdvertKeys(t *testing.T) {
	for _, field := range []string{"mask", "enc"} {
		t.Run(field, func(t *testing.T) {
			const n, hostile = 5, 4
			h := newHarnessC(t, n, 0, 3, 1, 8, 1)
			var ads []*AdvertiseMsg
			for i, c := range h.cl {
				m, err := c.Advertise()
				h.must(err)
				if i == hostile {
					if field == "mask" {
						m.MaskKey = [32]byte{}
					} else {
						m.EncKey = [32]byte{}
					}
					signAdvert(h.keys[hostile], m)
					ads = append(ads, m)
					if err := h.srv.OnAdvertise(uint32(i), m); err == nil {
						t.Logf("server accepted a low-order %s key", field)
					}
					continue
				}
				h.must(h.srv.OnAdvertise(uint32(i), m))
				ads = append(ads, m)
			}
			relayed, err := h.srv.Adverts()
			h.must(err)
			// The hostile tenant sends well-formed shares (if its advert
			// was relayed), so honest clients would mask with it.
			if len(relayed) == n {
				out, err := h.cl[hostile].ShareKeys(relayed)
				h.must(err)
				h.must(h.srv.OnShares(hostile, out))
			}
			for i, c := range h.cl {
				if i == hostile {
					continue
				}
				// The client gets every advert, the bad one included.
				out, err := c.ShareKeys(ads)
				if err != nil {
					t.Fatalf("client %d: ShareKeys failed because of a peer's signed advert: %v", i, err)
				}
				for _, s := range out {
					if s.To == hostile && len(relayed) < n {
						// The server refused the advert: it will refuse a
						// share for that peer.
						t.Fatalf("client %d made a share for %d, whose keys are unusable", i, hostile)
					}
				}
				if err := h.srv.OnShares(uint32(i), out); err != nil {
					t.Fatalf("client %d: server refused its shares: %v", i, err)
				}
			}
			h.must(h.srv.CloseStage(StageShareKeys))
			h.checkShares(nil) // the hostile tenant files its receipt too
			for i, c := range h.cl {
				if i == hostile {
					continue
				}
				req, err := h.srv.MaskRequestFor(uint32(i))
				h.must(err)
				m, err := c.MaskInput(req, h.inputs[i])
				if err != nil {
					t.Fatalf("client %d: MaskInput failed because of a peer's signed advert: %v", i, err)
				}
				h.must(h.srv.OnMaskedInput(uint32(i), m))
			}
			req, err := h.requestUnmask(nil)
			h.must(err)
			h.unmask(req, nil)
			sum, surv, err := h.srv.Result()
			h.must(err)
			if slices.Contains(surv, hostile) {
				t.Fatalf("survivors %v include the tenant with unusable keys", surv)
			}
			h.checkSum(sum, surv)
		})
	}
}
