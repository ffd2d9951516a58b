package audit

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// federation is a coordinator and two tenants that ran three rounds.
type federation struct {
	paths map[string]string // party → ledger path
	keys  map[string]ed25519.PrivateKey
	order []string // coordinator, acme, globex
}

func (f federation) files() []LedgerFile {
	var ps []string
	for _, p := range f.order {
		ps = append(ps, f.paths[p])
	}
	return Load(ps...)
}

func (f federation) trusted() []TrustedKey {
	var out []TrustedKey
	for _, p := range f.order {
		out = append(out, TrustedKey{Party: p, Key: f.keys[p].Public().(ed25519.PublicKey)})
	}
	return out
}

var tenantParams = map[string]ledger.Params{
	"acme":   {SamplingRate: 0.01, NoiseMultiplier: 1.1, ClipNorm: 1, Steps: 100},
	"globex": {SamplingRate: 0.02, NoiseMultiplier: 1.0, ClipNorm: 0.5, Steps: 50},
}

func hash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func clock() func() time.Time {
	t0 := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	n := 0
	return func() time.Time { n++; return t0.Add(time.Duration(n) * time.Minute) }
}

func buildFederation(t testing.TB, rounds int) federation {
	t.Helper()
	dir := t.TempDir()
	f := federation{paths: map[string]string{}, keys: map[string]ed25519.PrivateKey{},
		order: []string{"coordinator", "acme", "globex"}}
	ls := map[string]*ledger.Ledger{}
	for i, p := range f.order {
		k, err := keys.Generate(privacy.SeededReader(uint64(i + 1)))
		if err != nil {
			t.Fatal(err)
		}
		f.keys[p] = k
		f.paths[p] = filepath.Join(dir, p+".ledger")
		l, err := ledger.Open(f.paths[p], k, ledger.WithClock(clock()))
		if err != nil {
			t.Fatal(err)
		}
		ls[p] = l
	}
	must := func(e ledger.Entry, err error) ledger.Entry {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for r := 1; r <= rounds; r++ {
		for _, tenant := range []string{"acme", "globex"} {
			art := hash(fmt.Sprintf("masked update %s %d", tenant, r))
			e := ledger.Entry{Party: tenant, Task: "intent-cls", Round: int64(r), Tenant: tenant,
				Unit: ledger.UnitRecord, Mechanism: ledger.MechDPSGD, Params: tenantParams[tenant],
				Delta: 1e-5, EpsilonCap: 4, ArtifactHash: art}
			in := must(ls[tenant].Append(e))
			must(ls[tenant].Release(in.Seq, art))
			e.Party = "coordinator"
			e.ArtifactHash = ""
			cin := must(ls["coordinator"].Append(e))
			must(ls["coordinator"].Release(cin.Seq, art))
		}
		model := hash(fmt.Sprintf("global model %d", r))
		tl := ledger.Entry{Party: "coordinator", Task: "intent-cls", Round: int64(r), Tenant: "federation",
			Unit: ledger.UnitTenant, Mechanism: ledger.MechDPSGD, ArtifactHash: model,
			Params: ledger.Params{SamplingRate: 0.5, NoiseMultiplier: 2, ClipNorm: 1, Steps: 1},
			Delta:  1e-6, EpsilonCap: 6}
		in := must(ls["coordinator"].Append(tl))
		must(ls["coordinator"].Release(in.Seq, model))
	}
	for _, l := range ls {
		l.Close()
	}
	return f
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
