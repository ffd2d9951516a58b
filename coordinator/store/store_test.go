package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestModels(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	if _, ok, _ := s.LatestVersion(); ok {
		t.Fatal("empty store has a version")
	}
	h0, err := s.PutModel(0, []byte("v0"))
	if err != nil {
		t.Fatal(err)
	}
	if h0 != "0270da4daac514f30bece5788a87ad7b800f59476d0d7e6f70d4b61fbc4f5e9e" {
		t.Fatalf("hash %q", h0)
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs", h0)); err != nil {
		t.Fatalf("blob not named by its hash: %v", err)
	}
	// Same bytes again: no-op. Other bytes: conflict. Gap: conflict.
	if h, err := s.PutModel(0, []byte("v0")); err != nil || h != h0 {
		t.Fatalf("idempotent put: %v", err)
	}
	if _, err := s.PutModel(0, []byte("other")); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("conflicting put: %v", err)
	}
	if _, err := s.PutModel(2, []byte("v2")); !errors.Is(err, ErrVersionConflict) {
		t.Fatalf("gap: %v", err)
	}
	if _, err := s.PutModel(1, []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := s.LatestVersion(); !ok || v != 1 {
		t.Fatalf("latest %d %v", v, ok)
	}
	b, err := s.Model(1)
	if err != nil || string(b) != "v1" {
		t.Fatalf("Model(1) = %q, %v", b, err)
	}
	if _, err := s.Model(7); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing version: %v", err)
	}
	// A blob altered on disk is detected on read.
	h1, _ := s.ModelHash(1)
	if err := os.WriteFile(filepath.Join(dir, "blobs", h1), []byte("v9"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Model(1); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("tampered blob: %v", err)
	}
	if err := s.Verify(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Verify on tampered blob: %v", err)
	}
}

func TestSecondOpenerRefused(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	_, err := OpenWith(dir, Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
}

func TestSweepOnOpen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := s.PutModel(0, []byte("kept"))
	s.Close()
	orphan := filepath.Join(dir, "blobs", string(bytes.Repeat([]byte("ab"), 32)))
	tmp := filepath.Join(dir, "blobs", tmpPrefix+"123")
	for _, p := range []string{orphan, tmp} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s = open(t, dir)
	if s.Swept() != 2 {
		t.Fatalf("swept %d files, want 2", s.Swept())
	}
	for _, p := range []string{orphan, tmp} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s survived: %v", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs", h)); err != nil {
		t.Fatalf("referenced blob removed: %v", err)
	}
}
