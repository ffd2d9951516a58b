package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/fedb2b/fedb2b/models/dataset"
)

// fileFlags are the flags every command that reads a tenant's text file
// shares: its encoding and how many bad rows it may have.
type fileFlags struct {
	encoding string
	maxBad   float64
}

func (f *fileFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.encoding, "encoding", "utf-8", "text encoding of the data file: "+strings.Join(dataset.Encodings, ", ")+" (converted to UTF-8 as it is read)")
	fs.Float64Var(&f.maxBad, "max-bad-fraction", 0.1, "fail when more than this fraction of the file's rows are bad (0: never fail, only report)")
}

// options completes o with the flags, refusing values outside their domain.
func (f *fileFlags) options(o dataset.LoadOptions) (dataset.LoadOptions, error) {
	if !(f.maxBad >= 0 && f.maxBad <= 1) {
		return o, fmt.Errorf("--max-bad-fraction %v: want a fraction in [0, 1]", f.maxBad)
	}
	o.Encoding, o.MaxBadFraction = f.encoding, f.maxBad
	return o, nil
}

// loadData reads a labelled or unlabelled text file with the flags'
// encoding and bad-row limit.
func (f *fileFlags) loadData(path string, o dataset.LoadOptions) ([]dataset.Example, dataset.LoadReport, error) {
	o, err := f.options(o)
	if err != nil {
		return nil, dataset.LoadReport{}, err
	}
	return dataset.LoadFile(path, o)
}
