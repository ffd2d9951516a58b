package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// A GBK file given as UTF-8 is refused with the flag that reads it, not
// half-loaded; with --encoding gbk it loads.
func TestClientReadsGBKOnlyWhenTold(t *testing.T) {
	tmp := t.TempDir()
	var b strings.Builder
	b.WriteString("text,label\n")
	for i := range 20 {
		if i%2 == 0 {
			b.WriteString("该公司主要从事软件开发和IT服务。,software_it\n")
		} else {
			b.WriteString("本公司生产五金工具与紧固件。,hardware\n")
		}
	}
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(tmp, "gbk.csv")
	os.WriteFile(data, gbk, 0o600)
	keyArgs := secretIdentity(t, tmp)
	base := append([]string{"client", "--coordinator", "127.0.0.1:1", "--tenant", "acme", "--data", data,
		"--workdir", filepath.Join(tmp, "work"), "--insecure-no-tls"}, keyArgs...)
	_, e, code := runCLI(t, base...)
	if code != 1 || !strings.Contains(e, "20 of 20 rows are bad") || !strings.Contains(e, "--encoding gbk") {
		t.Fatalf("GBK as UTF-8: exit %d, %q", code, e)
	}
	if _, e, code := runCLI(t, append(base, "--max-bad-fraction", "2")...); code != 2 || !strings.Contains(e, "--max-bad-fraction 2") {
		t.Fatalf("fraction 2: exit %d, %q", code, e)
	}
	// With the encoding the file loads: the client gets past the data to
	// its signing key, which this test puts where it cannot be written.
	_, e, code = runCLI(t, append(base, "--encoding", "gbk", "--key", filepath.Join(tmp, "missing", "dir", "k.age"))...)
	if code != 1 || strings.Contains(e, "bad") || !strings.Contains(e, "k.age") {
		t.Fatalf("GBK with --encoding gbk: exit %d, %q", code, e)
	}
}
