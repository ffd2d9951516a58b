package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
)

// logFlags choose how a long-running command logs: structured records
// (log/slog) as text (the default) or JSON lines, at a level.
type logFlags struct {
	format, level string
}

func (l *logFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&l.format, "log-format", "text", "log records as text or json (one JSON object per line)")
	fs.StringVar(&l.level, "log-level", "info", "least severe records logged: debug, info, warn or error")
}

// logger returns the logger writing to w, or an error naming the bad flag.
func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", l.level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch l.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", l.format)
}
