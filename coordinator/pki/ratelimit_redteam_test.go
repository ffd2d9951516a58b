package pki_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/api/enrollpb"
	"github.com/fedb2b/fedb2b/coordinator/pki"
)

// TestRedteamRateLimitPerIPv6Host attacks claim 4 of #15 (per-source
// rate limit of enrolment). One IPv6 host is routed a /64 — 2^64
// addresses it may use as sources — so a limit keyed by the full address
// is no limit: each attempt from a new address of the same /64 gets a
// fresh bucket. (It also lets one host fill the 10,000-entry limiter
// table and so evict, and reset, any other source's bucket.)
func TestRedteamRateLimitPerIPv6Host(t *testing.T) {
	_, _, a := newCA(t)
	inv, _ := a.Registry().Invite("acme", time.Hour, time.Now(), nil)
	wrong := inv
	wrong.Secret[0] ^= 1
	svc := pki.NewEnrollmentService(a, nil)
	svc.Burst, svc.Every = 3, time.Hour
	limited := 0
	for i := range 8 {
		ip := net.ParseIP(fmt.Sprintf("2001:db8:1:2::%x", i+1))
		ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: ip, Port: 40000 + i}})
		_, err := svc.Enroll(ctx, &enrollpb.EnrollRequest{Tenant: "acme", Token: wrong.Token(), Csr: newCSR(t)})
		if code(err) == codes.ResourceExhausted {
			limited++
		}
	}
	if limited != 5 {
		t.Fatalf("8 attempts from one /64 with a burst of 3: %d rate limited, want 5 (the limit is keyed by the full IPv6 address)", limited)
	}
	// A different /64 has its own bucket.
	ctx := peer.NewContext(context.Background(), &peer.Peer{Addr: &net.TCPAddr{IP: net.ParseIP("2001:db8:1:3::1"), Port: 1}})
	if _, err := svc.Enroll(ctx, &enrollpb.EnrollRequest{Tenant: "acme", Token: wrong.Token(), Csr: newCSR(t)}); code(err) != codes.PermissionDenied {
		t.Fatalf("another /64: %v, want PermissionDenied (its own bucket)", err)
	}
}

func code(err error) codes.Code { return status.Code(err) }
