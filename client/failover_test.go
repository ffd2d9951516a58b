package client

import (
	"context"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/fedb2b/fedb2b/api"
)

// answering serves every call with code (a standby answers Unavailable;
// the leader answers, here FailedPrecondition, so the test can tell it).
func answering(t *testing.T, code codes.Code) string {
	t.Helper()
	return answeringMsg(t, code, "")
}

// answeringMsg serves every call with code and msg (the address if empty).
func answeringMsg(t *testing.T, code codes.Code, msg string) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
		if msg == "" {
			return status.Error(code, "answer from "+lis.Addr().String())
		}
		return status.Error(code, msg)
	}))
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

// TestFailoverFindsLeader: from a list of a dead address, a standby and
// the leader, retried calls end at the leader and stay there, for unary
// calls and streams.
func TestFailoverFindsLeader(t *testing.T) {
	dead := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}()
	standby, leader := answering(t, codes.Unavailable), answering(t, codes.FailedPrecondition)
	f, err := NewFailover([]string{dead, standby, leader}, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fc := api.NewFederationClient(f)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var codesSeen []codes.Code
	for range 5 {
		_, err := fc.Poll(ctx, &api.PollRequest{Tenant: "t"})
		codesSeen = append(codesSeen, status.Code(err))
	}
	want := []codes.Code{codes.Unavailable, codes.Unavailable, codes.FailedPrecondition, codes.FailedPrecondition, codes.FailedPrecondition}
	for i := range want {
		if codesSeen[i] != want[i] {
			t.Fatalf("codes %v, want %v", codesSeen, want)
		}
	}
	if f.Current() != leader {
		t.Fatalf("current %s, want the leader %s", f.Current(), leader)
	}
	// A stream that fails Unavailable (here on a standby) moves on too.
	f2, err := NewFailover([]string{standby, leader}, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close()
	s, err := api.NewFederationClient(f2).Download(ctx, &api.DownloadRequest{})
	if err == nil {
		_, err = s.Recv()
	}
	if status.Code(err) != codes.Unavailable || f2.Current() != leader {
		t.Fatalf("stream on the standby: %v; current %s, want %s", err, f2.Current(), leader)
	}
	// A standby's redirect to a listed address is followed at once; one
	// to an address not in the list is ignored.
	redirect := func(to string) string {
		return answeringMsg(t, codes.Unavailable, "standby coordinator; "+LeaderHint+to)
	}
	f3, err := NewFailover([]string{redirect(leader), dead, standby, leader}, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer f3.Close()
	if _, err := api.NewFederationClient(f3).Poll(ctx, &api.PollRequest{}); status.Code(err) != codes.Unavailable || f3.Current() != leader {
		t.Fatalf("redirect: %v; current %s, want %s", err, f3.Current(), leader)
	}
	f4, err := NewFailover([]string{redirect("10.9.9.9:1"), leader}, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer f4.Close()
	if _, err := api.NewFederationClient(f4).Poll(ctx, &api.PollRequest{}); status.Code(err) != codes.Unavailable || f4.Current() != leader {
		t.Fatalf("redirect outside the list: %v; current %s, want the next listed %s", err, f4.Current(), leader)
	}
	if _, err := NewFailover(nil); err == nil {
		t.Fatal("empty address list accepted")
	}
}
