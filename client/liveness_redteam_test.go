package client

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	"github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/protocol"
)

// TestRedteamDecliningNeighbourDoesNotStopTenants: a tenant that declines
// a secure round (or a hostile one that simply never advertises) leaves
// its neighbours fewer than t advertised keys when the graph is sparse
// and t is close to k (n = 6, k = 4, t = 4, the threshold a tenant asking
// for MinHonestInSum = 4 needs). The coordinator still has t+1 adverts and
// relays them; each neighbour's secagg client then refuses to share keys
// (ErrBelowThreshold). That is right for the round, but the tenant
// process must not exit because of it: the round is lost, the federation
// goes on, and Run returns normally when it finishes (here after two
// abandoned rounds). Before the fix
// Run returned the below-threshold error and the tenant stopped.
func TestRedteamDecliningNeighbourDoesNotStopTenants(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a six-tenant federation")
	}
	enc, err := models.NewHashingEncoder(models.HashingConfig{Dim: 32})
	if err != nil {
		t.Fatal(err)
	}
	labels := []string{"food", "steel"}
	var train []dataset.Example
	for i := range 20 {
		train = append(train, dataset.Example{Text: fmt.Sprintf("item %d of %s", i, labels[i%2]), Label: labels[i%2]})
	}
	clf, err := models.NewClassifier(models.ClassifierConfig{InputDim: enc.Dim(), Rank: 2, Classes: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	spec := protocol.TaskSpec{ID: "t", Kind: task.KindClassify, EncoderID: enc.ID(), InputDim: enc.Dim(), Rank: 2, Labels: labels, Seed: 1, NumParams: clf.NumParams()}
	spec.EvalLen = task.ClassStatsLen(spec)
	const n = 6
	fed, err := coordinator.New(coordinator.Config{
		Task: spec, Rounds: 1, Strategy: &aggregation.FedAvg{},
		Train:     protocol.TrainParams{SampleRate: 0.5, ClipNorm: 1, NoiseMultiplier: 1, LocalSteps: 1, LearningRate: 0.1},
		MinJoined: n, MinClients: 4, RoundTimeout: 2 * time.Second, Retry: 10 * time.Millisecond, MaxFailedRounds: 2,
		Secure: &coordinator.SecureConfig{ClipNorm: 1, Neighbours: 4, Threshold: 4},
	}, clf.Params())
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan coordinator.Event, 64)
	go func() {
		for range events {
		}
	}()
	svc := coordinator.NewService(fed, protocol.EncodeParams, events, nil)
	conn := serveInMemory(t, svc)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go svc.Run(ctx, 10*time.Millisecond)

	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		_, priv, _ := ed25519.GenerateKey(privacy.SeededReader(uint64(100 + i)))
		pol := Policy{Budget: Budget{Epsilon: 100, Delta: 1e-5}}
		if i == 0 {
			pol.Tasks = []string{"another task"} // declines every round of "t"
		}
		c, err := New(Config{Tenant: fmt.Sprintf("tenant%d", i), Encoder: enc, Train: train, Test: train[:4], Spends: &MemSpendLog{},
			Policy: pol, Identity: priv, Reconnect: time.Second, Rand: privacy.SeededReader(uint64(i + 1))})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Run(ctx, conn)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("tenant%d stopped: %v", i, err)
		}
	}
}
