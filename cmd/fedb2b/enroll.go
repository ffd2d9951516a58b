package main

import (
	"context"
	"crypto/ed25519"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fedb2b/fedb2b/client/enroll"
	"github.com/fedb2b/fedb2b/privacy/keys"
)

// Registered as "enroll"; `fedb2b client enroll` is routed here by the
// client command.
func init() {
	register("enroll", "enrol this tenant: generate its key locally and obtain a client certificate with a one-time invitation", runEnroll)
}

const enrollUsage = `usage: fedb2b client enroll --coordinator HOST:PORT (--token INVITE | --token-file FILE) --dir DIR
           (--passphrase-env VAR | --identity FILE) (--workdir WORKDIR | --identity-pub FILE) [--server-name NAME]`

func runEnroll(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("client enroll", flag.ContinueOnError)
	fs.SetOutput(stderr)
	coord := fs.String("coordinator", "", "address HOST:PORT of the enrolment service (`fedb2b ca serve`, or an all-in-one `coordinator --ca-dir`)")
	token := fs.String("token", "", "invitation from 'fedb2b tenant invite' (visible in the process list; prefer --token-file)")
	tokenFile := fs.String("token-file", "", "file holding the invitation")
	dir := fs.String("dir", "", "directory for tenant.key.age, tenant.crt and ca.crt")
	serverName := fs.String("server-name", "", "name in the coordinator's certificate (default: the host of --coordinator)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the coordinator")
	identityPub := fs.String("identity-pub", "", "this tenant's ed25519 identity public key (signing.pub beside the --key of 'fedb2b client'), bound into the certificate so that peers in secure aggregation need not trust the coordinator with it")
	workdir := fs.String("workdir", "", "the --workdir of 'fedb2b client': bind the public key of WORKDIR/signing.key.age (created if absent, encrypted as --passphrase-env or --identity say, as 'fedb2b client' would)")
	var ak ageKeyFlags
	ak.register(fs, true)
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "fedb2b client enroll: "+format+"\n", a...)
		return code
	}
	if fs.NArg() > 0 {
		return fail(2, "unexpected argument %q", fs.Arg(0))
	}
	if *coord == "" || *dir == "" {
		return fail(2, "--coordinator and --dir are required\n%s", enrollUsage)
	}
	if (*token == "") == (*tokenFile == "") {
		return fail(2, "give exactly one of --token or --token-file")
	}
	inv := *token
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fail(1, "%v", err)
		}
		inv = strings.TrimSpace(string(b))
	}
	rcpt, err := ak.recipient()
	if err != nil {
		return fail(2, "%v", err)
	}
	var idKey ed25519.PublicKey
	switch {
	case *identityPub != "" && *workdir != "":
		return fail(2, "give at most one of --identity-pub and --workdir")
	case *identityPub != "":
		if idKey, err = keys.ReadPublic(*identityPub); err != nil {
			return fail(1, "--identity-pub: %v", err)
		}
	case *workdir != "":
		if err := os.MkdirAll(*workdir, 0o700); err != nil {
			return fail(1, "%v", err)
		}
		priv, err := ak.signingKey(filepath.Join(*workdir, "signing.key.age"))
		if err != nil {
			return fail(1, "--workdir: %v", err)
		}
		idKey = priv.Public().(ed25519.PublicKey)
	default:
		fmt.Fprintln(stderr, "fedb2b client enroll: warning: no --identity-pub or --workdir: the certificate binds no identity key, and a coordinator with TLS will refuse this tenant in secure-aggregation rounds")
	}
	c, err := enroll.Enroll(context.Background(), enroll.Options{
		Coordinator: *coord, Invite: inv, Dir: *dir, Recipient: rcpt, ServerName: *serverName, Timeout: *timeout, IdentityKey: idKey,
	})
	if err != nil {
		return fail(1, "%v", err)
	}
	fmt.Fprintf(stdout, "enrolled as %s; certificate valid until %s\ncredentials in %s (private key encrypted with age, generated here)\n",
		c.Tenant, c.Cert.NotAfter.UTC().Format(time.RFC3339), *dir)
	if idKey != nil {
		fmt.Fprintf(stdout, "the certificate binds identity key %s\n", keys.ID(idKey))
	}
	return 0
}
