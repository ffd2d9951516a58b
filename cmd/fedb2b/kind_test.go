package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// The coordinator runs the intent kind as separate processes; clients
// started the usual way serve it from their labelled files, and the
// coordinator prints the kind's metrics of the noised evaluation with the
// noise's spread (the few held-out out-of-scope messages flagged).
func TestIntentKindProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	bin := buildBinary(t)
	p := newFedProcs(t, bin)
	p.coordArgs = []string{"--kind", "intent"}
	var coordOut syncBuffer
	coord := p.coordinator("", &coordOut)
	var outs [faultTenants + 1]syncBuffer
	var clients []*exec.Cmd
	for i := 1; i <= faultTenants; i++ {
		clients = append(clients, p.client(i, "", &outs[i]))
	}
	for i, c := range clients {
		waitExit(t, fmt.Sprintf("tenant-%d", i+1), c, 0, &outs[i+1])
	}
	waitExit(t, "coordinator", coord, 0, &coordOut)
	out := coordOut.String()
	if !strings.Contains(out, fmt.Sprintf("finished: completed %d rounds", faultRounds)) || !strings.Contains(out, "in_scope_accuracy") ||
		!strings.Contains(out, "noised at record-level ε=0.5") || !strings.Contains(out, "±: one standard deviation of the noise") ||
		!regexp.MustCompile(`oos_recall [-0-9.e+]+ \(noise\)`).MatchString(out) {
		t.Fatalf("coordinator output:\n%s", out)
	}
}

// coordinator --oos-class is refused outside an intent task on the linear adapter,
// before anything listens.
func TestCoordinatorOOSClassRefusedOutsideLinearIntent(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--labels", "a,b"}, "--oos-class is for --kind intent"},
		{[]string{"--kind", "intent", "--labels", "a,b,oos"}, "needs adapter \"linear\""},
	} {
		_, e, code := runCLI(t, append([]string{"coordinator", "--oos-class", "--workdir", dir, "--listen", "127.0.0.1:0"}, c.args...)...)
		if code == 0 || !strings.Contains(e, c.want) {
			t.Errorf("coordinator --oos-class %q: exit %d, stderr %q (want %q)", c.args, code, e, c.want)
		}
	}
}
