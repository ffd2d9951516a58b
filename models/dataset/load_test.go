package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var labelled = LoadOptions{LabelCol: "label"}

// TestLoadCSVBadRows covers each kind of bad CSV row: its line and reason
// under Skip, and the error under Fail.
func TestLoadCSVBadRows(t *testing.T) {
	for _, tc := range []struct {
		name   string
		input  string
		line   int
		reason string
	}{
		{"ragged short", "text,label,id\ngood,a,1\nshort,b\n", 3, "ragged row: 2 fields, header has 3"},
		{"ragged long", "text,label\ngood,a\nlong,b,extra\n", 3, "ragged row: 3 fields, header has 2"},
		{"empty text", "text,label\ngood,a\n,b\n", 3, `empty text in column "text"`},
		{"blank text", "text,label\ngood,a\n\"  \",b\n", 3, `empty text in column "text"`},
		{"empty label", "text,label\ngood,a\nno label,\n", 3, `empty label in column "label"`},
		{"invalid UTF-8 text", "text,label\ngood,a\n\xc4\xe3\xba\xc3,b\n", 3, "invalid UTF-8 (the file is in another encoding: give it, e.g. --encoding gbk, or save the file as UTF-8)"},
		{"invalid UTF-8 label", "text,label\ngood,a\nfine,\xff\n", 3, "invalid UTF-8 (the file is in another encoding: give it, e.g. --encoding gbk, or save the file as UTF-8)"},
		{"bare quote", "text,label\ngood,a\nsay \"hi\",b\n", 3, `cannot parse CSV: bare " in non-quoted-field`},
		{"quote in quoted field", "text,label\ngood,a\n\"x\"y\",b\n", 3, `cannot parse CSV: extraneous or missing " in quoted-field`},
		{"multi-line record start", "text,label\n\"a\nb\",ok\nshort\n", 4, "ragged row: 1 fields, header has 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex, rep, err := Load(strings.NewReader(tc.input), "in.csv", labelled)
			if err != nil {
				t.Fatalf("Skip policy: %v", err)
			}
			if rep.Skipped != 1 || len(rep.Bad) != 1 || rep.Rows != rep.Loaded+rep.Skipped || len(ex) != rep.Loaded {
				t.Fatalf("report %+v with %d examples", rep, len(ex))
			}
			want := BadRow{File: "in.csv", Line: tc.line, Reason: tc.reason}
			if rep.Bad[0] != want {
				t.Errorf("bad row %+v, want %+v", rep.Bad[0], want)
			}
			_, _, err = Load(strings.NewReader(tc.input), "in.csv", LoadOptions{LabelCol: "label", OnError: Fail})
			var br BadRow
			if !errors.Is(err, ErrBadRow) || !errors.As(err, &br) || br != want {
				t.Fatalf("Fail policy: err = %v, want %v", err, want)
			}
			if wantMsg := "dataset: " + want.Error(); err.Error() != wantMsg {
				t.Errorf("error text %q, want %q", err, wantMsg)
			}
		})
	}
}

func TestLoadJSONLBadRows(t *testing.T) {
	ex, rep, err := LoadFile(filepath.Join("testdata", "mixed.jsonl"), labelled)
	if err != nil {
		t.Fatal(err)
	}
	wantEx := []Example{
		{Text: "ship my order today", Label: "shipping", Line: 1},
		{Text: "invoice is wrong", Label: "7", Line: 2},
		{Text: "upper-case key", Label: "case", Line: 11},
	}
	if !slices.Equal(ex, wantEx) {
		t.Errorf("examples %+v, want %+v", ex, wantEx)
	}
	file := filepath.Join("testdata", "mixed.jsonl")
	wantBad := []BadRow{
		{file, 4, `empty text in column "text"`},
		{file, 5, `missing field "text"`},
		{file, 6, `missing field "label" (label)`},
		{file, 7, `field "label" is null`},
		{file, 8, `field "text" is not a string or number`},
		{file, 9, "malformed JSON: invalid character 'o' in literal null (expecting 'u')"},
		{file, 10, "malformed JSON: unexpected end of JSON input"},
	}
	if !slices.Equal(rep.Bad, wantBad) {
		t.Errorf("bad rows:\n%v\nwant\n%v", rep.Bad, wantBad)
	}
	if rep.Rows != 10 || rep.Loaded != 3 || rep.Skipped != 7 {
		t.Errorf("report counts %d/%d/%d, want rows 10 (blank line not counted), loaded 3, skipped 7",
			rep.Rows, rep.Loaded, rep.Skipped)
	}
	// More JSONL cases, one line each after a good line.
	for _, tc := range []struct{ name, line, reason string }{
		{"invalid UTF-8", "{\"text\": \"\xff\", \"label\": \"a\"}", "invalid UTF-8 (the file is in another encoding: give it, e.g. --encoding gbk, or save the file as UTF-8)"},
		{"array line", `["text", "label"]`, "malformed JSON: cannot unmarshal array into Go value of type map[string]json.RawMessage"},
		{"null line", `null`, "malformed JSON: line is null, want an object"},
		{"object label", `{"text": "x", "label": {"a": 1}}`, `field "label" is not a string or number`},
		{"bad escape", `{"text": "\q", "label": "a"}`, `malformed JSON: invalid character 'q' in string escape code`},
	} {
		in := `{"text": "ok", "label": "a"}` + "\n" + tc.line + "\n"
		_, rep, err := Load(strings.NewReader(in), "x.jsonl", labelled)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if rep.Loaded != 1 || len(rep.Bad) != 1 || rep.Bad[0].Line != 2 || rep.Bad[0].Reason != tc.reason {
			t.Errorf("%s: report %+v, want line 2 %q", tc.name, rep, tc.reason)
		}
	}
}

func TestLoadJSONLLongLine(t *testing.T) {
	in := `{"text": "ok", "label": "a"}` + "\n" + `{"text": "` + strings.Repeat("x", MaxLineBytes) + `", "label": "a"}` + "\n" + `{"text": "after", "label": "b"}`
	ex, rep, err := Load(strings.NewReader(in), "x.jsonl", labelled)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 2 || ex[1].Text != "after" || ex[1].Line != 3 {
		t.Errorf("examples %+v", ex)
	}
	if len(rep.Bad) != 1 || rep.Bad[0].Line != 2 || !strings.HasPrefix(rep.Bad[0].Reason, "line longer than") {
		t.Errorf("bad rows %+v", rep.Bad)
	}
}

func TestLoadHeaderErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file, input string
		opt               LoadOptions
		want              string
		sentinel          error
	}{
		{"missing text column", "a.csv", "id,body,label\n1,x,y\n", labelled,
			`dataset: a.csv:1: no text column "text" in the header; the file has columns "id", "body", "label": missing column`, ErrMissingColumn},
		{"missing label column", "a.csv", "text,category\nx,y\n", labelled,
			`dataset: a.csv:1: no label column "label" in the header; the file has columns "text", "category": missing column`, ErrMissingColumn},
		{"duplicate column", "a.csv", "text,Text,label\nx,y,z\n", labelled,
			`dataset: a.csv:1: text column "text" appears twice in the header (columns 1 and 2)`, nil},
		{"empty file", "a.csv", "", labelled, "dataset: a.csv: empty file, expected a header row: unsupported format", ErrFormat},
		{"header not UTF-8", "a.csv", "\xce\xc4\xb1\xbe,label\n", labelled,
			"dataset: a.csv:1: header is not valid UTF-8 (give the encoding, e.g. --encoding gbk, or save the file as UTF-8): unsupported format", ErrFormat},
		{"UTF-16", "a.csv", "\xff\xfet\x00e\x00", labelled,
			"dataset: a.csv: file is UTF-16 or UTF-32 encoded; give --encoding utf-16 or save it as UTF-8: unsupported format", ErrFormat},
		{"unknown extension", "a.xlsx", "text\n", labelled,
			`dataset: a.xlsx: cannot tell the format from the extension ".xlsx" (want .csv, .tsv, .jsonl or .ndjson, or set the format): unsupported format`, ErrFormat},
		{"unknown format", "a.csv", "text\n", LoadOptions{Format: "xml"},
			`dataset: a.csv: unknown format "xml" (want csv, tsv or jsonl): unsupported format`, ErrFormat},
		{"JSONL without the text key", "a.jsonl", `{"body": "x", "label": "y"}` + "\n" + `{"id": 2}`, labelled,
			`dataset: a.jsonl: no record has a "text" field; the records have fields "body", "id", "label": missing column`, ErrMissingColumn},
		{"JSONL without the label key", "a.jsonl", `{"text": "x", "cat": "y"}`, labelled,
			`dataset: a.jsonl: no record has a "label" field; the records have fields "cat", "text": missing column`, ErrMissingColumn},
		{"bad policy", "a.csv", "text\nx\n", LoadOptions{OnError: 7}, "dataset: unknown error policy 7", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ex, _, err := Load(strings.NewReader(tc.input), tc.file, tc.opt)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v\nwant  %s", err, tc.want)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("error does not wrap %v", tc.sentinel)
			}
			if ex != nil {
				t.Errorf("examples returned with an error")
			}
		})
	}
}

func TestLoadBOMAndCRLF(t *testing.T) {
	ex, rep, err := LoadFile(filepath.Join("testdata", "bom_crlf.csv"), labelled)
	if err != nil {
		t.Fatal(err)
	}
	want := []Example{
		{Text: "Hello, world", Label: "greeting", Line: 2},
		{Text: "two\nlines", Label: "multi", Line: 3},
		{Text: "plain", Label: "spaced", Line: 5},
	}
	if !slices.Equal(ex, want) || rep.Rows != 3 || rep.Skipped != 0 {
		t.Errorf("got %+v %+v, want %+v", ex, rep, want)
	}
}

func TestLoadUnlabelledAndOptions(t *testing.T) {
	in := "id,Body,label\n1,first,\n2,second,x\n"
	ex, rep, err := Load(strings.NewReader(in), "p.csv", LoadOptions{TextCol: " body "})
	if err != nil {
		t.Fatal(err)
	}
	want := []Example{{Text: "first", Line: 2}, {Text: "second", Line: 3}}
	if !slices.Equal(ex, want) || rep.Skipped != 0 {
		t.Errorf("unlabelled load: %+v %+v", ex, rep)
	}
	// TSV by extension; lazy quotes so a stray quote is text.
	ex, _, err = Load(strings.NewReader("text\tlabel\nsay \"hi\"\tgreet\n"), "f.tsv", labelled)
	if err != nil || len(ex) != 1 || ex[0].Text != `say "hi"` {
		t.Errorf("TSV: %+v %v", ex, err)
	}
	// Explicit format overrides the extension.
	ex, _, err = Load(strings.NewReader(`{"text":"a","label":"b"}`), "data.txt", LoadOptions{LabelCol: "label", Format: "JSONL"})
	if err != nil || len(ex) != 1 {
		t.Errorf("explicit JSONL: %+v %v", ex, err)
	}
	if _, _, err := LoadFile(filepath.Join("testdata", "does-not-exist.csv"), labelled); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadMaxBadRowsAndCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("text,label\n")
	for i := 0; i < 150; i++ {
		b.WriteString(",empty\n")
	}
	b.WriteString("good,x\n")
	ex, rep, err := Load(strings.NewReader(b.String()), "m.csv", labelled)
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 1 || rep.Skipped != 150 || len(rep.Bad) != MaxListedBadRows || rep.Rows != 151 {
		t.Errorf("report: %d examples, skipped %d, listed %d, rows %d", len(ex), rep.Skipped, len(rep.Bad), rep.Rows)
	}
	if got, want := rep.String(), `151 rows: 1 loaded, 150 skipped (first: m.csv:2: empty text in column "text")`; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	_, rep, err = Load(strings.NewReader(b.String()), "m.csv", LoadOptions{LabelCol: "label", MaxBadRows: 10})
	if !errors.Is(err, ErrTooManyBadRows) || rep.Skipped != 11 {
		t.Errorf("MaxBadRows 10: err %v, skipped %d", err, rep.Skipped)
	}
	want := `dataset: m.csv: more than 10 bad rows (last at line 12: empty text in column "text"): too many bad rows`
	if err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}

// TestLoadReferenceSamples loads the excerpts in testdata: always runs.
func TestLoadReferenceSamples(t *testing.T) {
	for _, name := range []string{"naics_industry_en_sample.csv", "massive_intent_zh_sample.csv", "banking77_en_sample.csv"} {
		ex, rep, err := LoadFile(filepath.Join("testdata", name), LoadOptions{LabelCol: "label", OnError: Fail})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(ex) != 40 || rep.Rows != 40 || rep.Skipped != 0 {
			t.Errorf("%s: %d examples, report %+v", name, len(ex), rep)
		}
		if ex[0].Line != 2 || ex[0].Text == "" || ex[0].Label == "" {
			t.Errorf("%s: first example %+v", name, ex[0])
		}
	}
}

// TestLoadSharedData loads the full shared data sets when they exist.
func TestLoadSharedData(t *testing.T) {
	for _, tc := range []struct {
		path         string
		rows, labels int
	}{
		{"/work/shared/data/naics_industry_en/naics_industry_en.csv", 14059, 20},
		{"/work/shared/data/massive_intent_zh/massive_intent_zh.csv", 13547, 60},
		{"/work/shared/data/banking77_en/banking77_en.csv", 10003, 77},
	} {
		if _, err := os.Stat(tc.path); err != nil {
			t.Skipf("shared data not available: %v", err)
		}
		ex, rep, err := LoadFile(tc.path, LoadOptions{LabelCol: "label", OnError: Fail})
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		names, _ := LabelIndex(ex)
		if rep.Rows != tc.rows || rep.Loaded != tc.rows || rep.Skipped != 0 || len(names) != tc.labels {
			t.Errorf("%s: report %+v, %d labels; want %d rows, %d labels", tc.path, rep, len(names), tc.rows, tc.labels)
		}
	}
}
