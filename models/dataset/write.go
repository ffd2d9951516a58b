package dataset

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// WriteCSV writes ex as CSV with the header "text,label" (RFC 4180 quoting,
// "\n" line ends). Load with LabelCol "label" reads it back; only a text
// with "\r\n" inside comes back with "\n" there, as encoding/csv reads it.
func WriteCSV(w io.Writer, ex []Example) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"text", "label"}); err != nil {
		return fmt.Errorf("dataset: failed to write CSV header: %w", err)
	}
	for i, e := range ex {
		if err := cw.Write([]string{e.Text, e.Label}); err != nil {
			return fmt.Errorf("dataset: failed to write CSV record %d: %w", i+1, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("dataset: failed to write CSV: %w", err)
	}
	return nil
}

// TenantFileName is the name WriteTenantFiles gives part i (0-based):
// "tenant-1.csv", "tenant-2.csv", ...
func TenantFileName(i int) string {
	return "tenant-" + strconv.Itoa(i+1) + ".csv"
}

// WriteTenantFiles writes parts[i] to dir/tenant-(i+1).csv with WriteCSV
// and returns the paths in order. dir is created if needed (mode 0750).
// Each file is written to a temporary file in dir, synced and renamed over
// the final name, so a reader never sees a half-written file; files are
// created with mode 0600 because they stand for a tenant's private data.
// On error, files already renamed stay and the failing one is removed.
func WriteTenantFiles(dir string, parts [][]Example) ([]string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("dataset: failed to create output directory: %w", err)
	}
	paths := make([]string, 0, len(parts))
	for i, part := range parts {
		path := filepath.Join(dir, TenantFileName(i))
		if err := writeFileAtomic(path, func(w io.Writer) error { return WriteCSV(w, part) }); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// writeFileAtomic writes path through a temporary file and a rename.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("dataset: failed to create temporary file for %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return fmt.Errorf("dataset: %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("dataset: failed to sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("dataset: failed to close %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("dataset: failed to rename into %s: %w", path, err)
	}
	return nil
}
