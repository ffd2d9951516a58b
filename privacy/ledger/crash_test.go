//go:build unix

package ledger

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// crashChildEnv makes the test binary act as a writer that dies (SIGKILL,
// no deferred cleanup, lock and file left as they are) right after its
// intent is durable and before it could release or record the release.
const crashChildEnv = "FEDB2B_LEDGER_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		l, err := Open(path, testKey(nil, 5), WithClock(fixedClock()))
		if err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(3)
		}
		if _, err := l.Append(round("acme", 1)); err != nil {
			os.Stderr.WriteString(err.Error())
			os.Exit(3)
		}
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	os.Exit(m.Run())
}

func TestWriterKilledAfterIntent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.jsonl")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v\n%s", err, out)
	}
	// The kernel released the dead writer's lock; the intent is on disk,
	// pending, and counted.
	l := openTest(t, path, testKey(t, 5))
	p := l.Pending()
	if len(p) != 1 || p[0].Round != 1 || p[0].Status != StatusIntent {
		t.Fatalf("after crash: pending = %+v", p)
	}
	if l.Spent(UnitRecord, "acme") != float64(p[0].EpsilonCumulative) || p[0].EpsilonCumulative <= 0 {
		t.Fatal("the crashed intent is not counted as spent")
	}
}
