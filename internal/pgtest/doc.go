// Package pgtest gives tests a real, empty PostgreSQL database.
//
// The server is the one named by FEDB2B_TEST_POSTGRES (a postgres:// DSN
// of a role that may create databases; .ci/run starts a throwaway cluster
// and sets it). Without it, and if Debian's PostgreSQL binaries (initdb,
// postgres) are on PATH or under /usr/lib/postgresql/*/bin, the test
// process starts its own throwaway cluster in a temporary folder (unix
// socket only, no TCP port; run as the user "nobody" when the tests run as
// root, because postgres refuses root) and stops it when the process
// exits. Without either, PostgreSQL tests skip with a message saying so,
// except under CI=true, where they fail: CI must exercise the real engine.
//
// Each call to [Database] creates a new database, dropped when its test
// ends, so tests and parallel packages never share state.
package pgtest
