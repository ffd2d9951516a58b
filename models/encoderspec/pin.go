package encoderspec

import (
	"fmt"

	"github.com/fedb2b/fedb2b/models"
)

// MismatchError says that a task pins one encoder and the client has
// another.
type MismatchError struct {
	// Task is the encoder ID the task pins; Local is the client's.
	Task, Local string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("encoder mismatch: the task pins %q but this client's encoder is %q; open the same checkpoint, endpoint, model and pooling settings", e.Task, e.Local)
}

// CheckPinned returns a *MismatchError naming both IDs unless enc's ID is
// exactly taskID.
func CheckPinned(taskID string, enc models.Encoder) error {
	if enc.ID() != taskID {
		return &MismatchError{Task: taskID, Local: enc.ID()}
	}
	return nil
}
