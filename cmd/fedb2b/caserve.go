package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"google.golang.org/grpc"

	"github.com/fedb2b/fedb2b/coordinator/pki"
)

// runCAServe runs the enrolment service apart from the coordinator: only
// this process decrypts the CA key. It keeps each --mirror file (the
// registry.json of a coordinator's TLS directory, made by 'ca export')
// current with the registry's public view, so new enrolments and
// revocations reach the coordinator.
func runCAServe(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ca serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "CA directory (from 'fedb2b ca init')")
	listen := fs.String("listen", "127.0.0.1:7071", "address of the enrolment service")
	var mirrors multiFlag
	fs.Var(&mirrors, "mirror", "keep this file (a coordinator's TLS-directory registry.json) equal to the registry's public view (repeatable)")
	every := fs.Duration("enroll-every", pki.DefaultEnrollEvery, "per source address: one enrolment attempt per this interval after the burst")
	burst := fs.Int("enroll-burst", pki.DefaultEnrollBurst, "per source address: enrolment attempts allowed at once")
	var ak ageKeyFlags
	ak.register(fs, false)
	var lf logFlags
	lf.register(fs)
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "fedb2b ca serve: "+format+"\n", a...)
		return code
	}
	if fs.NArg() > 0 {
		return fail(2, "unexpected argument %q", fs.Arg(0))
	}
	if *dir == "" {
		return fail(2, "--dir DIR is required")
	}
	if *every <= 0 || *burst < 1 {
		return fail(2, "--enroll-every must be positive and --enroll-burst at least 1")
	}
	id, err := ak.ageIdentity()
	if err != nil {
		return fail(2, "%v", err)
	}
	auth, err := pki.LoadAuthority(*dir, id, 0)
	if err != nil {
		return fail(1, "%v", err)
	}
	opts, err := pki.GRPCServerOptions(pki.ServerConfig{Dir: *dir, Identity: id, Registry: auth.Registry(), Authority: auth, AllowEnrollment: true})
	if err != nil {
		return fail(1, "%v", err)
	}
	log, err := lf.logger(stderr)
	if err != nil {
		return fail(2, "%v", err)
	}
	srv := grpc.NewServer(opts...)
	svc := pki.NewEnrollmentService(auth, nil)
	svc.Every, svc.Burst = *every, *burst
	svc.OnRefuse = func(src string, reason error) { log.Warn("enrolment refused", "source", src, "reason", reason) }
	svc.Register(srv)
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail(1, "%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	mirror := func() {
		for _, m := range mirrors {
			if err := auth.Registry().WritePublicView(m); err != nil {
				log.Error("registry mirror", "file", m, "err", err)
			}
		}
	}
	mirror()
	svc.OnEnrolled = mirror
	go srv.Serve(lis)
	defer srv.Stop()
	fmt.Fprintf(stdout, "enrolment service listening on %s (CA %s)\n", lis.Addr(), *dir)
	// The registry changes under enrolments here and under 'tenant
	// revoke' or 'tenant invite' from the CLI: mirror on every change.
	reg := filepath.Join(*dir, "registry.json")
	var last time.Time
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return 0
		case <-tick.C:
			if fi, err := os.Stat(reg); err == nil && !fi.ModTime().Equal(last) {
				last = fi.ModTime()
				mirror()
			}
		}
	}
}

// runCAExport writes a coordinator's TLS directory: everything the
// coordinator needs for mutual TLS, and no CA private key.
func runCAExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ca export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "CA directory (from 'fedb2b ca init')")
	out := fs.String("out", "", "the coordinator's TLS directory to write (ca.crt, server.crt, server.key.age, registry.json)")
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	if fs.NArg() > 0 || *dir == "" || *out == "" {
		fmt.Fprintf(stderr, "fedb2b ca export: --dir and --out are required (no other arguments)\n")
		return 2
	}
	if err := pki.ExportServer(*dir, *out); err != nil {
		fmt.Fprintf(stderr, "fedb2b ca export: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "coordinator TLS directory written to %s (no CA private key); give it to 'fedb2b coordinator --tls-dir'\n", *out)
	return 0
}
