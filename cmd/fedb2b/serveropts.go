package main

import (
	"fmt"
	"log/slog"

	"google.golang.org/grpc"

	"github.com/fedb2b/fedb2b/coordinator"
	"github.com/fedb2b/fedb2b/coordinator/pki"
)

// coordinatorServerOptions builds the coordinator's gRPC server options
// from --tls-dir, --ca-dir or --insecure-no-tls (exactly one). enrol, if
// not nil, registers the enrolment service (all-in-one --ca-dir);
// authenticate says tenants are authenticated by their certificates. A
// standby serves its health with the same options.
func coordinatorServerOptions(tlsDir, caDir string, noTLS bool, ak *ageKeyFlags, log *slog.Logger) (opts []grpc.ServerOption, enrol func(*grpc.Server), authenticate bool, err error) {
	onReject := func(err error) { log.Warn("refused a client certificate", "err", err) }
	switch {
	case tlsDir != "" && caDir == "" && !noTLS:
		id, err := ak.ageIdentity()
		if err != nil {
			return nil, nil, false, fmt.Errorf("--tls-dir needs the key that decrypts server.key.age: %w", err)
		}
		if err := pki.CheckServerDir(tlsDir); err != nil {
			return nil, nil, false, err
		}
		reg, err := pki.OpenRegistry(tlsDir)
		if err != nil {
			return nil, nil, false, err
		}
		tls, err := pki.GRPCServerOptions(pki.ServerConfig{Dir: tlsDir, Identity: id, Registry: reg, PublicMethods: healthMethods, OnReject: onReject})
		if err != nil {
			return nil, nil, false, err
		}
		return append(coordinator.ServerOptions(coordinator.Limits{}), tls...), nil, true, nil
	case caDir != "" && tlsDir == "" && !noTLS:
		id, err := ak.ageIdentity()
		if err != nil {
			return nil, nil, false, fmt.Errorf("--ca-dir needs the key that decrypts the CA: %w", err)
		}
		auth, err := pki.LoadAuthority(caDir, id, 0)
		if err != nil {
			return nil, nil, false, err
		}
		log.Warn("ALL-IN-ONE: this coordinator holds the CA private key and serves enrolment (--ca-dir); run 'fedb2b ca serve' apart and use --tls-dir so that the coordinator cannot mint tenant identities")
		tls, err := pki.GRPCServerOptions(pki.ServerConfig{Dir: caDir, Identity: id, Registry: auth.Registry(), Authority: auth, AllowEnrollment: true,
			PublicMethods: healthMethods, OnReject: onReject})
		if err != nil {
			return nil, nil, false, err
		}
		enrol = func(srv *grpc.Server) {
			esvc := pki.NewEnrollmentService(auth, nil)
			esvc.OnRefuse = func(src string, reason error) { log.Warn("enrolment refused", "source", src, "reason", reason) }
			esvc.Register(srv)
		}
		return append(coordinator.ServerOptions(coordinator.Limits{}), tls...), enrol, true, nil
	case noTLS && caDir == "" && tlsDir == "":
		log.Warn("INSECURE: serving without TLS; tenants are not authenticated")
		return coordinator.ServerOptions(coordinator.Limits{}), nil, false, nil
	}
	return nil, nil, false, fmt.Errorf("give exactly one of --tls-dir DIR (made by 'fedb2b ca export'), --ca-dir DIR (all-in-one) or --insecure-no-tls")
}
