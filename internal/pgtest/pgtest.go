package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env names the server DSN.
const Env = "FEDB2B_TEST_POSTGRES"

var (
	once     sync.Once
	adminDSN string
	startErr error
	cluster  *exec.Cmd
	tmpDir   string
)

// Database returns the DSN of a new, empty database, dropped (with any
// connections left to it) when t ends. It skips t (fails it under
// CI=true) when no PostgreSQL server is available.
func Database(t testing.TB) string {
	t.Helper()
	once.Do(func() { adminDSN, startErr = server() })
	if startErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI=true: %v", startErr)
		}
		t.Skipf("no PostgreSQL: %v (set %s=postgres://… or install Debian's postgresql package)", startErr, Env)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "fedb2b_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, adminDSN)
		if err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminDSN)
	if err != nil {
		t.Fatalf("pgtest: %s is not a URL", Env)
	}
	u.Path = "/" + name
	return u.String()
}

// Main runs the tests and then stops a cluster this process started. Call
// it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	Stop()
	return code
}

// Stop stops and removes a cluster this process started (no-op otherwise).
func Stop() {
	if cluster != nil && cluster.Process != nil {
		cluster.Process.Signal(syscall.SIGINT) // fast shutdown
		done := make(chan struct{})
		go func() { cluster.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cluster.Process.Kill()
		}
		cluster = nil
	}
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
		tmpDir = ""
	}
}

// server returns the admin DSN: the environment's, or a cluster started
// here.
func server() (string, error) {
	if dsn := os.Getenv(Env); dsn != "" {
		if err := ping(dsn); err != nil {
			return "", fmt.Errorf("%s is set but the server is unreachable: %w", Env, err)
		}
		return dsn, nil
	}
	bin, err := binDir()
	if err != nil {
		return "", err
	}
	return start(bin)
}

func ping(dsn string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// binDir finds initdb and postgres.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("%s is unset and initdb is neither on PATH nor under /usr/lib/postgresql/*/bin", Env)
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// start runs initdb and postgres in a new temporary folder, listening on a
// unix socket there only.
func start(bin string) (string, error) {
	dir, err := os.MkdirTemp("", "fedb2b-pg-")
	if err != nil {
		return "", err
	}
	tmpDir = dir
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			return "", fmt.Errorf("running as root and there is no user nobody to run postgres as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// fsync off: the tests kill coordinators, never this server, and the
	// cluster is thrown away.
	pg := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-k", dir, "-c", "listen_addresses=",
		"-c", "fsync=off", "-c", "shared_buffers=16MB", "-c", "max_connections=200")
	pg.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	pg.Dir = dir
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return "", err
	}
	pg.Stdout, pg.Stderr = logf, logf
	if err := pg.Start(); err != nil {
		return "", fmt.Errorf("postgres: %w", err)
	}
	cluster = pg
	dsn := (&url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/postgres",
		RawQuery: url.Values{"host": {dir}, "sslmode": {"disable"}}.Encode()}).String()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := ping(dsn)
		if err == nil {
			return dsn, nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			return "", fmt.Errorf("the throwaway cluster did not start: %v\n%s", err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
