package simulate

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fedb2b/fedb2b/aggregation"
	"github.com/fedb2b/fedb2b/aggregation/secagg"
	"github.com/fedb2b/fedb2b/api"
	"github.com/fedb2b/fedb2b/client"
	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/dataset"
	modeltask "github.com/fedb2b/fedb2b/models/task"
	"github.com/fedb2b/fedb2b/privacy"
	"github.com/fedb2b/fedb2b/privacy/adaptive"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/privacy/ledger"
	"github.com/fedb2b/fedb2b/protocol"
)

// errKilled is what a killed tenant's client returns.
var errKilled = errors.New("simulate: tenant killed by fault injection")

// Run runs the federation and, if cfg.Baselines, the baselines. onRound, if
// not nil, is called after each round's evaluation.
func Run(ctx context.Context, cfg Config, onRound func(RoundReport)) (*Report, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	cfg.progress("splitting and encoding the tenants' data")
	split, err := prepare(&cfg)
	if err != nil {
		return nil, err
	}
	cfg.Data = nil // the split holds the examples: the pooled list can go (memory, #18)
	rep := &Report{Config: summarise(cfg, split)}
	cfg.progress("federated training over the coordinator")
	fed, err := classifyFederation(cfg, split)
	if err != nil {
		return nil, err
	}
	if err := runFederation(ctx, cfg, fed, rep, onRound); err != nil {
		return rep, err
	}
	if (cfg.EvalEpsilon > 0 || !cfg.evaluates()) && rep.FinalModel != nil {
		// What the operator saw was noised, or nothing: count the final
		// model exactly (simulation only) with the tenants' own learners.
		kind, err := modeltask.Lookup(fed.Spec.Kind)
		if err != nil {
			return rep, err
		}
		cfg.progress("counting the final model exactly on every tenant's held-out data")
		ex, _, err := exactValues(ctx, fed, rep.learners, kind, rep.FinalModel)
		if err != nil {
			return rep, err
		}
		rep.FinalExact = &Metrics{Accuracy: ex["accuracy"], MacroF1: ex["macro_f1"], Examples: int64(ex["examples"])}
	}
	if cfg.Baselines && (cfg.Adapter == "" || cfg.Adapter == modeltask.AdapterHead) {
		cfg.progress("baselines: each tenant alone with the same DP, and centralized")
		if err := runBaselines(ctx, cfg, split, rep); err != nil {
			return rep, err
		}
	}
	if cfg.Baselines && cfg.Adapter != modeltask.AdapterEncoderLoRA {
		cfg.progress("baselines: pooled and each tenant alone without DP (logistic regression)")
		if err := runHonestBaselines(ctx, cfg, split, rep); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// tenantData is one tenant's private train and held-out examples.
type tenantData struct {
	name        string
	train, test []dataset.Example
}

type splitData struct {
	labels  []string
	tenants []tenantData
}

// prepare splits the data and calibrates the noise.
func prepare(cfg *Config) (*splitData, error) {
	data := cfg.Data
	if data == nil {
		data = dataset.Synthesize(dataset.SynthConfig{Seed: cfg.Seed, Records: cfg.SynthRecords})
	}
	enc, err := models.OrDefault(cfg.Encoder)
	if err != nil {
		return nil, err
	}
	cfg.Encoder = enc
	parts, err := dataset.SplitDirichlet(data, cfg.Tenants, cfg.Alpha, cfg.Seed, dataset.SplitOptions{})
	if err != nil {
		return nil, fmt.Errorf("simulate: split: %w", err)
	}
	// The task's label set is public: the generator's industry list for
	// synthetic data, never what the tenants' records happen to contain.
	// A --data file stands for a public benchmark whose label set is
	// published with it; its labels are read from the pooled file, which
	// only a simulation holds.
	labels, _ := dataset.LabelIndex(data)
	if cfg.Data == nil {
		labels = labels[:0]
		for _, ind := range dataset.Industries() {
			labels = append(labels, ind.ID)
		}
	}
	s := &splitData{labels: labels}
	for i, p := range parts {
		train, test := dataset.TrainTestSplit(p, cfg.TestFraction, dataset.SimulationSplitKey(cfg.Seed, i))
		s.tenants = append(s.tenants, tenantData{name: fmt.Sprintf("tenant-%d", i+1), train: train, test: test})
	}
	kind, err := modeltask.Lookup(modeltask.KindClassify)
	if err != nil {
		return nil, err
	}
	if err := calibrateFor(cfg, kind); err != nil {
		return nil, err
	}
	return s, nil
}

func (c *Config) strategy() aggregation.Strategy {
	if c.Strategy == "fedadam" {
		return &aggregation.FedAdam{Eta: c.ServerLR}
	}
	return &aggregation.FedAvg{ServerLearning: c.ServerLR}
}

// classifyFederation is the classification task of the split: the LoRA
// classifier over cfg.Encoder, each tenant's learner over its examples.
func classifyFederation(cfg Config, s *splitData) (TaskFederation, error) {
	spec, initial, err := modeltask.ClassifySpec(modeltask.KindClassify, modeltask.ClassifySetup{ID: "classify-industry", Labels: s.labels,
		Seed: cfg.Seed, Rank: cfg.Rank, Alpha: cfg.LoRAAlpha, Adapter: cfg.Adapter, LoRALayers: cfg.LoRALayers}, cfg.Encoder)
	if err != nil {
		return TaskFederation{}, fmt.Errorf("simulate: %w", err)
	}
	t := TaskFederation{Spec: spec, Initial: initial}
	for _, td := range s.tenants {
		t.Tenants = append(t.Tenants, TaskTenant{Name: td.name, Learner: modeltask.NewClassifier(cfg.Encoder, td.train, td.test, cfg.Log)})
	}
	return t, nil
}

func runFederation(ctx context.Context, cfg Config, t TaskFederation, rep *Report, onRound func(RoundReport)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	task := t.Spec
	if _, err := modeltask.ExpectedBatch(task); err != nil {
		// The operator's public normaliser, announced with the task.
		if err := modeltask.SetExpectedBatch(&task, cfg.ExpectedBatch); err != nil {
			return fmt.Errorf("simulate: %w", err)
		}
	}
	if _, ok := task.Options[protocol.OptionEvalBound]; !ok {
		// The coordinator's range check on each tenant's statistics.
		if err := modeltask.SetEvalBound(&task, modeltask.DefaultMaxEvalUnits); err != nil {
			return fmt.Errorf("simulate: %w", err)
		}
	}
	names := t.names()
	ccfg := coordinator.Config{
		Task: task, Rounds: cfg.Rounds, Strategy: cfg.strategy(),
		Train: protocol.TrainParams{SampleRate: cfg.SampleRate, ClipNorm: cfg.ClipNorm, NoiseMultiplier: cfg.NoiseMultiplier,
			LocalSteps: cfg.LocalSteps, LearningRate: cfg.LearningRate, WeightEpsilon: cfg.WeightEpsilon},
		MinJoined: cfg.Tenants, MinClients: cfg.MinClients, RoundTimeout: cfg.RoundTimeout, Retry: 20 * time.Millisecond,
		InsecurePlainAggregation: cfg.InsecurePlainAggregation, EvalEpsilon: cfg.EvalEpsilon, EvalEvery: cfg.EvalEvery,
		SkipEvaluation: !cfg.evaluates(), AverageDecay: cfg.AverageDecay,
	}
	if !cfg.InsecurePlainAggregation {
		// Every party gets its own stream (derived from cfg.Rand when
		// seeded): a shared reader would be used from many goroutines.
		coordRand, err := deriveReader(cfg.Rand)
		if err != nil {
			return err
		}
		ccfg.Secure = &coordinator.SecureConfig{ClipNorm: cfg.UpdateClip, Neighbours: cfg.Neighbours, Threshold: cfg.Threshold, Rand: coordRand}
		if cfg.weighted() {
			ccfg.Secure.MaxWeight = cfg.MaxWeight
		}
		if cfg.distributed() {
			if ccfg.Secure.RecordDP, err = cfg.recordDP(task); err != nil {
				return err
			}
		}
		if cfg.TenantEpsilon > 0 {
			ccfg.Secure.TenantDP = &coordinator.TenantDP{Epsilon: cfg.TenantEpsilon, Delta: cfg.Delta}
			if cfg.AdaptiveQuantile > 0 {
				ccfg.Secure.AdaptiveClip = &adaptive.Config{TargetQuantile: cfg.AdaptiveQuantile, LearningRate: 0.2}
			}
		}
	}
	fed, err := coordinator.New(ccfg, t.Initial)
	if err != nil {
		return err
	}
	events := make(chan coordinator.Event, 64)
	svc := coordinator.NewService(fed, protocol.EncodeParams, events, nil)
	var record func(*coordinator.Federation, coordinator.Event) error
	if cfg.Workdir != "" {
		_, led, err := openParty(cfg.Workdir, coordinator.LedgerParty)
		if err != nil {
			return err
		}
		defer led.Close()
		rec := &coordinator.LedgerRecorder{Ledger: led, Task: task.ID, Train: ccfg.Train}
		record = rec.Record
		rep.Ledgers = append(rep.Ledgers, PartyFiles{Party: coordinator.LedgerParty, Ledger: led.Path(),
			PublicKey: keys.PublicPath(filepath.Join(cfg.Workdir, coordinator.LedgerParty, "signing.key.age"))})
	}
	if record != nil || cfg.Observe != nil {
		svc.SetRecorder(func(f *coordinator.Federation, e coordinator.Event) error {
			if cfg.Observe != nil {
				cfg.Observe(t.Spec, f, e)
			}
			if record != nil {
				return record(f, e)
			}
			return nil
		})
	}
	tr, cleanup, err := newTransport(cfg.Workdir, cfg.InsecureNoTLS)
	if err != nil {
		return err
	}
	defer cleanup()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("simulate: listen on loopback: %w", err)
	}
	srv, err := tr.server(svc)
	if err != nil {
		return err
	}
	go srv.Serve(lis)
	defer srv.Stop()
	go svc.Run(ctx, 20*time.Millisecond)

	var wg sync.WaitGroup
	results := make([]client.Result, len(names))
	errs := make([]error, len(names))
	logs := make([]client.SpendLog, len(names))
	drops := planDrops(cfg, names)
	// Keep the learner each client builds: after the run it still holds
	// the tenant's local state (a recommender's customer vectors) and its
	// encoded data, for the exact figures.
	rep.learners = make([]modeltask.Learner, len(t.Tenants))
	for i, td := range t.Tenants {
		factory := td.Learner
		td := tenantRef{name: td.Name, learner: func(ctx context.Context, spec protocol.TaskSpec) (modeltask.Learner, error) {
			l, err := factory(ctx, spec)
			rep.learners[i] = l
			return l, err
		}}
		var identity ed25519.PrivateKey
		if cfg.Workdir != "" {
			signer, led, err := openParty(cfg.Workdir, td.name)
			if err != nil {
				return err
			}
			defer led.Close()
			identity, logs[i] = signer, client.NewLedgerSpendLog(led, td.name)
			rep.Ledgers = append(rep.Ledgers, PartyFiles{Party: td.name, Ledger: led.Path(),
				PublicKey: keys.PublicPath(filepath.Join(cfg.Workdir, td.name, "signing.key.age"))})
		} else {
			if _, identity, err = ed25519.GenerateKey(cfg.Rand); err != nil {
				return err
			}
			logs[i] = &client.MemSpendLog{}
		}
		// client.New reads from cfg.Rand at once; enrolment does not, so
		// enrolling first keeps seeded runs reproducible.
		tdir := ""
		if tr != nil {
			tdir = filepath.Join(tr.dir, "..", td.name, "tls")
		}
		conn, ca, err := tr.dial(ctx, lis.Addr().String(), td.name, tdir, identity.Public().(ed25519.PublicKey))
		if err != nil {
			return err
		}
		c, err := newTenantClient(cfg, td, logs[i], drops[td.name], identity, ca)
		if err != nil {
			conn.Close()
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			fc := api.NewFederationClient(conn)
			if cfg.WrapConn != nil {
				fc = cfg.WrapConn(td.name, fc)
			}
			results[i], errs[i] = c.Run(ctx, fc)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	// spent is each tenant's ε through round r (all rounds if r = 0): a
	// fast tenant may already have recorded the next round's spend.
	exact := len(cfg.ExactReleases()) > 0
	spent := func(r int) Epsilons {
		m := Epsilons{}
		for i, name := range names {
			var upto []client.Spend
			for _, sp := range logs[i].Spends() {
				if r == 0 || sp.Round <= r {
					upto = append(upto, sp)
				}
			}
			m[name], _ = client.Epsilon(upto, cfg.Delta)
			if exact && len(upto) > 0 {
				m[name] = math.Inf(1) // it took part: an exact release
			}
		}
		return m
	}
	tenantAcc := map[string]*privacy.RDPAccountant{}
	var cur RoundReport
	finished := false
	handle := func(e coordinator.Event) error {
		switch e.Kind {
		case coordinator.EvRoundAggregated, coordinator.EvRoundAbandoned:
			cur = RoundReport{Round: e.Round, Participants: len(e.Participants), Tenants: e.Participants, Dropped: e.Dropped, Declined: e.Declined,
				Blamed: e.Blamed, Abandoned: e.Kind == coordinator.EvRoundAbandoned, Reason: e.Reason, UpdateClip: e.UpdateClip}
			if err := chargeTenantLevel(tenantAcc, e); err != nil {
				return err
			}
			for _, name := range slices.Sorted(maps.Keys(e.DroppedAt)) {
				rep.dropped = append(rep.dropped, DroppedTenant{Round: e.Round, Tenant: name, Stage: e.DroppedAt[name]})
			}
			if cur.Abandoned || e.EvalSkipped {
				cur.Epsilon = spent(cur.Round)
				rep.Rounds = append(rep.Rounds, cur)
				if onRound != nil {
					onRound(cur)
				}
			}
		case coordinator.EvEvaluated:
			vals, err := modeltask.Metrics(task, e.Stats)
			if err != nil {
				return err
			}
			cur.Values, cur.Evaluated = vals, true
			if e.EvalEpsilon > 0 {
				if cur.ValuesSD, cur.Unmeasurable, err = modeltask.EvalMetricsNoise(task, e.Stats, e.EvalEpsilon, cfg.Delta, len(e.Evaluators)); err != nil {
					return err
				}
			}
			if task.Kind == modeltask.KindClassify {
				cur.Metrics = Metrics{Accuracy: vals["accuracy"], MacroF1: vals["macro_f1"], Examples: max(e.Stats[0], 0)}
			}
			cur.Evaluators = len(e.Evaluators)
			cur.Epsilon = spent(cur.Round)
			rep.Rounds = append(rep.Rounds, cur)
			if onRound != nil {
				onRound(cur)
			}
		case coordinator.EvFinished:
			rep.Finish = e.Reason
			finished = true
		}
		return nil
	}
	for !finished {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-done:
			// Every client has stopped. The coordinator's last events may
			// still be queued: take them before reporting.
			for drained := false; !drained; {
				select {
				case e := <-events:
					if err := handle(e); err != nil {
						return err
					}
				default:
					drained = true
				}
			}
			if !finished {
				for i, err := range errs {
					if err != nil && !errors.Is(err, errKilled) {
						return fmt.Errorf("simulate: %s: %w", names[i], err)
					}
				}
				return errors.New("simulate: every client stopped before the federation finished")
			}
		case e := <-events:
			if err := handle(e); err != nil {
				return err
			}
		}
	}
	select {
	case <-done:
	case <-time.After(cfg.RoundTimeout):
		cancel()
		<-done
	}
	for i, err := range errs {
		if err != nil && !errors.Is(err, errKilled) && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("simulate: %s: %w", names[i], err)
		}
	}
	if err := svc.Err(); err != nil {
		return fmt.Errorf("simulate: coordinator: %w", err)
	}
	rep.Epsilon = spent(0)
	rep.FinalModel = fed.Published()
	rep.Spec = task
	if n := len(rep.Rounds); n > 0 {
		for i := n - 1; i >= 0; i-- {
			if rep.Rounds[i].Evaluated {
				rep.Final, rep.FinalValues, rep.FinalValuesSD = rep.Rounds[i].Metrics, rep.Rounds[i].Values, rep.Rounds[i].ValuesSD
				rep.FinalUnmeasurable = rep.Rounds[i].Unmeasurable
				break
			}
		}
	}
	if !cfg.InsecurePlainAggregation {
		rep.SecureAggregation = &SecureReport{Protocol: "secagg+", Threshold: cfg.Threshold, Neighbours: cfg.Neighbours,
			Bits: secagg.Bits, UpdateClip: cfg.UpdateClip, Dropped: rep.dropped}
		for _, r := range results {
			rep.SecureAggregation.ClippedUpdates += len(r.Clipped)
		}
		if rep.SecureAggregation.Dropped == nil {
			rep.SecureAggregation.Dropped = []DroppedTenant{}
		}
	}
	rep.Privacy = PrivacyReport{Unit: "record", Delta: cfg.Delta, NoiseMultiplier: cfg.NoiseMultiplier,
		SampleRate: cfg.SampleRate, StepsPerRound: cfg.LocalSteps, EpsilonPerTenant: rep.Epsilon,
		ExactReleases: cfg.ExactReleases(), EpsilonInfinite: exact}
	if r := ccfg.Secure; r != nil && r.RecordDP != nil {
		rep.Privacy.Mode, rep.Privacy.HonestTenants, rep.Privacy.StepsPerRound = DPModeDistributed, r.RecordDP.Shares, 1
		if p := fed.RecordPlan(); p != nil {
			rep.Privacy.NoiseMultiplier = p.NoiseMultiplier()
			if rep.SecureAggregation != nil {
				rep.SecureAggregation.UpdateClip = p.ClipNorm // the gradient sum's clip S
			}
		}
	}
	if cfg.TenantEpsilon > 0 {
		tl := &TenantLevelReport{Unit: "tenant", Delta: cfg.Delta, Target: cfg.TenantEpsilon, EpsilonPerTenant: Epsilons{}}
		for _, name := range names {
			if a := tenantAcc[name]; a != nil {
				tl.EpsilonPerTenant[name], _, _ = a.Epsilon(cfg.Delta)
			} else {
				tl.EpsilonPerTenant[name] = 0
			}
			if exact && math.IsInf(rep.Epsilon[name], 1) {
				tl.EpsilonPerTenant[name] = math.Inf(1) // an exact release: ∞ in every unit (privacy/ledger.MechExact)
			}
		}
		rep.Privacy.TenantLevel = tl
	}
	return nil
}

// tenantRef is a tenant as the federation's driver sees it.
type tenantRef struct {
	name    string
	learner modeltask.Factory
}

func newTenantClient(cfg Config, td tenantRef, log client.SpendLog, drop *dropPoint, identity ed25519.PrivateKey, ca *x509.Certificate) (*client.Client, error) {
	cc, err := tenantClientConfig(cfg, td, log, drop, identity, ca)
	if err != nil {
		return nil, err
	}
	return client.New(cc)
}

// tenantClientConfig is the client configuration newTenantClient uses.
func tenantClientConfig(cfg Config, td tenantRef, log client.SpendLog, drop *dropPoint, identity ed25519.PrivateKey, ca *x509.Certificate) (client.Config, error) {
	var hooks client.Hooks
	if td.name == cfg.KillTenant {
		hooks.AfterPlan = func(round int) error {
			if round >= cfg.KillRound {
				return errKilled
			}
			return nil
		}
	}
	if drop != nil {
		hooks.BeforeStage = func(round int, stage string) error {
			if round > drop.Round || (round == drop.Round && stage == drop.Stage) {
				return errKilled
			}
			return nil
		}
	}
	if td.name == cfg.HostileTenant {
		hooks.TamperSecure = garbageShares(identity)
	}
	// Clients are created one after another, each with its own stream
	// derived from cfg.Rand, so a seeded run is reproducible and no
	// reader is shared between goroutines.
	rnd, err := deriveReader(cfg.Rand)
	if err != nil {
		return client.Config{}, err
	}
	return client.Config{
		Tenant: td.name, Encoder: cfg.Encoder, Learner: td.learner,
		Policy: client.Policy{Budget: client.Budget{Epsilon: cfg.EpsilonCap, Delta: cfg.Delta}, TenantEpsilon: cfg.TenantEpsilon * (1 + 1e-6),
			RequireNoisedCounts: cfg.EvalEpsilon > 0 && cfg.WeightEpsilon > 0,
			DPMode:              cmp.Or(cfg.TenantDPMode, cfg.DPMode), AssumeColluders: assumeColluders(cfg, td.name)},
		Spends: log, Rand: rnd, Log: cfg.Log, Hooks: hooks, Identity: identity, CA: ca,
		AllowInsecurePlainAggregation: cfg.InsecurePlainAggregation && !cfg.TenantsRequireSecure,
	}, nil
}

// DropPoint is where a tenant vanishes: before sending Stage's message
// (advertise, share_keys, masked_input or unmask) of Round (a real
// disconnect: its client stops and closes its connection).
type DropPoint struct {
	Round int
	Stage string
}

type dropPoint = DropPoint

// planDrops picks cfg.DropTenants tenants and a random stage of a random
// round for each (fault injection, so math/rand seeded by cfg.Seed).
func planDrops(cfg Config, names []string) map[string]*dropPoint {
	out := map[string]*dropPoint{}
	for name, d := range cfg.DropAt {
		out[name] = &d
	}
	if cfg.DropTenants == 0 {
		return out
	}
	r := mrand.New(mrand.NewPCG(cfg.Seed, 0xd209))
	stages := []string{"advertise", "share_keys", "check_shares", "masked_input", "consistency", "unmask"}
	for _, i := range r.Perm(len(names))[:cfg.DropTenants] {
		if out[names[i]] == nil {
			out[names[i]] = &dropPoint{Round: 1 + r.IntN(cfg.Rounds), Stage: stages[r.IntN(len(stages))]}
		}
	}
	return out
}

// openParty opens (creating on first use) a party's signing key and privacy
// ledger under dir/party.
func openParty(dir, party string) (ed25519.PrivateKey, *ledger.Ledger, error) {
	pd := filepath.Join(dir, party)
	if err := os.MkdirAll(pd, 0o700); err != nil {
		return nil, nil, fmt.Errorf("simulate: %w", err)
	}
	signer, err := keys.LoadOrCreate(filepath.Join(pd, "signing.key.age"), filepath.Join(pd, "age-identity.txt"))
	if err != nil {
		return nil, nil, fmt.Errorf("simulate: %s: %w", party, err)
	}
	led, err := ledger.Open(filepath.Join(pd, "ledger.jsonl"), signer)
	if err != nil {
		return nil, nil, fmt.Errorf("simulate: %s: %w", party, err)
	}
	return signer, led, nil
}

// deriveReader is nil (crypto/rand) for a nil seed, else a stream derived
// from it.
func deriveReader(seed io.Reader) (io.Reader, error) {
	if seed == nil {
		return nil, nil
	}
	return privacy.DeriveReader(seed)
}

// garbageShares makes a hostile tenant's share ciphertexts undecryptable
// while keeping them signed with its identity key: its neighbours file
// complaints and the honest tenants must still finish the round.
func garbageShares(identity ed25519.PrivateKey) func(int, string, [][]byte) [][]byte {
	return func(_ int, stage string, msgs [][]byte) [][]byte {
		if stage != secagg.StageShareKeys.String() {
			return msgs
		}
		out := make([][]byte, 0, len(msgs))
		for _, b := range msgs {
			var sh secagg.EncryptedShare
			if sh.UnmarshalBinary(b) != nil {
				return msgs
			}
			sh.Ciphertext = []byte("hostile: not an age file")
			sh.Sign(identity)
			nb, err := sh.MarshalBinary()
			if err != nil {
				return msgs
			}
			out = append(out, nb)
		}
		return out
	}
}

// chargeTenantLevel composes the tenant-level release of a finished or
// abandoned round into the accountant of every tenant it counts for: the
// participants of an aggregated round, and every tenant that advertised
// (and so recorded its spend) in an abandoned one.
func chargeTenantLevel(acc map[string]*privacy.RDPAccountant, e coordinator.Event) error {
	if e.TenantDP == nil {
		return nil
	}
	charged := e.Participants
	if e.Kind == coordinator.EvRoundAbandoned {
		charged = e.TenantCharged
	}
	for _, name := range charged {
		if acc[name] == nil {
			acc[name] = privacy.NewRDPAccountant(nil)
		}
		if err := acc[name].ComposeRDP(e.TenantDP.RDP, 1); err != nil {
			return err
		}
	}
	return nil
}

// assumeColluders is the colluders tenant name assumes (Config.AssumeColludersOf,
// else Config.AssumeColluders).
func assumeColluders(cfg Config, name string) int {
	if c, ok := cfg.AssumeColludersOf[name]; ok {
		return c
	}
	return cfg.AssumeColluders
}
