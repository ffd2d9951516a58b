package secagg

import "errors"

// Sentinel errors. Every error returned by a Client or Server method wraps
// exactly one of these (test with errors.Is), plus a message saying what was
// wrong and where. Messages never contain keys, masks, shares or inputs.
var (
	// ErrWrongStage: a message arrived or a method was called in a stage
	// that does not accept it (out of order, or late: after the stage was
	// closed by the driver's deadline).
	ErrWrongStage = errors.New("secagg: wrong stage")
	// ErrWrongSession: the message carries another session ID (another
	// round, another parameter set or participant set: a replay).
	ErrWrongSession = errors.New("secagg: wrong session")
	// ErrDuplicate: a second message of the same kind from the same sender.
	ErrDuplicate = errors.New("secagg: duplicate message")
	// ErrBelowThreshold: too few participants are left for the round to
	// complete safely; the round is aborted and nothing is unmasked.
	ErrBelowThreshold = errors.New("secagg: below threshold")
	// ErrBadSignature: an advertised key is not signed by the participant's
	// long-term identity key (key substitution).
	ErrBadSignature = errors.New("secagg: bad signature")
	// ErrInconsistent: the message contradicts the protocol state (an unmask
	// request naming a neighbour both alive and dropped, a share addressed to
	// someone else, a reconstructed key that does not match its advert...).
	ErrInconsistent = errors.New("secagg: inconsistent message")
	// ErrUnknownParticipant: the sender or a named participant is not in the
	// session's participant set, or is not a neighbour where one is required.
	ErrUnknownParticipant = errors.New("secagg: unknown participant")
	// ErrMalformed: bytes that do not decode, or fields of the wrong size.
	ErrMalformed = errors.New("secagg: malformed message")
	// ErrAborted: the session was aborted earlier; see the abort reason.
	ErrAborted = errors.New("secagg: session aborted")
	// ErrParams: the session parameters are invalid or unsafe (for example
	// a sum that could wrap modulo 2^32).
	ErrParams = errors.New("secagg: invalid parameters")
)

// ErrBlamed: the server excluded this participant after the share check
// (complaints about its shares left it fewer than t partners, see
// Server.Blamed, or its shares or receipt came too late); its input is not
// in the sum.
var ErrBlamed = errors.New("secagg: blamed by a neighbour")
