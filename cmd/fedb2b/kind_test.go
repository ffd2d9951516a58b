package main

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// The coordinator runs the intent kind as separate processes; clients
// started the usual way serve it from their labelled files, and the
// coordinator prints the kind's metrics of the noised evaluation.
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
		!strings.Contains(out, "noised at record-level ε=0.5") {
		t.Fatalf("coordinator output:\n%s", out)
	}
}
