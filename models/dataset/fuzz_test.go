package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkLoadInvariants is what every input, however broken, must satisfy.
func checkLoadInvariants(t *testing.T, ex []Example, rep LoadReport, err error, labelled bool) {
	t.Helper()
	if err != nil {
		if ex != nil {
			t.Fatalf("examples returned with error %v", err)
		}
		return
	}
	if rep.Loaded+rep.Skipped != rep.Rows || len(ex) != rep.Loaded {
		t.Fatalf("report %d loaded + %d skipped != %d rows (%d examples)", rep.Loaded, rep.Skipped, rep.Rows, len(ex))
	}
	if len(rep.Bad) != min(rep.Skipped, MaxListedBadRows) {
		t.Fatalf("%d listed bad rows for %d skipped", len(rep.Bad), rep.Skipped)
	}
	prev := 0
	for _, e := range ex {
		if strings.TrimSpace(e.Text) == "" || !utf8.ValidString(e.Text) || !utf8.ValidString(e.Label) {
			t.Fatalf("bad example loaded: %+v", e)
		}
		if labelled == (e.Label == "") {
			t.Fatalf("label presence wrong: %+v", e)
		}
		if e.Line <= prev {
			t.Fatalf("line numbers not increasing: %d after %d", e.Line, prev)
		}
		prev = e.Line
	}
	for _, b := range rep.Bad {
		if b.Line < 1 || b.Reason == "" {
			t.Fatalf("bad row without line or reason: %+v", b)
		}
	}
}

func addSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func FuzzLoadCSV(f *testing.F) {
	addSeeds(f, "bom_crlf.csv", "banking77_en_sample.csv", "massive_intent_zh_sample.csv")
	for _, s := range []string{"text,label\n", "text,label\na,b\n\"x\ny\",c\n,\n", "text,label\n\"unterminated,x\n", "text,label\na\"b,c\nd,e,f\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opt := range []LoadOptions{{LabelCol: "label"}, {}} {
			ex, rep, err := Load(bytes.NewReader(data), "fuzz.csv", opt)
			checkLoadInvariants(t, ex, rep, err, opt.LabelCol != "")
		}
	})
}

func FuzzLoadJSONL(f *testing.F) {
	addSeeds(f, "mixed.jsonl")
	for _, s := range []string{`{"text":"a","label":"b"}`, "{\"text\":\"a\",\"label\":1e3}\r\n\n{", `[]`, `{"text":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opt := range []LoadOptions{{LabelCol: "label"}, {}} {
			ex, rep, err := Load(bytes.NewReader(data), "fuzz.jsonl", opt)
			checkLoadInvariants(t, ex, rep, err, opt.LabelCol != "")
		}
	})
}

// FuzzWriteLoadRoundTrip: whatever WriteCSV writes, Load reads back.
func FuzzWriteLoadRoundTrip(f *testing.F) {
	f.Add("Hello, \"world\"", "greeting")
	f.Add("两行\n文本", "多行")
	f.Add(" leading space", "x")
	f.Fuzz(func(t *testing.T, text, label string) {
		label = strings.TrimSpace(label)
		if !utf8.ValidString(text) || !utf8.ValidString(label) || strings.TrimSpace(text) == "" || label == "" ||
			strings.Contains(text, "\r") || strings.Contains(label, "\r") {
			t.Skip()
		}
		in := []Example{{Text: text, Label: label}, {Text: "second", Label: "b"}}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, in); err != nil {
			t.Fatal(err)
		}
		out, rep, err := Load(&buf, "rt.csv", LoadOptions{LabelCol: "label", OnError: Fail})
		if err != nil {
			t.Fatalf("%v (report %+v)", err, rep)
		}
		if len(out) != 2 || out[0].Text != text || out[0].Label != label || out[1].Text != "second" {
			t.Fatalf("round trip: %q %q -> %+v", text, label, out)
		}
	})
}
