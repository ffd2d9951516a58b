package main

import (
	"strings"
	"testing"
)

// TestFaultSpecs checks the FEDB2B_FAULT parsers of the coordinator
// (parseCoordinatorFault) and the client (faultHooks): good specs parse,
// bad ones are refused with an error naming the variable.
func TestFaultSpecs(t *testing.T) {
	for _, spec := range []string{"", "exit-at:2:train", "exit-at:1:share_keys", "exit-at:3:masked_input", "exit-at:2:unmask", "exit-at:2:evaluate", "kill-at:2:unmask", "kill-at:1:train"} {
		if _, err := parseCoordinatorFault(spec); err != nil {
			t.Errorf("coordinator %q: %v", spec, err)
		}
	}
	for _, spec := range []string{"exit-at:2", "exit-at:0:train", "exit-at:x:train", "exit-at:2:advertise", "exit-after-ledger:1", "kill-at:2", "kill-at:2:advertise", "boom"} {
		if _, err := parseCoordinatorFault(spec); err == nil || !strings.Contains(err.Error(), "FEDB2B_FAULT") {
			t.Errorf("coordinator %q: error %v, want one naming FEDB2B_FAULT", spec, err)
		}
	}
	for _, spec := range []string{"", "exit-after-ledger:1", "exit-before:2:advertise", "exit-before:2:share_keys", "exit-before:1:masked_input", "exit-before:2:unmask"} {
		if _, err := faultHooks(spec); err != nil {
			t.Errorf("client %q: %v", spec, err)
		}
	}
	for _, spec := range []string{"exit-before:2", "exit-before:0:unmask", "exit-before:2:evaluate", "exit-at:2:train", "boom"} {
		if _, err := faultHooks(spec); err == nil || !strings.Contains(err.Error(), "FEDB2B_FAULT") {
			t.Errorf("client %q: error %v, want one naming FEDB2B_FAULT", spec, err)
		}
	}
	// The hooks only fire at their round and stage; the others return nil
	// (the firing case exits the process and is covered by TestStageFaults).
	h, _ := faultHooks("exit-before:2:unmask")
	for _, c := range []struct {
		round int
		stage string
	}{{1, "unmask"}, {2, "advertise"}, {3, "unmask"}} {
		if err := h.BeforeStage(c.round, c.stage); err != nil {
			t.Errorf("BeforeStage(%d, %s): %v", c.round, c.stage, err)
		}
	}
}
