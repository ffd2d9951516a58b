package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestPrivacyEpsilonCommand(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		// eps_rdp_dpaccounting-orders reference row: q=0.01, σ=1.1, 1000 steps, δ=1e-5 → 1.71177.
		{[]string{"privacy", "epsilon", "--q", "0.01", "--noise", "1.1", "--steps", "1000", "--delta", "1e-5", "--accountant", "rdp"}, 0, "ε = 1.71177"},
		// PLD reference (eps_pld_dpaccounting) 1.51537, tighter, so "best" picks it.
		{[]string{"privacy", "epsilon", "--q", "0.01", "--noise", "1.1", "--steps", "1000", "--delta", "1e-5"}, 0, "ε = 1.51537"},
		{[]string{"privacy", "epsilon", "--q", "0.01", "--steps", "1000", "--delta", "1e-5", "--target-epsilon", "3"}, 0, "gives ε = 3 "},
		{[]string{"privacy", "epsilon", "--q", "2", "--noise", "1", "--steps", "3"}, 2, "--q 2: want a number in (0, 1]"},
		{[]string{"privacy", "epsilon", "--q", "0.1", "--noise", "1", "--steps", "3", "--delta", "1"}, 2, "--delta 1: want a number in (0, 1)"},
		{[]string{"privacy", "epsilon", "--q", "0.1", "--noise", "1", "--steps", "3", "--accountant", "x"}, 1, "unknown accountant"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		got := out.String() + errb.String()
		if code != c.code || !strings.Contains(got, c.want) {
			t.Errorf("%v: exit %d, output %q; want exit %d containing %q", c.args, code, got, c.code, c.want)
		}
	}
}
