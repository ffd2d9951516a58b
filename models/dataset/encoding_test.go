package dataset

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

const zhCSV = "text,label\n该公司主要从事软件开发和IT服务。,software_it\n本公司生产五金工具与紧固件。,hardware\n一家提供物流与仓储服务的企业,logistics\nAcme Tools GmbH makes fasteners,hardware\n"

func TestLoadConvertsEncodings(t *testing.T) {
	want, _, err := Load(strings.NewReader(zhCSV), "zh.csv", LoadOptions{LabelCol: "label"})
	if err != nil || len(want) != 4 {
		t.Fatalf("UTF-8 reference: %d rows, %v", len(want), err)
	}
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(zhCSV))
	if err != nil {
		t.Fatal(err)
	}
	utf16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(zhCSV))
	if err != nil {
		t.Fatal(err)
	}
	gb18030, _ := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(zhCSV))
	for name, tc := range map[string]struct {
		data []byte
		enc  string
	}{"gbk": {gbk, "gbk"}, "gb18030": {gb18030, "GB18030"}, "utf-16 with BOM": {utf16, "utf-16"}} {
		got, rep, err := Load(bytes.NewReader(tc.data), "zh.csv", LoadOptions{LabelCol: "label", Encoding: tc.enc, MaxBadFraction: 0.01})
		if err != nil || rep.Skipped != 0 || !slices.EqualFunc(got, want, func(a, b Example) bool { return a.Text == b.Text && a.Label == b.Label }) {
			t.Errorf("%s: %v, report %v, got %v", name, err, rep, got)
		}
	}
	// The GBK file read as UTF-8 loses its Chinese rows: with a bad-row
	// fraction set, the load fails and says what to try.
	_, rep, err := Load(bytes.NewReader(gbk), "zh.csv", LoadOptions{LabelCol: "label", MaxBadFraction: 0.1})
	if !errors.Is(err, ErrTooManyBadRows) || !strings.Contains(err.Error(), "--encoding gbk") || rep.Skipped != 3 {
		t.Fatalf("GBK read as UTF-8: %v (report %v)", err, rep)
	}
	// The UTF-16 file without --encoding is refused with the flag to use.
	if _, _, err := Load(bytes.NewReader(utf16), "zh.csv", LoadOptions{LabelCol: "label"}); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), "--encoding utf-16") {
		t.Fatalf("UTF-16 without encoding: %v", err)
	}
	if _, _, err := Load(strings.NewReader(zhCSV), "zh.csv", LoadOptions{LabelCol: "label", Encoding: "ebcdic"}); !errors.Is(err, ErrFormat) {
		t.Fatalf("unknown encoding accepted: %v", err)
	}
	if _, _, err := Load(strings.NewReader(zhCSV), "zh.csv", LoadOptions{LabelCol: "label", MaxBadFraction: 1.5}); err == nil {
		t.Fatal("bad-row fraction 1.5 accepted")
	}
}
