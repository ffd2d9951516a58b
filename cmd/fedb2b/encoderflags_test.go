package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/fedb2b/fedb2b/models"
)

func openEncoderFlags(t *testing.T, args ...string) (models.Encoder, error) {
	t.Helper()
	fset := flag.NewFlagSet("test", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	ef := addEncoderFlags(fset)
	if err := fset.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return ef.open(context.Background())
}

// TestEncoderFlagsDefaultIsHashing: without flags the encoder is the
// built-in hashing encoder, the one coordinator and client used before.
func TestEncoderFlagsDefaultIsHashing(t *testing.T) {
	enc, err := openEncoderFlags(t)
	if err != nil {
		t.Fatal(err)
	}
	want, err := models.NewHashingEncoder(models.HashingConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if enc.ID() != want.ID() || enc.Dim() != want.Dim() {
		t.Errorf("default encoder %s (dim %d), want %s (dim %d)", enc.ID(), enc.Dim(), want.ID(), want.Dim())
	}
	enc, err = openEncoderFlags(t, "--encoder", "hashing:64")
	if err != nil || enc.Dim() != 64 {
		t.Fatalf("hashing:64: %v, dim %v", err, enc)
	}
}

func TestEncoderFlagsErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--encoder", "bogus"}, "--encoder bogus: encoderspec: unknown encoder"},
		{[]string{"--encoder", "hashing", "--pooling", "cls"}, "pooling and normalize apply only to bert"},
		{[]string{"--encoder", "hashing:0"}, "not a positive integer"},
		{[]string{"--encoder", "bert:" + filepath.Join(t.TempDir(), "missing")}, "--encoder bert:"},
		{[]string{"--encoder", "bert:" + tinyBert, "--pooling", "max"}, "max"},
		{[]string{"--encoder", "openai:http://127.0.0.1:1"}, "want openai:URL#MODEL"},
		{[]string{"--embed-cache-identity", "id.txt"}, "--embed-cache-identity needs --embed-cache"},
		{[]string{"--embed-cache", t.TempDir(), "--embed-cache-identity", filepath.Join(t.TempDir(), "none.txt")}, "--embed-cache-identity: reading cache identity"},
		{[]string{"--embed-batch", "-1"}, "--embed-batch -1"},
	} {
		_, err := openEncoderFlags(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.args, err, c.want)
		}
	}
}

// TestEncoderFlagsEncryptedCache: --embed-cache with an identity stores
// entries that do not contain the vector in the clear and still decode.
func TestEncoderFlagsEncryptedCache(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	idFile := filepath.Join(t.TempDir(), "cache-identity.txt")
	if err := os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"--encoder", "bert:" + tinyBert, "--pooling", "cls", "--normalize", "--embed-cache", dir, "--embed-cache-identity", idFile}
	enc, err := openEncoderFlags(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"refund request for damaged packaging", "该公司主要从事软件开发和服务"}
	first, err := enc.Encode(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	files := cacheFiles(t, dir)
	if len(files) != len(texts) {
		t.Fatalf("cache holds %d files, want %d", len(files), len(texts))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("age-encryption.org/")) {
			t.Errorf("%s is not an age file", f)
		}
	}
	again, err := openEncoderFlags(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	second, err := again.Encode(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range first {
		for j := range first[i] {
			if first[i][j] != second[i][j] {
				t.Fatalf("text %d: cached vector differs at %d", i, j)
			}
		}
	}
}

// cacheFiles lists the regular files under dir and checks they are 0600.
func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %o, want 600", p, perm)
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestDemoWithBertEncoderAndCache runs the demo command end to end on the
// tiny BERT with an embedding cache: the run completes, names its encoder,
// and leaves one private cache file per distinct record.
func TestDemoWithBertEncoderAndCache(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test")
	}
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	jsonOut := filepath.Join(dir, "run.json")
	var out, errb bytes.Buffer
	code := run([]string{"demo", "--encoder", "bert:" + tinyBert, "--pooling", "mean", "--embed-cache", cache,
		"--tenants", "3", "--records", "300", "--rounds", "2", "--local-steps", "5", "--json", jsonOut}, &out, &errb)
	if code != 0 {
		t.Fatalf("demo exited %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "encoder: bert:") {
		t.Errorf("demo output does not name the bert encoder:\n%s", out.String())
	}
	var rep struct {
		Rounds []struct {
			Round int `json:"round"`
		} `json:"rounds"`
	}
	b, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Rounds) != 2 {
		t.Errorf("summary has %d rounds, want 2", len(rep.Rounds))
	}
	if n := len(cacheFiles(t, cache)); n == 0 || n > 300 {
		t.Errorf("cache holds %d files, want between 1 and 300 (one per distinct record)", n)
	}
	code = run([]string{"demo", "--encoder", "bert:" + tinyBert, "--pooling", "nope"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "fedb2b demo: --encoder bert:") {
		t.Errorf("bad --pooling: exit %d, stderr %q", code, errb.String())
	}
}
