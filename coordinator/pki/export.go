package pki

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/fedb2b/fedb2b/protocol/certs"
)

// ErrHoldsCAKey is returned by [CheckServerDir] for a directory that holds
// the CA's private key: a coordinator must not run from it.
var ErrHoldsCAKey = errors.New("directory holds the CA private key")

// WritePublicView writes the registry as the coordinator needs it to check
// tenants — issued certificate serials and revocations — to path,
// atomically. Invitation hashes are left out: the view lets nobody enrol.
func (r *Registry) WritePublicView(path string) error {
	f, err := r.current()
	if err != nil {
		return err
	}
	view := registryFile{Version: registryVersion, Tenants: make(map[string]*tenantEntry, len(f.Tenants))}
	for name, t := range f.Tenants {
		view.Tenants[name] = &tenantEntry{Certs: t.Certs, Revoked: t.Revoked, RevokedAt: t.RevokedAt}
	}
	out, err := json.MarshalIndent(view, "", "  ")
	if err != nil {
		return fmt.Errorf("tenant registry view: %w", err)
	}
	if err := certs.ReplaceFile(path, append(out, '\n'), 0o644); err != nil {
		return fmt.Errorf("tenant registry view: %w", err)
	}
	return nil
}

// ExportServer writes into out (created 0700 if absent) what a coordinator
// needs to serve mutual TLS without the CA private key: ca.crt, server.crt,
// server.key.age (copied as encrypted) and the registry's public view. It
// refuses an out that already holds a CA key. Run it again (or keep
// `fedb2b ca serve --mirror` running) to carry new enrolments and
// revocations to the coordinator.
func ExportServer(caDir, out string) error {
	if err := os.MkdirAll(out, 0o700); err != nil {
		return fmt.Errorf("ca export: %w", err)
	}
	if err := CheckServerDir(out); err != nil {
		return fmt.Errorf("ca export: %w", err)
	}
	for _, name := range []string{caCertName, serverCertName, serverKeyName} {
		b, err := certs.ReadLimited(filepath.Join(caDir, name))
		if err != nil {
			return fmt.Errorf("ca export: %w", err)
		}
		mode := os.FileMode(0o644)
		if name == serverKeyName {
			mode = 0o600
		}
		if err := certs.ReplaceFile(filepath.Join(out, name), b, mode); err != nil {
			return fmt.Errorf("ca export: %w", err)
		}
	}
	reg, err := OpenRegistry(caDir)
	if err != nil {
		return fmt.Errorf("ca export: %w", err)
	}
	return reg.WritePublicView(filepath.Join(out, registryName))
}

// CheckServerDir refuses a coordinator's TLS directory that holds the CA
// private key ([ErrHoldsCAKey]): whoever can sign with it can mint tenant
// certificates with identity keys of its choice.
func CheckServerDir(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, caKeyName)); err == nil {
		return fmt.Errorf("%s: %w (%s): run the CA apart ('fedb2b ca serve --dir CA') and give the coordinator the directory made by 'fedb2b ca export --dir CA --out DIR'", dir, ErrHoldsCAKey, caKeyName)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
