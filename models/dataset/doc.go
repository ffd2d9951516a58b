// Package dataset loads tenants' labelled text files, generates a synthetic
// bilingual B2B data set, and splits data among simulated tenants.
//
// # Loading
//
// LoadFile and Load read UTF-8 CSV or TSV files with a header row (RFC 4180
// quoting; a UTF-8 byte-order mark and CRLF line ends are accepted) and
// JSONL files with one JSON object per line. LoadOptions names the text
// column (default "text") and the label column; an empty LabelCol loads
// unlabelled data, for prediction. Column names match ignoring case and
// surrounding spaces. Texts are kept exactly as written; labels are
// trimmed. Every Example records the line where its record starts.
//
// Tenant files are often exported from spreadsheets and ERP systems, so bad
// rows are expected and are never a panic. A bad row is one that
//   - has more or fewer fields than the header (a ragged CSV row),
//   - cannot be parsed (a stray quote in CSV, malformed JSON, a line longer
//     than MaxLineBytes),
//   - lacks the text or label field (JSONL) or has it null or not a string
//     or number,
//   - has an empty text, or an empty label when a label column is named,
//   - is not valid UTF-8 (usually a file saved in GBK or Latin-1: give
//     LoadOptions.Encoding, and the text is converted as it is read).
//
// Under the Skip policy (the zero value) bad rows are counted in
// LoadReport.Skipped and the first MaxListedBadRows are listed with file,
// line and reason; LoadReport.Rows == Loaded + Skipped always. Under Fail
// the first bad row ends the load with an error that wraps its BadRow
// ("dataset: tenant.csv:17: ragged row: 2 fields, header has 3").
// LoadOptions.MaxBadRows and MaxBadFraction turn a file that is mostly bad into an error
// under Skip too. Problems with the whole file are errors under both
// policies: an unknown format, UTF-16 text, a header (or, for JSONL, a set
// of records) without the named columns — the error lists the columns the
// file has — and read errors.
//
// Memory: the file is read as a stream (a 64 KiB buffer, the encoding
// converted on the fly, one record at a time); what is kept is one
// Example per good row, its text copied out of the record (the other
// columns are not kept alive) and each distinct label stored once.
//
// # Synthetic data
//
// Synthesize generates company-profile descriptions in English and
// Chinese, labelled with one of the Industries (stable IDs such as
// "software_it" with English and Chinese display names), for demos and
// simulations where no real tenant data may be used. The data is synthetic:
// company names, cities, figures and combinations are drawn at random from
// word lists and describe no real company. Descriptions borrow words from
// related industries on purpose, so the task is learnable but not
// trivially separable: a multinomial naive Bayes on character 1-3-grams
// trained on 3,000 records scores about 0.86 on fresh records (see the
// tests). Output is deterministic given the seed.
//
// # Federated splits
//
// SplitDirichlet partitions examples among simulated tenants with
// Dirichlet label skew (the usual non-IID benchmark), TrainTestSplit holds
// out a test part in which each record's side depends on that record alone
// (a keyed hash: removing one record moves no other between the parts), LabelIndex fixes a sorted label order that
// all parties derive alike, and LabelSkew measures how non-IID a split is.
// WriteCSV and WriteTenantFiles write the parts (one CSV per tenant,
// replaced atomically). The seeds of these functions make simulations
// reproducible and protect nothing; privacy randomness lives in package
// privacy.
package dataset
