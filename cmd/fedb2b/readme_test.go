package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// recipeStart opens the README's separate-processes recipe.
const recipeStart = "```sh\ngo build -o fedb2b ./cmd/fedb2b\n"

// TestREADMERecipe runs the README's "separate processes" block as
// written, with bash, in a fresh directory that mirrors the repository
// root: the CA apart, three tenants enrolling and training with the
// coordinator over mutual TLS. Every process must exit 0 and every tenant
// must have trained in every round.
func TestREADMERecipe(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the README's processes")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(readme), recipeStart)
	if i < 0 {
		t.Fatal("README has no separate-processes recipe block")
	}
	block := string(readme)[i+len("```sh\n"):]
	block = block[:strings.Index(block, "```")]
	dir := t.TempDir()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if name := e.Name(); name != ".git" {
			if err := os.Symlink(filepath.Join(root, name), filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	script := filepath.Join(dir, "recipe.sh")
	if err := os.WriteFile(script, []byte(block), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	// The recipe listens on fixed ports. As root (CI) it runs in a network
	// namespace of its own, whose loopback no other run shares; otherwise
	// wait for another run of it to let the ports go.
	var cmd *exec.Cmd
	if unshare, err := exec.LookPath("unshare"); err == nil && os.Geteuid() == 0 {
		cmd = exec.CommandContext(ctx, unshare, "-n", "--", "bash", "-c", "ip link set lo up && exec bash -e recipe.sh")
	} else {
		waitFreePorts(t, 4*time.Minute, "127.0.0.1:7070", "127.0.0.1:7071")
		cmd = exec.CommandContext(ctx, "bash", "-e", "recipe.sh")
	}
	cmd.Dir = dir
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README recipe: %v\n%s", err, out)
	}
	o := string(out)
	if !strings.Contains(o, "finished: completed 5 rounds") {
		t.Fatalf("coordinator did not finish its 5 rounds:\n%s", o)
	}
	for _, tenant := range []string{"tenant-1", "tenant-2", "tenant-3"} {
		if !strings.Contains(o, tenant+": trained in rounds [1 2 3 4 5]") {
			t.Errorf("%s did not train in every round:\n%s", tenant, o)
		}
	}
	// Tenant 1 applied the final model it wrote to its own file: one
	// prediction per row, each a label of the task.
	preds, err := os.ReadFile(filepath.Join(dir, "t1", "predictions.csv"))
	if err != nil {
		t.Fatalf("predictions: %v\n%s", err, o)
	}
	in, _ := os.ReadFile(filepath.Join(dir, "tenants", "tenant-1.csv"))
	if got, want := strings.Count(string(preds), "\n"), strings.Count(string(in), "\n"); got != want {
		t.Errorf("predictions.csv has %d lines for %d input lines", got, want)
	}
}

// waitFreePorts waits until every address can be listened on.
func waitFreePorts(t *testing.T, limit time.Duration, addrs ...string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for _, a := range addrs {
		for {
			l, err := net.Listen("tcp", a)
			if err == nil {
				l.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s stays in use (another run of the README recipe?): %v", a, err)
			}
			time.Sleep(time.Second)
		}
	}
}
