package certs

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"a", "acme", "acme-gmbh.de", "x_1", strings.Repeat("a", MaxNameLen)} {
		if err := CheckName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Acme", "-acme", ".x", "a b", "a/b", "ü", strings.Repeat("a", MaxNameLen+1), "a\x00"} {
		if err := CheckName(bad); !errors.Is(err, ErrBadName) {
			t.Errorf("%q accepted (%v)", bad, err)
		}
	}
}

func TestInviteRoundTrip(t *testing.T) {
	v := Invite{Tenant: "acme.co"}
	for i := range v.Secret {
		v.Secret[i], v.CAFingerprint[i] = byte(i), byte(255-i)
	}
	s := v.String()
	got, err := ParseInvite("  " + s + "\n")
	if err != nil || got != v {
		t.Fatalf("ParseInvite(%q) = %+v, %v", s, got, err)
	}
	sec, err := ParseToken(v.Token())
	if err != nil || sec != v.Secret {
		t.Fatalf("ParseToken: %v", err)
	}
	f := strings.Split(s, ".")
	for name, bad := range map[string]string{
		"empty":        "",
		"prefix":       "fedb2b-invite-v2" + s[len(invitePrefix):],
		"no tenant":    strings.Join([]string{f[0], f[3], f[4]}, "."),
		"bad tenant":   strings.Replace(s, "acme.co", "ACME", 1),
		"short secret": strings.Replace(s, f[3], f[3][1:], 1),
		"bad base64":   strings.Replace(s, f[3], "*"+f[3][1:], 1),
		"padded":       s + "=",
		"too long":     s + strings.Repeat("a", MaxInviteLen),
	} {
		if _, err := ParseInvite(bad); !errors.Is(err, ErrBadInvite) {
			t.Errorf("%s: %q accepted (%v)", name, bad, err)
		}
	}
}
