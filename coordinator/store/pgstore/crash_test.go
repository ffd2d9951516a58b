package pgstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedb2b/fedb2b/coordinator/store"
	"github.com/fedb2b/fedb2b/internal/pgtest"
)

// crashEnv, when set to a DSN, turns the test binary into the crash-test
// child (see TestMain).
const crashEnv = "FEDB2B_PGSTORE_CRASH_CHILD"

// blobFor is the deterministic model of version v (64 to 316 KiB of
// ChaCha8 output seeded by v), so a torn or mixed-up blob is detected.
func blobFor(v int) []byte {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(v))
	b := make([]byte, 64<<10+(v*37%64)<<12)
	rand.NewChaCha8(seed).Read(b)
	return b
}

// crashChild takes the lease (waiting for the killed child's to expire),
// resumes like a coordinator taking over and finishes round after round,
// printing "finished R" after each FinishRound returned. Round R makes
// version R; every fourth round's first attempt is aborted and re-run.
func crashChild(dsn string) error {
	s, err := Open(context.Background(), dsn, Options{})
	if err != nil {
		return err
	}
	for {
		ok, err := s.TryAcquire(context.Background(), "crash-child", "", time.Second)
		if err != nil {
			return err
		}
		if ok {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	go func() {
		for range time.Tick(200 * time.Millisecond) {
			if err := s.Renew(context.Background(), time.Second); err != nil {
				fmt.Fprintln(os.Stderr, "renew:", err)
				os.Exit(4)
			}
		}
	}()
	if _, err := s.AbortInterrupted("restart"); err != nil {
		return err
	}
	if _, ok, _ := s.LatestVersion(); !ok {
		if _, err := s.PutModel(0, blobFor(0)); err != nil {
			return err
		}
	}
	for {
		latest, _, err := s.LatestVersion()
		if err != nil {
			return err
		}
		round := latest + 1
		rounds, err := s.Rounds()
		if err != nil {
			return err
		}
		attempt := 0
		for _, r := range rounds {
			if r.Round == round && r.Attempt >= attempt {
				attempt = r.Attempt + 1
			}
		}
		sum := sha256.Sum256(fmt.Appendf(nil, "%d/%d/%d", round, attempt, rand.Uint64()))
		rec := store.RoundRecord{Task: "t", Round: round, Attempt: attempt, Stage: "train", Session: hex.EncodeToString(sum[:]),
			Cohort: []string{"a", "b", "c", "d"}, ModelVersion: latest}
		if err := s.RecordRound(rec); err != nil {
			return err
		}
		rec.Stage, rec.Survivors = "unmask", []string{"a", "b", "d"}
		if err := s.RecordRound(rec); err != nil {
			return err
		}
		if round%4 == 0 && attempt == 0 {
			if err := s.MarkAborted(round, attempt, "dropouts"); err != nil {
				return err
			}
			continue
		}
		if _, err := s.FinishRound(rec, blobFor(round)); err != nil {
			return err
		}
		fmt.Printf("finished %d\n", round)
	}
}

// checkConsistent checks, after a kill, that everything the child
// reported is stored, intact and recorded once.
func checkConsistent(t *testing.T, dsn string, reported int) int {
	t.Helper()
	s := openT(t, dsn)
	defer s.Close()
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}
	latest, ok, err := s.LatestVersion()
	if err != nil || !ok || latest < reported {
		t.Fatalf("latest version %d (%v, %v), but the child reported round %d finished", latest, ok, err, reported)
	}
	for v := 0; v <= latest; v++ {
		if b, err := s.Model(v); err != nil || !bytes.Equal(b, blobFor(v)) {
			t.Fatalf("model %d does not hold the bytes written for it (%v)", v, err)
		}
	}
	rounds, err := s.Rounds()
	if err != nil {
		t.Fatal(err)
	}
	finished := map[int]int{}
	for _, r := range rounds {
		switch r.Outcome {
		case store.Finished:
			finished[r.Round]++
			if r.ModelVersion != r.Round || len(r.Survivors) != 3 || r.Stage != "unmask" {
				t.Fatalf("round %d recorded half: %+v", r.Round, r)
			}
		case store.Running:
			if r.Round != latest+1 {
				t.Fatalf("running attempt of round %d, latest version %d", r.Round, latest)
			}
		}
	}
	for r := 1; r <= latest; r++ {
		if finished[r] != 1 {
			t.Fatalf("round %d finished %d times", r, finished[r])
		}
	}
	return latest
}

// TestCrashSafety SIGKILLs a writer (a child process) at random points
// of its rounds, five times, and checks after each that the database
// holds every reported round once, with its intact model, and nothing
// half-written; each next child first waits out its predecessor's lease.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	dsn := pgtest.Database(t)
	rng := rand.New(rand.NewPCG(5, 7))
	reported := 0
	for k := range 5 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dsn)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		target := reported + 1 + rng.IntN(3)
		lines := make(chan int)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "finished ")); err == nil {
					lines <- n
				}
			}
			close(lines)
		}()
		timeout := time.After(60 * time.Second)
	wait:
		for {
			select {
			case n, ok := <-lines:
				if !ok {
					cmd.Wait()
					t.Fatalf("child exited: %s", stderr.String())
				}
				reported = max(reported, n)
				if n >= target {
					break wait
				}
			case <-timeout:
				cmd.Process.Kill()
				t.Fatalf("child made no progress: %s", stderr.String())
			}
		}
		time.Sleep(time.Duration(rng.IntN(20000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for n := range lines {
			reported = max(reported, n)
		}
		cmd.Wait()
		latest := checkConsistent(t, dsn, reported)
		t.Logf("kill %d: child reported round %d, database at version %d", k, reported, latest)
		reported = latest
	}
}
