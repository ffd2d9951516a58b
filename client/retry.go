package client

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DefaultReconnect is how long a client keeps retrying an unreachable
// coordinator before it gives up.
const DefaultReconnect = 2 * time.Minute

// retry calls fn until it succeeds, fails with anything but Unavailable,
// ctx ends, or the coordinator stayed unreachable for c's reconnect limit.
// The wait doubles from 100 ms up to 5 s.
func retry[T any](ctx context.Context, c *Client, fn func() (T, error)) (T, error) {
	limit := c.cfg.Reconnect
	if limit == 0 {
		limit = DefaultReconnect
	}
	deadline := time.Now().Add(limit)
	wait := 100 * time.Millisecond
	for {
		v, err := fn()
		if err == nil || status.Code(err) != codes.Unavailable || time.Now().After(deadline) {
			return v, err
		}
		c.log.Warn("coordinator unreachable, retrying", "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}
