package store

import (
	"bufio"
	"bytes"
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

	"github.com/fedb2b/fedb2b/internal/pgtest"
)

// crashEnv, when set to a directory, turns the test binary into the
// crash-test child: a coordinator-like writer that runs rounds until killed.
const crashEnv = "FEDB2B_STORE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		if err := crashChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(pgtest.Main(m))
}

// blobFor is the deterministic model of version v: 192 KiB to 448 KiB of
// ChaCha8 output seeded by v, so a torn or mixed-up blob is detected.
func blobFor(v int) []byte {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], uint64(v))
	b := make([]byte, 192<<10+(v*37%64)<<12)
	rand.NewChaCha8(seed).Read(b)
	return b
}

// crashChild resumes like a restarted coordinator (abort what was running,
// continue from the latest version) and then finishes round after round,
// printing "finished R" once each FinishRound has returned. Round R
// produces model version R; every fourth round's first attempt is aborted
// and re-run with a fresh session.
func crashChild(dir string) error {
	s, err := OpenWith(dir, Options{LockTimeout: 10 * time.Second})
	if err != nil {
		return err
	}
	if _, err := s.AbortInterrupted("restart"); err != nil {
		return err
	}
	if _, ok, _ := s.LatestVersion(); !ok {
		if _, err := s.PutModel(0, blobFor(0)); err != nil {
			return err
		}
	}
	var nonce [8]byte
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
		binary.LittleEndian.PutUint64(nonce[:], rand.Uint64())
		sum := sha256.Sum256(append([]byte(fmt.Sprintf("%d/%d/", round, attempt)), nonce[:]...))
		rec := RoundRecord{Task: "t", Round: round, Attempt: attempt, Stage: "train", Session: hex.EncodeToString(sum[:]),
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

// checkConsistent opens dir after a kill and checks everything the child
// reported is there, intact and recorded once.
func checkConsistent(t *testing.T, dir string, reported int) (latest, swept int) {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}
	latest, ok, err := s.LatestVersion()
	if err != nil || !ok {
		t.Fatalf("no model after crash: %v", err)
	}
	if latest < reported {
		t.Fatalf("latest version %d, but the child reported round %d finished", latest, reported)
	}
	for v := 0; v <= latest; v++ {
		b, err := s.Model(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, blobFor(v)) {
			t.Fatalf("model %d does not hold the bytes written for it", v)
		}
	}
	rounds, err := s.Rounds()
	if err != nil {
		t.Fatal(err)
	}
	finished := map[int]int{}
	running := 0
	for _, r := range rounds {
		switch r.Outcome {
		case Finished:
			finished[r.Round]++
			if r.ModelVersion != r.Round {
				t.Fatalf("round %d finished with model version %d", r.Round, r.ModelVersion)
			}
			if len(r.Survivors) != 3 || r.Stage != "unmask" {
				t.Fatalf("round %d recorded half: %+v", r.Round, r)
			}
		case Running:
			running++
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
	if len(finished) != latest || running > 1 {
		t.Fatalf("%d finished rounds for %d versions, %d running", len(finished), latest, running)
	}
	return latest, s.Swept()
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 7))
	reported := 0
	sweeps := 0
	const kills = 8
	for k := 0; k < kills; k++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir)
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
		timeout := time.After(30 * time.Second)
	wait:
		for {
			select {
			case n, ok := <-lines:
				if !ok {
					cmd.Wait() // the reader saw EOF: safe to wait
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
		// Let it get into the next round's writes, then SIGKILL.
		time.Sleep(time.Duration(rng.IntN(4000)) * time.Microsecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for n := range lines { // ends at EOF, when the child is gone
			reported = max(reported, n)
		}
		cmd.Wait()
		latest, swept := checkConsistent(t, dir, reported)
		if swept > 0 {
			sweeps++
		}
		t.Logf("kill %d: child reported round %d, store at version %d, %d leftover blob files swept", k, reported, latest, swept)
		reported = latest
	}
	t.Logf("%d of %d kills left a blob written but not committed", sweeps, kills)
}
