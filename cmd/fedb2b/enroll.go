package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/fedb2b/fedb2b/client/enroll"
)

// Registered as "enroll"; `fedb2b client enroll` is routed here by the
// client command.
func init() {
	register("enroll", "enrol this tenant: generate its key locally and obtain a client certificate with a one-time invitation", runEnroll)
}

const enrollUsage = `usage: fedb2b client enroll --coordinator HOST:PORT (--token INVITE | --token-file FILE) --dir DIR
           (--passphrase-env VAR | --identity FILE) [--server-name NAME]`

func runEnroll(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("client enroll", flag.ContinueOnError)
	fs.SetOutput(stderr)
	coord := fs.String("coordinator", "", "coordinator address HOST:PORT")
	token := fs.String("token", "", "invitation from 'fedb2b tenant invite' (visible in the process list; prefer --token-file)")
	tokenFile := fs.String("token-file", "", "file holding the invitation")
	dir := fs.String("dir", "", "directory for tenant.key.age, tenant.crt and ca.crt")
	serverName := fs.String("server-name", "", "name in the coordinator's certificate (default: the host of --coordinator)")
	timeout := fs.Duration("timeout", 30*time.Second, "how long to wait for the coordinator")
	var ak ageKeyFlags
	ak.register(fs, true)
	if err := fs.Parse(args); err != nil {
		return 2
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
	c, err := enroll.Enroll(context.Background(), enroll.Options{
		Coordinator: *coord, Invite: inv, Dir: *dir, Recipient: rcpt, ServerName: *serverName, Timeout: *timeout,
	})
	if err != nil {
		return fail(1, "%v", err)
	}
	fmt.Fprintf(stdout, "enrolled as %s; certificate valid until %s\ncredentials in %s (private key encrypted with age, generated here)\n",
		c.Tenant, c.Cert.NotAfter.UTC().Format(time.RFC3339), *dir)
	return 0
}
