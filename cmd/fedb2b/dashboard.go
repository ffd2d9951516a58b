package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/fedb2b/fedb2b/coordinator/monitor"
)

// serveDashboard starts the operator's dashboard on addr. The returned
// close function stops it, first waiting for ctx to end when wait is set.
func serveDashboard(addr, task string, rounds int, metrics func([]int64) (map[string]float64, error)) (*monitor.Monitor, string, func(wait bool, ctx context.Context, stdout io.Writer), error) {
	mon := monitor.New(monitor.Config{Task: task, Rounds: rounds, Metrics: metrics})
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", nil, err
	}
	srv := &http.Server{Handler: mon.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(lis)
	return mon, lis.Addr().String(), func(wait bool, ctx context.Context, stdout io.Writer) {
		if wait {
			fmt.Fprintf(stdout, "dashboard stays on http://%s/ until interrupted (Ctrl-C)\n", lis.Addr())
			<-ctx.Done()
		}
		srv.Close()
	}, nil
}
