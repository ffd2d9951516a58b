package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"filippo.io/age"
)

// MaxFile bounds how much of a key, certificate or registry file is read.
const MaxFile = 4 << 20

// keyPEMType labels the PKCS #8 block inside an encrypted key file, so that
// another age-encrypted file is not mistaken for a key.
const keyPEMType = "FEDB2B PRIVATE KEY"

// ErrExists is returned when a key, certificate or CA directory would be
// overwritten: credentials are never silently replaced.
var ErrExists = errors.New("file already exists")

// SaveKey writes key (ECDSA P-256 or Ed25519) to path, encrypted to
// recipient with age, mode 0600, refusing to overwrite ([ErrExists]).
func SaveKey(path string, key crypto.Signer, recipient age.Recipient) error {
	if err := CheckPublicKey(key.Public()); err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("failed to marshal private key: %w", err)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, recipient)
	if err != nil {
		return fmt.Errorf("failed to encrypt private key: %w", err)
	}
	if err := pem.Encode(w, &pem.Block{Type: keyPEMType, Bytes: der}); err != nil {
		return fmt.Errorf("failed to encrypt private key: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("failed to encrypt private key: %w", err)
	}
	return WriteNew(path, buf.Bytes(), 0o600)
}

// LoadKey decrypts the key file at path with identity. A wrong passphrase or
// identity is reported without key material.
func LoadKey(path string, identity age.Identity) (crypto.Signer, error) {
	b, err := ReadLimited(path)
	if err != nil {
		return nil, err
	}
	r, err := age.Decrypt(bytes.NewReader(b), identity)
	if err != nil {
		return nil, fmt.Errorf("%s: failed to decrypt private key: %w", path, err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("%s: failed to decrypt private key: %w", path, err)
	}
	blk, _ := pem.Decode(plain)
	if blk == nil || blk.Type != keyPEMType {
		return nil, fmt.Errorf("%s: decrypted payload is not a fedb2b private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: malformed private key: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: private key of type %T cannot sign", path, k)
	}
	if err := CheckPublicKey(s.Public()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// CheckPublicKey accepts only the key types fedb2b issues: ECDSA P-256 and
// Ed25519.
func CheckPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return fmt.Errorf("ECDSA key on curve %s, want P-256", k.Curve.Params().Name)
		}
		return nil
	case ed25519.PublicKey:
		return nil
	}
	return fmt.Errorf("key of type %T not accepted (want ECDSA P-256 or Ed25519)", pub)
}

// WriteCertificate writes der as a PEM certificate to path (mode 0644),
// refusing to overwrite ([ErrExists]).
func WriteCertificate(path string, der []byte) error {
	return WriteNew(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// ReadCertificate reads the first PEM certificate of the file at path.
func ReadCertificate(path string) (*x509.Certificate, error) {
	b, err := ReadLimited(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ReadLimited reads the file at path, refusing one larger than MaxFile.
func ReadLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(b) > MaxFile {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, MaxFile)
	}
	return b, nil
}

// WriteNew writes data to a temporary file in path's directory, syncs it and
// links it to path, so that path either does not exist or is complete; an
// existing path is never replaced.
func WriteNew(path string, data []byte, mode os.FileMode) error {
	tmp, err := writeTemp(path, data, mode)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s: %w", path, ErrExists)
		}
		return err
	}
	return syncDir(filepath.Dir(path))
}

// ReplaceFile atomically replaces path with data (temporary file, fsync,
// rename, directory fsync).
func ReplaceFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := writeTemp(path, data, mode)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

func writeTemp(path string, data []byte, mode os.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", err
	}
	name := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return "", fmt.Errorf("failed to write %s: %w", path, err)
	}
	return name, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("failed to sync %s: %w", dir, err)
	}
	return nil
}
