package dataset

import (
	"strings"
	"testing"
	"unsafe"
)

// TestLoadKeepsOneCopyOfEachLabel: rows with the same label share one
// string (memory on large files, #18), and the text is its own copy, not a
// window on the record's string with the other columns behind it.
func TestLoadKeepsOneCopyOfEachLabel(t *testing.T) {
	in := "text,label,notes\nfirst text,x,a long column the examples must not keep\nsecond,x,more\nthird,y,z\n"
	ex, _, err := Load(strings.NewReader(in), "a.csv", labelled)
	if err != nil || len(ex) != 3 {
		t.Fatalf("load: %v, %d examples", err, len(ex))
	}
	if unsafe.StringData(ex[0].Label) != unsafe.StringData(ex[1].Label) {
		t.Error("two rows labelled x hold two copies of the label")
	}
	// encoding/csv puts a record's fields one after the other in one
	// string: a text sliced from it would be followed by the label.
	for _, e := range ex {
		end := uintptr(unsafe.Pointer(unsafe.StringData(e.Text))) + uintptr(len(e.Text))
		if lab := uintptr(unsafe.Pointer(unsafe.StringData(e.Label))); lab == end {
			t.Errorf("text %q is a window on its record's string", e.Text)
		}
	}
}
