package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/client"
	"github.com/fedb2b/fedb2b/coordinator/store"
	"github.com/fedb2b/fedb2b/coordinator/store/pgstore"
	"github.com/fedb2b/fedb2b/privacy/ledger"
)

// exitLeaseLost is the coordinator's exit status when it stops because it
// lost the leader lease (a standby took over or may have).
const exitLeaseLost = 4

// leaderStore is the coordinator's store once this process may run
// rounds: bbolt in the workdir (its file lock makes this process the only
// writer), or PostgreSQL with the leader lease held and renewed.
type leaderStore struct {
	store.Backend
	pg      *pgstore.Store // nil for bbolt
	headSeq uint64         // the ledger head last stored
	stop    chan struct{}  // closed by Close: renewals end
}

// Close stops the lease renewals, releases the lease (so a standby takes
// over at once) and closes the store.
func (s *leaderStore) Close() error {
	if s.stop != nil {
		close(s.stop)
	}
	return s.Backend.Close()
}

// standbyConfig says how a coordinator on PostgreSQL waits for the lease.
type standbyConfig struct {
	spec      string // --store
	workdir   string
	listen    string // the address the standby serves health on
	advertise string // the address clients reach this process at
	httpAddr  string // --http, "" for none
	ttl       time.Duration
	opts      []grpc.ServerOption // the coordinator's gRPC options (TLS)
	log       *slog.Logger
	stdout    io.Writer
}

// openLeaderStore opens the store of --store. On PostgreSQL it waits, as a
// standby, until it holds the leader lease: meanwhile it serves gRPC
// health NOT_SERVING on the coordinator's address and answers every other
// call with Unavailable naming the leader's address (clients with an
// address list move on), and /healthz on --http answers 503 "standby".
// Once leader, a goroutine renews the lease every ttl/3; if a renewal is
// refused (a standby took over) or none succeeded for ttl (the database is
// unreachable, so a standby may take over), the process exits with status
// exitLeaseLost: it stops acting, and fencing refuses any write still in
// flight.
func openLeaderStore(ctx context.Context, c standbyConfig) (*leaderStore, error) {
	if c.spec == "" {
		st, err := store.Open(filepath.Join(c.workdir, "state"))
		if err != nil {
			return nil, err
		}
		return &leaderStore{Backend: st}, nil
	}
	if !pgstore.IsDSN(c.spec) {
		return nil, fmt.Errorf("--store %q: want empty (bbolt in --workdir) or a postgres:// URL", "…")
	}
	if c.ttl < time.Second {
		return nil, fmt.Errorf("--lease-ttl %v: at least 1s", c.ttl)
	}
	pg, err := pgstore.Open(ctx, c.spec, pgstore.Options{Timeout: max(c.ttl, 30*time.Second), HoldLimit: c.ttl})
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	holder := fmt.Sprintf("%s pid %d", host, os.Getpid())
	ok, err := pg.TryAcquire(ctx, holder, c.advertise, c.ttl)
	if err != nil {
		pg.Close()
		return nil, err
	}
	if !ok {
		if err := waitStandby(ctx, pg, holder, c); err != nil {
			pg.Close()
			return nil, err
		}
	}
	fmt.Fprintf(c.stdout, "coordinator: leader (lease epoch %d, ttl %v)\n", pg.Epoch(), c.ttl)
	ls := &leaderStore{Backend: pg, pg: pg, stop: make(chan struct{})}
	go renewLease(pg, c.ttl, ls.stop, c.log)
	return ls, nil
}

// waitStandby serves the standby's health and redirects until the lease is
// acquired or ctx ends.
func waitStandby(ctx context.Context, pg *pgstore.Store, holder string, c standbyConfig) error {
	leader := func() string {
		l, err := pg.Lease(ctx)
		if err != nil {
			return "unknown (" + err.Error() + ")"
		}
		return l.Address
	}
	lis, err := net.Listen("tcp", c.listen)
	if err != nil {
		return err
	}
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	srv := grpc.NewServer(append(c.opts, grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
		return status.Errorf(codes.Unavailable, "standby coordinator; %s%s", client.LeaderHint, leader())
	}))...)
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(lis)
	defer srv.Stop()
	if c.httpAddr != "" {
		hl, err := net.Listen("tcp", c.httpAddr)
		if err != nil {
			return fmt.Errorf("--http: %w", err)
		}
		hsrv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "standby: this coordinator waits for the leader lease; the leader is at %s\n", leader())
		})}
		go hsrv.Serve(hl)
		defer hsrv.Close()
	}
	fmt.Fprintf(c.stdout, "coordinator: standby on %s; the leader is at %s\n", lis.Addr(), leader())
	t := time.NewTicker(c.ttl / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		ok, err := pg.TryAcquire(ctx, holder, c.advertise, c.ttl)
		if err != nil {
			c.log.Warn("standby: lease", "err", err)
			continue
		}
		if ok {
			return nil
		}
	}
}

// renewLease keeps the lease or ends the process.
func renewLease(pg *pgstore.Store, ttl time.Duration, stop <-chan struct{}, log *slog.Logger) {
	last := time.Now()
	t := time.NewTicker(ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), ttl/3)
		err := pg.Renew(ctx, ttl)
		cancel()
		if err == nil {
			last = start
			continue
		}
		select {
		case <-stop:
			return // released by Close
		default:
		}
		if errors.Is(err, pgstore.ErrNotLeader) || time.Since(last) >= ttl {
			leaseLost(err, log)
		}
		log.Warn("lease renewal failed; retrying", "err", err)
	}
}

// leaseLost stops the process: another coordinator leads (or may).
func leaseLost(err error, log *slog.Logger) {
	log.Error("lost the leader lease; stopping (a standby takes over)", "err", err)
	os.Exit(exitLeaseLost)
}

// openLedger opens the coordinator's ledger. A new leader on PostgreSQL
// whose --workdir is shared with the previous leader waits while that
// one's process still holds the ledger's lock (a paused leader: it exits
// as soon as it runs again and finds its lease lost), so the ledger keeps
// one writer.
func (s *leaderStore) openLedger(ctx context.Context, path string, signer ed25519.PrivateKey, log *slog.Logger) (*ledger.Ledger, error) {
	for warned := false; ; warned = true {
		led, err := ledger.Open(path, signer)
		if s.pg == nil || !errors.Is(err, ledger.ErrLocked) {
			return led, err
		}
		if !warned {
			log.Warn("waiting for the previous leader's process to release the ledger", "path", path)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// checkLedgerHead refuses to lead with a ledger that lacks what the
// previous leader recorded: on PostgreSQL the store holds the
// coordinator's signed ledger head, and led must contain that entry with
// that hash (the coordinators do not share --workdir, or the ledger was
// rolled back). A no-op on bbolt.
func (s *leaderStore) checkLedgerHead(led *ledger.Ledger, path string) error {
	if s.pg == nil {
		return nil
	}
	h, ok, err := s.pg.StoredLedgerHead()
	if err != nil || !ok {
		return err
	}
	entries := led.Entries()
	if h.Seq > uint64(len(entries)) {
		return fmt.Errorf("the ledger %s has %d entries, but the previous leader recorded entry %d in the database: the coordinators must share --workdir (the ledger and signing key)", path, len(entries), h.Seq)
	}
	hash, err := entries[h.Seq-1].Hash()
	if err != nil {
		return err
	}
	if hash != h.Hash {
		return fmt.Errorf("the ledger %s differs from the one the previous leader wrote: its entry %d has hash %s, the database records %s", path, h.Seq, hash[:12], h.Hash[:12])
	}
	return nil
}

// recordLedgerHead stores led's head in PostgreSQL when it moved (a no-op
// on bbolt).
func (s *leaderStore) recordLedgerHead(led *ledger.Ledger) error {
	if s.pg == nil {
		return nil
	}
	h, ok, err := led.Head()
	if err != nil || !ok || h.Seq == s.headSeq {
		return err
	}
	if err := s.pg.PutLedgerHead(pgstore.LedgerHead{Seq: h.Seq, Hash: h.Hash, Signature: h.Signature}); err != nil {
		return err
	}
	s.headSeq = h.Seq
	return nil
}
