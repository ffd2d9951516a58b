package task

import (
	"testing"

	"github.com/fedb2b/fedb2b/protocol"
)

func TestSetEvalBound(t *testing.T) {
	spec := protocol.TaskSpec{ID: "t", Kind: KindClassify, Options: map[string]string{"x": "y"}}
	if err := SetEvalBound(&spec, 5000); err != nil {
		t.Fatal(err)
	}
	k, _ := Lookup(KindClassify)
	b, err := protocol.EvalBound(spec)
	if err != nil || b != 5000*k.LInf+evalNoiseSlack || spec.Options["x"] != "y" {
		t.Fatalf("bound %d, %v, options %v", b, err, spec.Options)
	}
	if err := SetEvalBound(&spec, 0); err == nil {
		t.Fatal("zero units accepted")
	}
	if _, err := protocol.EvalBound(protocol.TaskSpec{}); err != nil {
		t.Fatalf("no bound: %v", err)
	}
}
