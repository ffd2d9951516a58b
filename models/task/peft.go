package task

import (
	"fmt"

	"github.com/fedb2b/fedb2b/models"
	"github.com/fedb2b/fedb2b/models/bert"
	"github.com/fedb2b/fedb2b/protocol"
)

// ExportPEFT writes the encoder adapters of an encoder-lora classification
// task's global parameters (the first part of the EncoderLoRA layout) in
// Hugging Face PEFT's format into dir, naming baseModel as the base. The
// linear head is not part of PEFT's LoRA format and is not written.
func ExportPEFT(spec protocol.TaskSpec, enc models.Encoder, params []float64, dir, baseModel string) error {
	be, ok := bertOf(enc)
	if !ok {
		return fmt.Errorf("task %q: PEFT export needs the bert: encoder of the task, not %q", spec.ID, enc.ID())
	}
	if spec.EncoderID != be.ID() {
		return fmt.Errorf("task %q needs encoder %q, not %q", spec.ID, spec.EncoderID, be.ID())
	}
	c, err := ParseEncoderLoRA(spec, be.Model().Config())
	if err != nil {
		return err
	}
	if n := c.NumParams(be.Model().Config()); len(params) != n {
		return fmt.Errorf("task %q: %d parameters, the encoder-lora layout has %d", spec.ID, len(params), n)
	}
	opt := be.Options()
	lora, err := bert.NewLoRA(be.Model(), bert.LoRAConfig{TopLayers: c.Layers, Rank: c.Rank, Alpha: c.Alpha, Seed: c.Seed,
		Pooling: opt.Pooling, Normalize: opt.Normalize})
	if err != nil {
		return fmt.Errorf("task %q: %w", spec.ID, err)
	}
	if err := lora.SetParams(params[:lora.NumParams()]); err != nil {
		return fmt.Errorf("task %q: %w", spec.ID, err)
	}
	return lora.WritePEFT(dir, baseModel)
}
