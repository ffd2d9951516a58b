package main

import (
	"crypto/ed25519"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"

	"github.com/fedb2b/fedb2b/coordinator/pki"
	"github.com/fedb2b/fedb2b/privacy/keys"
	"github.com/fedb2b/fedb2b/protocol/certs"
)

func init() {
	register("ca", "operator's certificate authority: 'ca init' creates the CA and the coordinator's TLS certificate", runCA)
}

const caUsage = `usage: fedb2b ca init --dir DIR (--passphrase-env VAR | --identity FILE) [--name HOST]... [--org NAME]
       fedb2b ca serve --dir DIR --listen HOST:PORT (--passphrase-env VAR | --identity FILE) [--mirror FILE]...
       fedb2b ca export --dir DIR --out COORDINATOR_TLS_DIR
       fedb2b ca fingerprint --dir DIR`

// ageKeyFlags are the flags choosing how private keys are encrypted at
// rest (and decrypted later): an age passphrase or an age identity file.
type ageKeyFlags struct {
	passEnv, identity string
	logN              int
}

func (a *ageKeyFlags) register(fs *flag.FlagSet, encrypting bool) {
	fs.StringVar(&a.passEnv, "passphrase-env", "", "the age passphrase protecting private keys is in this environment variable")
	fs.StringVar(&a.identity, "identity", "", "age identity file whose X25519 identity protects private keys")
	if encrypting {
		fs.IntVar(&a.logN, "scrypt-log-n", 18, "scrypt work factor (log2 N) for --passphrase-env")
	}
}

func (a *ageKeyFlags) check() error {
	if (a.passEnv == "") == (a.identity == "") {
		return fmt.Errorf("give exactly one of --passphrase-env VAR or --identity FILE (private keys are never stored in clear)")
	}
	if a.passEnv != "" && os.Getenv(a.passEnv) == "" {
		return fmt.Errorf("environment variable %s is empty or unset", a.passEnv)
	}
	return nil
}

func (a *ageKeyFlags) recipient() (age.Recipient, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	if a.passEnv != "" {
		if a.logN < 10 || a.logN > 30 {
			return nil, fmt.Errorf("--scrypt-log-n %d is not in [10, 30]", a.logN)
		}
		return keys.PassphraseRecipient(os.Getenv(a.passEnv), a.logN)
	}
	ids, err := keys.ReadIdentityFile(a.identity)
	if err != nil {
		return nil, err
	}
	return ids[0].Recipient(), nil
}

func (a *ageKeyFlags) ageIdentity() (age.Identity, error) {
	if err := a.check(); err != nil {
		return nil, err
	}
	if a.passEnv != "" {
		return keys.PassphraseIdentity(os.Getenv(a.passEnv))
	}
	ids, err := keys.ReadIdentityFile(a.identity)
	if err != nil {
		return nil, err
	}
	return ids[0], nil
}

// signingKey loads (or, on first use, creates) the party's ed25519
// identity and ledger-signing key at path, protected by these flags: a
// passphrase, or an age identity file that is not stored beside the key.
// Without either it refuses, saying how to start.
func (a *ageKeyFlags) signingKey(path string) (ed25519.PrivateKey, error) {
	if (a.passEnv == "") == (a.identity == "") {
		return nil, fmt.Errorf("the signing key %s must be encrypted: give --passphrase-env VAR (an age passphrase) or --identity FILE (an age identity kept apart from %s, e.g. made with 'age-keygen' or 'fedb2b keys new' on another disk)", path, filepath.Dir(path))
	}
	if a.identity != "" {
		if err := keys.CheckIdentityApart(path, a.identity); err != nil {
			return nil, err
		}
	}
	id, err := a.ageIdentity()
	if err != nil {
		return nil, err
	}
	var rcpt age.Recipient
	if a.passEnv != "" {
		if rcpt, err = keys.PassphraseRecipient(os.Getenv(a.passEnv), a.logN); err != nil {
			return nil, err
		}
	} else if rcpt, err = a.recipient(); err != nil {
		return nil, err
	}
	return keys.LoadOrCreateWith(path, id, rcpt)
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(s string) error { *m = append(*m, s); return nil }

func runCA(args []string, stdout, stderr io.Writer) int {
	sub, code, ok := subcommand("ca", caUsage, args, stdout, stderr, "init", "serve", "export", "fingerprint")
	if !ok {
		return code
	}
	switch sub {
	case "init":
		return runCAInit(args[1:], stdout, stderr)
	case "serve":
		return runCAServe(args[1:], stdout, stderr)
	case "export":
		return runCAExport(args[1:], stdout, stderr)
	}
	return runCAFingerprint(args[1:], stdout, stderr)
}

func runCAInit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ca init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "CA directory to create (must not hold a CA yet)")
	org := fs.String("org", "", "operator name in certificate subjects")
	var names multiFlag
	fs.Var(&names, "name", "DNS name or IP address of the coordinator (repeatable; localhost and 127.0.0.1 are always included)")
	var ak ageKeyFlags
	ak.register(fs, true)
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "fedb2b ca init: "+format+"\n", a...)
		return code
	}
	if fs.NArg() > 0 {
		return fail(2, "unexpected argument %q", fs.Arg(0))
	}
	if *dir == "" {
		return fail(2, "--dir DIR is required")
	}
	rcpt, err := ak.recipient()
	if err != nil {
		return fail(2, "%v", err)
	}
	if err := pki.Init(*dir, pki.InitOptions{Recipient: rcpt, ServerNames: names, Organization: *org}); err != nil {
		return fail(1, "%v", err)
	}
	ca, err := pki.ReadCA(*dir)
	if err != nil {
		return fail(1, "%v", err)
	}
	fp := certs.Fingerprint(ca)
	fmt.Fprintf(stdout, "CA created in %s (keys encrypted with age)\nCA fingerprint (SHA-256): %x\nserver names: localhost 127.0.0.1 ::1 %s\n", *dir, fp, strings.Join(names, " "))
	return 0
}

func runCAFingerprint(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ca fingerprint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "CA directory")
	if code, ok := parseArgs(fs, args, stdout, stderr); !ok {
		return code
	}
	ca, err := pki.ReadCA(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "fedb2b ca fingerprint: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%x\n", certs.Fingerprint(ca))
	return 0
}
