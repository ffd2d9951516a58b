package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fedb2b/fedb2b/coordinator/pki"
)

func init() {
	register("tenant", "tenant identities: 'tenant invite NAME' makes a one-time enrolment invitation, 'tenant revoke NAME', 'tenant list'", runTenant)
}

const tenantUsage = `usage: fedb2b tenant invite NAME --dir CADIR [--ttl 72h]
       fedb2b tenant revoke NAME --dir CADIR
       fedb2b tenant list --dir CADIR`

func runTenant(args []string, stdout, stderr io.Writer) int {
	sub, code, ok := subcommand("tenant", tenantUsage, args, stdout, stderr, "invite", "revoke", "list")
	if !ok {
		return code
	}
	fs := flag.NewFlagSet("tenant "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "CA directory (from 'fedb2b ca init')")
	ttl := fs.Duration("ttl", pki.DefaultInviteTTL, "how long the invitation stays valid")
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "fedb2b tenant "+sub+": "+format+"\n", a...)
		return code
	}
	// NAME may come before or after the flags.
	rest := args[1:]
	var name string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		name, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fail(2, "unexpected argument %q", fs.Arg(0))
	}
	if *dir == "" {
		return fail(2, "--dir CADIR is required")
	}
	if (sub == "list") != (name == "") {
		return fail(2, "%s", tenantUsage)
	}
	reg, err := pki.OpenRegistry(*dir)
	if err != nil {
		return fail(1, "%v", err)
	}
	now := time.Now()
	switch sub {
	case "invite":
		if *ttl <= 0 || *ttl > 30*24*time.Hour {
			return fail(2, "--ttl %v is not in (0, 720h]", *ttl)
		}
		inv, err := reg.Invite(name, *ttl, now, nil)
		if err != nil {
			return fail(1, "%v", err)
		}
		fmt.Fprintf(stderr, "one-time invitation for %s, valid until %s; hand it to the tenant over a trusted channel, it is shown only once:\n", name, now.Add(*ttl).UTC().Format(time.RFC3339))
		fmt.Fprintln(stdout, inv.String())
	case "revoke":
		if err := reg.Revoke(name, now); err != nil {
			return fail(1, "%v", err)
		}
		fmt.Fprintf(stdout, "revoked %s: its certificates are refused from the next handshake or call\n", name)
	case "list":
		ts, err := reg.Tenants(now)
		if err != nil {
			return fail(1, "%v", err)
		}
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "TENANT\tSTATUS\tCERTIFICATES\tVALID UNTIL\tOPEN INVITATIONS")
		for _, t := range ts {
			st, until := "active", "-"
			switch {
			case t.Revoked:
				st = "revoked"
			case t.Certificates == 0:
				st = "invited"
			}
			if !t.LatestNotAfter.IsZero() {
				until = t.LatestNotAfter.Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%d\n", t.Name, st, t.Certificates, until, t.OpenInvites)
		}
		w.Flush()
	}
	return 0
}
