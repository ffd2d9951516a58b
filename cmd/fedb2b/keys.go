package main

import (
	"crypto/ed25519"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"filippo.io/age"
	"github.com/fedb2b/fedb2b/privacy/keys"
)

func init() {
	register("keys", "ledger signing keys: 'keys new' creates one (encrypted with age), 'keys id' prints a key id", runKeys)
}

const keysUsage = `usage: fedb2b keys new --out DIR (--passphrase-env VAR | --identity FILE) [--scrypt-log-n N]
       fedb2b keys id PUBFILE...`

func runKeys(args []string, stdout, stderr io.Writer) int {
	sub, code, ok := subcommand("keys", keysUsage, args, stdout, stderr, "new", "id")
	if !ok {
		return code
	}
	if sub == "new" {
		return runKeysNew(args[1:], stdout, stderr)
	}
	return runKeysID(args[1:], stdout, stderr)
}

func runKeysNew(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keys new", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "directory for signing.key.age and signing.pub (created if absent)")
	passEnv := fs.String("passphrase-env", "", "encrypt to the passphrase held in this environment variable (age scrypt)")
	identity := fs.String("identity", "", "encrypt to the X25519 identity in this age identity file (it decrypts the key later)")
	logN := fs.Int("scrypt-log-n", 18, "scrypt work factor (log2 N) for --passphrase-env")
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "fedb2b keys new: "+format+"\n", a...)
		return code
	}
	if fs.NArg() > 0 {
		return fail(2, "unexpected argument %q", fs.Arg(0))
	}
	if *out == "" {
		return fail(2, "--out DIR is required")
	}
	if (*passEnv == "") == (*identity == "") {
		return fail(2, "give exactly one of --passphrase-env VAR or --identity FILE (the key is never stored in clear)")
	}
	var recipient age.Recipient
	if *passEnv != "" {
		pass := os.Getenv(*passEnv)
		if pass == "" {
			return fail(2, "environment variable %s is empty or unset", *passEnv)
		}
		if *logN < 10 || *logN > 30 {
			return fail(2, "--scrypt-log-n %d is not in [10, 30]", *logN)
		}
		r, err := keys.PassphraseRecipient(pass, *logN)
		if err != nil {
			return fail(1, "%v", err)
		}
		recipient = r
	} else {
		ids, err := keys.ReadIdentityFile(*identity)
		if err != nil {
			return fail(1, "%v", err)
		}
		recipient = ids[0].Recipient()
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return fail(1, "%v", err)
	}
	keyPath := filepath.Join(*out, "signing.key.age")
	pubPath := filepath.Join(*out, "signing.pub")
	for _, p := range []string{keyPath, pubPath} {
		if _, err := os.Stat(p); err == nil {
			return fail(1, "%s already exists; keys are never overwritten", p)
		}
	}
	priv, err := keys.Generate(nil)
	if err != nil {
		return fail(1, "%v", err)
	}
	if err := keys.Save(keyPath, priv, recipient); err != nil {
		return fail(1, "%v", err)
	}
	pub := priv.Public().(ed25519.PublicKey)
	if err := keys.WritePublic(pubPath, pub); err != nil {
		return fail(1, "%v", err)
	}
	fmt.Fprintf(stdout, "key id %s\nprivate key (encrypted): %s\npublic key: %s\n", keys.ID(pub), keyPath, pubPath)
	return 0
}

func runKeysID(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, keysUsage)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stdout, keysUsage)
		return 0
	}
	code := 0
	for _, p := range args {
		pub, err := keys.ReadPublic(p)
		if err != nil {
			fmt.Fprintf(stderr, "fedb2b keys id: %v\n", err)
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s  %s\n", keys.ID(pub), p)
	}
	return code
}
