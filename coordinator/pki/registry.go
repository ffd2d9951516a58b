package pki

import (
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/fedb2b/fedb2b/protocol/certs"
)

// Errors of tenant checks and enrolment; test with errors.Is.
var (
	ErrUnknownTenant = errors.New("unknown tenant")
	ErrRevoked       = errors.New("certificate revoked")
	ErrUnknownCert   = errors.New("certificate not issued by this CA's registry")
	ErrTokenRefused  = errors.New("enrolment token refused")
)

// registryVersion is the format version of registry.json.
const registryVersion = 1

type registryFile struct {
	Version int                     `json:"version"`
	Tenants map[string]*tenantEntry `json:"tenants"`
}

type tenantEntry struct {
	Invites   []inviteEntry `json:"invites,omitempty"`
	Certs     []certEntry   `json:"certs,omitempty"`
	Revoked   bool          `json:"revoked,omitempty"`
	RevokedAt time.Time     `json:"revoked_at,omitzero"`
}

type inviteEntry struct {
	Hash    string    `json:"sha256"` // hex of tokenHash(secret)
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
	Used    time.Time `json:"used,omitzero"`
}

type certEntry struct {
	Serial   string    `json:"serial"` // lowercase hex
	Issued   time.Time `json:"issued"`
	NotAfter time.Time `json:"not_after"`
	Revoked  bool      `json:"revoked,omitempty"`
}

// Registry is the CA's record of tenants: hashed one-time invitations,
// issued certificate serials and revocations. It lives in registry.json in
// the CA directory. Writers (the CLI, the enrolment service) serialise with
// an flock on registry.lock and replace the file atomically; readers reload
// it when it changes, so `fedb2b tenant revoke` takes effect on a running
// coordinator at its next handshake or call. Safe for concurrent use.
type Registry struct {
	path, lock string

	mu    sync.Mutex
	cache *registryFile
	info  os.FileInfo
}

// OpenRegistry opens the registry of the CA directory dir.
func OpenRegistry(dir string) (*Registry, error) {
	r := &Registry{path: filepath.Join(dir, registryName), lock: filepath.Join(dir, registryName+".lock")}
	if _, err := r.current(); err != nil {
		return nil, err
	}
	return r, nil
}

// current returns the registry's contents, reloading the file if it changed.
func (r *Registry) current() (*registryFile, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fi, err := os.Stat(r.path)
	if err != nil {
		return nil, fmt.Errorf("tenant registry: %w", err)
	}
	if r.cache != nil && r.info != nil && os.SameFile(fi, r.info) && fi.ModTime().Equal(r.info.ModTime()) && fi.Size() == r.info.Size() {
		return r.cache, nil
	}
	b, err := certs.ReadLimited(r.path)
	if err != nil {
		return nil, fmt.Errorf("tenant registry: %w", err)
	}
	f, err := decodeRegistry(b)
	if err != nil {
		return nil, fmt.Errorf("tenant registry %s: %w", r.path, err)
	}
	r.cache, r.info = f, fi
	return f, nil
}

// decodeRegistry parses and checks registry.json.
func decodeRegistry(b []byte) (*registryFile, error) {
	var f registryFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("malformed registry: %w", err)
	}
	if f.Version != registryVersion {
		return nil, fmt.Errorf("registry version %d, want %d", f.Version, registryVersion)
	}
	if f.Tenants == nil {
		f.Tenants = map[string]*tenantEntry{}
	}
	for name, t := range f.Tenants {
		if err := certs.CheckName(name); err != nil {
			return nil, err
		}
		if t == nil {
			return nil, fmt.Errorf("tenant %q: null entry", name)
		}
	}
	return &f, nil
}

// update applies fn to a fresh copy of the registry under the file lock and
// writes the result atomically if fn succeeds.
func (r *Registry) update(fn func(f *registryFile) error) error {
	lf, err := os.OpenFile(r.lock, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("tenant registry: %w", err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("tenant registry: failed to lock: %w", err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN)
	b, err := certs.ReadLimited(r.path)
	if err != nil {
		return fmt.Errorf("tenant registry: %w", err)
	}
	f, err := decodeRegistry(b)
	if err != nil {
		return fmt.Errorf("tenant registry %s: %w", r.path, err)
	}
	if err := fn(f); err != nil {
		return err
	}
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("tenant registry: %w", err)
	}
	if err := certs.ReplaceFile(r.path, append(out, '\n'), 0o600); err != nil {
		return fmt.Errorf("tenant registry: %w", err)
	}
	return nil
}

func newRegistryFile() []byte {
	b, _ := json.MarshalIndent(registryFile{Version: registryVersion, Tenants: map[string]*tenantEntry{}}, "", "  ")
	return append(b, '\n')
}

// addInvite records the hash of a new invitation for tenant, valid until
// expires. Inviting a revoked tenant reinstates the name; its old
// certificates stay revoked.
func (r *Registry) addInvite(tenant string, secret [32]byte, now, expires time.Time) error {
	if err := certs.CheckName(tenant); err != nil {
		return err
	}
	h := tokenHash(secret)
	return r.update(func(f *registryFile) error {
		t := f.Tenants[tenant]
		if t == nil {
			t = &tenantEntry{}
			f.Tenants[tenant] = t
		}
		t.Revoked, t.RevokedAt = false, time.Time{}
		t.Invites = append(t.Invites, inviteEntry{Hash: hex.EncodeToString(h[:]), Created: now.UTC(), Expires: expires.UTC()})
		return nil
	})
}

// redeem consumes the invitation of tenant whose secret is secret: it must
// exist, be unused and unexpired at now. The token is marked used before
// redeem returns, so a second use fails even if issuing later fails.
func (r *Registry) redeem(tenant string, secret [32]byte, now time.Time) error {
	h := tokenHash(secret)
	return r.update(func(f *registryFile) error {
		t := f.Tenants[tenant]
		if t == nil {
			return fmt.Errorf("%w: no invitation for tenant %q", ErrTokenRefused, tenant)
		}
		for i := range t.Invites {
			inv := &t.Invites[i]
			want, err := hex.DecodeString(inv.Hash)
			if err != nil || subtle.ConstantTimeCompare(want, h[:]) != 1 {
				continue
			}
			switch {
			case !inv.Used.IsZero():
				return fmt.Errorf("%w: invitation for tenant %q was already used at %s", ErrTokenRefused, tenant, inv.Used.Format(time.RFC3339))
			case !now.Before(inv.Expires):
				return fmt.Errorf("%w: invitation for tenant %q expired at %s", ErrTokenRefused, tenant, inv.Expires.Format(time.RFC3339))
			}
			inv.Used = now.UTC()
			return nil
		}
		return fmt.Errorf("%w: token does not match any invitation for tenant %q", ErrTokenRefused, tenant)
	})
}

// addCert records a certificate issued to tenant.
func (r *Registry) addCert(tenant, serial string, issued, notAfter time.Time) error {
	return r.update(func(f *registryFile) error {
		t := f.Tenants[tenant]
		if t == nil {
			return fmt.Errorf("%w: %q", ErrUnknownTenant, tenant)
		}
		t.Certs = append(t.Certs, certEntry{Serial: serial, Issued: issued.UTC(), NotAfter: notAfter.UTC()})
		return nil
	})
}

// Revoke revokes tenant and every certificate issued to it so far, and
// voids its unused invitations. A running coordinator refuses the tenant's
// next handshake and call.
func (r *Registry) Revoke(tenant string, now time.Time) error {
	return r.update(func(f *registryFile) error {
		t := f.Tenants[tenant]
		if t == nil {
			return fmt.Errorf("%w: %q", ErrUnknownTenant, tenant)
		}
		t.Revoked, t.RevokedAt = true, now.UTC()
		for i := range t.Certs {
			t.Certs[i].Revoked = true
		}
		for i := range t.Invites {
			if t.Invites[i].Used.IsZero() {
				t.Invites[i].Used = now.UTC()
			}
		}
		return nil
	})
}

// Check returns nil if the certificate with serial (lowercase hex) was
// issued to tenant by this CA and neither it nor the tenant is revoked.
// Validity dates are checked by chain verification, not here.
func (r *Registry) Check(tenant, serial string) error {
	f, err := r.current()
	if err != nil {
		return err
	}
	t := f.Tenants[tenant]
	if t == nil {
		return fmt.Errorf("%w: %q is not enrolled", ErrUnknownTenant, tenant)
	}
	if t.Revoked {
		return fmt.Errorf("%w: tenant %q was revoked at %s", ErrRevoked, tenant, t.RevokedAt.Format(time.RFC3339))
	}
	for _, c := range t.Certs {
		if c.Serial == serial {
			if c.Revoked {
				return fmt.Errorf("%w: certificate %s of tenant %q", ErrRevoked, serial, tenant)
			}
			return nil
		}
	}
	return fmt.Errorf("%w: serial %s for tenant %q", ErrUnknownCert, serial, tenant)
}

// TenantStatus summarises one tenant of the registry.
type TenantStatus struct {
	Name           string
	Revoked        bool
	Certificates   int       // issued so far
	LatestNotAfter time.Time // expiry of the newest certificate (zero if none)
	OpenInvites    int       // unused and unexpired at the time asked
}

// Tenants lists the registry's tenants by name, with open invitations
// counted at now.
func (r *Registry) Tenants(now time.Time) ([]TenantStatus, error) {
	f, err := r.current()
	if err != nil {
		return nil, err
	}
	out := make([]TenantStatus, 0, len(f.Tenants))
	for name, t := range f.Tenants {
		s := TenantStatus{Name: name, Revoked: t.Revoked, Certificates: len(t.Certs)}
		for _, c := range t.Certs {
			if c.NotAfter.After(s.LatestNotAfter) {
				s.LatestNotAfter = c.NotAfter
			}
		}
		for _, inv := range t.Invites {
			if inv.Used.IsZero() && now.Before(inv.Expires) {
				s.OpenInvites++
			}
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
