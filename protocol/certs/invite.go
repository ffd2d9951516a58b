package certs

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// invitePrefix starts every invitation string; the version lets the format
// change without old codes being misread.
const invitePrefix = "fedb2b-invite-v1"

// MaxInviteLen bounds an invitation string accepted by [ParseInvite].
const MaxInviteLen = 256

// ErrBadInvite is returned by [ParseInvite] for a malformed invitation.
var ErrBadInvite = errors.New("malformed invitation")

// Invite is a one-time enrolment invitation, handed to a tenant out of band
// as one string (see [Invite.String]):
//
//	fedb2b-invite-v1.<tenant>.<secret, base64url>.<CA fingerprint, base64url>
//
// The secret is 256 random bits; the CA stores only its SHA-256. The CA
// fingerprint (SHA-256 of the CA certificate's DER) lets the tenant
// authenticate the coordinator before it holds any certificate.
type Invite struct {
	Tenant        string
	Secret        [32]byte
	CAFingerprint [32]byte
}

// String returns the invitation in its one-line form.
func (v Invite) String() string {
	enc := base64.RawURLEncoding
	return strings.Join([]string{invitePrefix, v.Tenant, enc.EncodeToString(v.Secret[:]), enc.EncodeToString(v.CAFingerprint[:])}, ".")
}

// Token returns the secret in the encoding sent in an enrolment request.
func (v Invite) Token() string { return base64.RawURLEncoding.EncodeToString(v.Secret[:]) }

// ParseInvite parses the one-line form of an invitation. Surrounding white
// space is ignored.
func ParseInvite(s string) (Invite, error) {
	var v Invite
	s = strings.TrimSpace(s)
	if len(s) > MaxInviteLen {
		return v, fmt.Errorf("%w: %d bytes, at most %d", ErrBadInvite, len(s), MaxInviteLen)
	}
	f := strings.Split(s, ".")
	// The tenant name may contain dots: the prefix is one field, the two
	// base64 fields are the last two.
	if len(f) < 4 || f[0] != invitePrefix {
		return v, fmt.Errorf("%w: want %s.<tenant>.<secret>.<ca fingerprint>", ErrBadInvite, invitePrefix)
	}
	v.Tenant = strings.Join(f[1:len(f)-2], ".")
	if err := CheckName(v.Tenant); err != nil {
		return v, fmt.Errorf("%w: %w", ErrBadInvite, err)
	}
	if err := decode32(f[len(f)-2], &v.Secret); err != nil {
		return v, fmt.Errorf("%w: secret: %w", ErrBadInvite, err)
	}
	if err := decode32(f[len(f)-1], &v.CAFingerprint); err != nil {
		return v, fmt.Errorf("%w: CA fingerprint: %w", ErrBadInvite, err)
	}
	return v, nil
}

// ParseToken decodes the secret sent in an enrolment request.
func ParseToken(tok string) ([32]byte, error) {
	var s [32]byte
	if err := decode32(tok, &s); err != nil {
		return s, fmt.Errorf("%w: token: %w", ErrBadInvite, err)
	}
	return s, nil
}

func decode32(s string, dst *[32]byte) error {
	if len(s) != base64.RawURLEncoding.EncodedLen(32) {
		return fmt.Errorf("%d characters, want %d", len(s), base64.RawURLEncoding.EncodedLen(32))
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != 32 {
		return errors.New("not 32 bytes of unpadded base64url")
	}
	copy(dst[:], b)
	return nil
}
