package client

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Failover is a connection to the first answering coordinator of a list
// (active/standby coordinators on one database): every call goes to the
// current address; a call that fails with Unavailable (the coordinator is
// down, or is a standby, which answers Unavailable naming the leader)
// moves the current address to the leader's, if named and listed, or to
// the next one, and the client's retry of Unavailable calls then reaches
// it. So a client follows a takeover by a standby without
// knowing which coordinator leads. It implements
// grpc.ClientConnInterface (api.NewFederationClient takes it).
type Failover struct {
	addrs []string
	conns []*grpc.ClientConn
	cur   atomic.Int64
}

// NewFailover makes a connection per address with opts.
func NewFailover(addrs []string, opts ...grpc.DialOption) (*Failover, error) {
	if len(addrs) == 0 {
		return nil, fmt.Errorf("client: no coordinator address")
	}
	f := &Failover{addrs: addrs}
	for _, a := range addrs {
		c, err := grpc.NewClient(a, opts...)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("client: coordinator %s: %w", a, err)
		}
		f.conns = append(f.conns, c)
	}
	return f, nil
}

// Close closes every connection.
func (f *Failover) Close() error {
	for _, c := range f.conns {
		c.Close()
	}
	return nil
}

// Current is the address calls go to now.
func (f *Failover) Current() string { return f.addrs[f.cur.Load()] }

// LeaderHint is how a standby coordinator's Unavailable message names the
// leader's address.
const LeaderHint = "the leader is at "

// next moves on from index i after an Unavailable error (once, however
// many calls failed on i at the same time): to the address the error
// names as the leader's if it is one of the list (a standby's redirect;
// any other address is ignored, so a standby cannot send the client
// elsewhere), else to the next one.
func (f *Failover) next(i int64, err error) {
	if status.Code(err) != codes.Unavailable || len(f.conns) < 2 {
		return
	}
	to := (i + 1) % int64(len(f.conns))
	if _, hint, ok := strings.Cut(status.Convert(err).Message(), LeaderHint); ok {
		hint, _, _ = strings.Cut(hint, " ")
		if j := slices.Index(f.addrs, hint); j >= 0 && int64(j) != i {
			to = int64(j)
		}
	}
	f.cur.CompareAndSwap(i, to)
}

// Invoke performs a unary call on the current coordinator.
func (f *Failover) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	i := f.cur.Load()
	err := f.conns[i].Invoke(ctx, method, args, reply, opts...)
	f.next(i, err)
	return err
}

// NewStream opens a stream on the current coordinator.
func (f *Failover) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	i := f.cur.Load()
	s, err := f.conns[i].NewStream(ctx, desc, method, opts...)
	if err != nil {
		f.next(i, err)
		return nil, err
	}
	return &failoverStream{ClientStream: s, f: f, i: i}, nil
}

// failoverStream moves the current address on when the stream fails with
// Unavailable.
type failoverStream struct {
	grpc.ClientStream
	f *Failover
	i int64
}

func (s *failoverStream) SendMsg(m any) error {
	err := s.ClientStream.SendMsg(m)
	s.f.next(s.i, err)
	return err
}

func (s *failoverStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	s.f.next(s.i, err)
	return err
}
