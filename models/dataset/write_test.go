package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	ex := []Example{{Text: "a, \"quoted\"", Label: "x"}, {Text: "两行\n文本", Label: "y"}}
	if err := WriteCSV(&buf, ex); err != nil {
		t.Fatal(err)
	}
	want := "text,label\n\"a, \"\"quoted\"\"\",x\n\"两行\n文本\",y\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestWriteTenantFilesRoundTrip(t *testing.T) {
	ex := Synthesize(SynthConfig{Seed: 2, Records: 400})
	parts, err := SplitDirichlet(ex, 4, 0.5, 2, SplitOptions{MinPerTenant: 10})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out", "nested")
	paths, err := WriteTenantFiles(dir, parts)
	if err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"tenant-1.csv", "tenant-2.csv", "tenant-3.csv", "tenant-4.csv"}
	for i, p := range paths {
		if filepath.Base(p) != wantNames[i] {
			t.Errorf("path %d = %s, want %s", i, p, wantNames[i])
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, st.Mode().Perm())
		}
		got, rep, err := LoadFile(p, LoadOptions{LabelCol: "label", OnError: Fail})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rows != len(parts[i]) {
			t.Errorf("%s: %d rows, want %d", p, rep.Rows, len(parts[i]))
		}
		for j := range got {
			got[j].Line = 0
		}
		if !slices.Equal(got, parts[i]) {
			t.Errorf("%s does not read back as written", p)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("directory holds %d entries, want only the 4 tenant files (no temporaries)", len(entries))
	}
	// Rewriting replaces the files.
	if _, err := WriteTenantFiles(dir, parts[:1]); err != nil {
		t.Fatal(err)
	}
}

func TestWriteTenantFilesError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "plain-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteTenantFiles(filepath.Join(file, "sub"), [][]Example{{{Text: "a", Label: "b"}}}); err == nil {
		t.Error("writing under a regular file should fail")
	}
}
