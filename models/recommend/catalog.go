package recommend

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// catalogHashLabel separates the catalog hash from every other hash.
const catalogHashLabel = "fedb2b/recommend/catalog/v1"

// MaxCatalog bounds the products of a catalog read from outside.
const MaxCatalog = 1 << 20

// NewCatalog returns the catalog of the given products; codes must be
// distinct, non-empty and sorted (the index order every party shares).
// The slices are copied.
func NewCatalog(codes, descriptions []string) (*Catalog, error) {
	if len(codes) != len(descriptions) {
		return nil, fmt.Errorf("recommend: catalog of %d codes and %d descriptions", len(codes), len(descriptions))
	}
	if len(codes) > MaxCatalog {
		return nil, fmt.Errorf("recommend: catalog of %d products exceeds %d", len(codes), MaxCatalog)
	}
	c := &Catalog{Codes: slices.Clone(codes), Descriptions: slices.Clone(descriptions), index: make(map[string]int, len(codes))}
	for i, code := range codes {
		switch {
		case code == "":
			return nil, fmt.Errorf("recommend: catalog product %d has an empty code", i)
		case i > 0 && codes[i-1] >= code:
			return nil, fmt.Errorf("recommend: catalog codes not sorted and distinct at product %d (%q after %q)", i, code, codes[i-1])
		}
		c.index[code] = i
	}
	return c, nil
}

// Hash is the hex SHA-256 of the catalog (codes and descriptions in index
// order, each length-prefixed, under a domain-separation label). Parties
// with the same Hash index the same products by the same numbers and
// compute the same frozen features from them.
func (c *Catalog) Hash() string {
	h := sha256.New()
	var n [8]byte
	put := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	put(catalogHashLabel)
	binary.BigEndian.PutUint64(n[:], uint64(len(c.Codes)))
	h.Write(n[:])
	for i, code := range c.Codes {
		put(code)
		put(c.Descriptions[i])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// WriteCSV writes the catalog as CSV with the header
// "stock_code,description", one product a line in index order.
func (c *Catalog) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"stock_code", "description"}); err != nil {
		return fmt.Errorf("recommend: write catalog: %w", err)
	}
	for i, code := range c.Codes {
		if err := cw.Write([]string{code, c.Descriptions[i]}); err != nil {
			return fmt.Errorf("recommend: write catalog: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("recommend: write catalog: %w", err)
	}
	return nil
}

// ReadCatalog reads a catalog written by WriteCSV; name labels errors.
func ReadCatalog(r io.Reader, name string) (*Catalog, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = 2
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("recommend: catalog %s: header: %w", name, err)
	}
	if strings.TrimPrefix(head[0], "\ufeff") != "stock_code" || head[1] != "description" {
		return nil, fmt.Errorf("recommend: catalog %s: header %q, want stock_code,description", name, head)
	}
	var codes, descs []string
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("recommend: catalog %s: %w", name, err)
		}
		if len(codes) == MaxCatalog {
			return nil, fmt.Errorf("recommend: catalog %s has more than %d products", name, MaxCatalog)
		}
		codes, descs = append(codes, rec[0]), append(descs, rec[1])
	}
	c, err := NewCatalog(codes, descs)
	if err != nil {
		return nil, fmt.Errorf("recommend: catalog %s: %w", name, err)
	}
	return c, nil
}
