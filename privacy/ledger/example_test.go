package ledger_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// A tenant's round: check the budget, write the intent (durable), release,
// record the release.
func Example() {
	dir, _ := os.MkdirTemp("", "ledger-example")
	defer os.RemoveAll(dir)
	key, _ := keys.Generate(privacy.SeededReader(1)) // crypto/rand in production
	l, err := ledger.Open(filepath.Join(dir, "ledger.jsonl"), key)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer l.Close()

	plan := ledger.Plan{Mechanism: ledger.MechDPSGD,
		Params: ledger.Params{SamplingRate: 0.01, NoiseMultiplier: 1.1, ClipNorm: 1, Steps: 100}}
	after, ok, _ := l.Check("acme", ledger.UnitRecord, plan, 3, 1e-5)
	fmt.Printf("ε after the round: %.4f, within cap: %v\n", after, ok)

	update := []byte("masked update bytes")
	sum := sha256.Sum256(update)
	hash := hex.EncodeToString(sum[:])
	in, err := l.Append(ledger.Entry{Party: "acme", Task: "intent-cls", Round: 1, Tenant: "acme",
		Unit: ledger.UnitRecord, Mechanism: plan.Mechanism, Params: plan.Params,
		Delta: 1e-5, EpsilonCap: 3, ArtifactHash: hash})
	if err != nil {
		fmt.Println(err) // ledger.ErrBudgetExceeded when over the cap
		return
	}
	// ... send update: only now, after Append returned ...
	if _, err := l.Release(in.Seq, hash); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("spent %.4f, pending %d\n", l.Spent(ledger.UnitRecord, "acme"), len(l.Pending()))
	// Output:
	// ε after the round: 0.9561, within cap: true
	// spent 0.9561, pending 0
}
