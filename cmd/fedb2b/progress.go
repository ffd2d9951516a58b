package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progressTo returns a function that reports the start of each long step
// on w, with the time since the previous one, when w is a terminal and
// quiet is not set; otherwise nil (nothing is printed into files or pipes).
func progressTo(w io.Writer, quiet bool) func(step string) {
	f, ok := w.(*os.File)
	if quiet || !ok {
		return nil
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	start := time.Now()
	return func(step string) {
		fmt.Fprintf(w, "[%6.1fs] %s …\n", time.Since(start).Seconds(), step)
	}
}
