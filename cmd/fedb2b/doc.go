// Command fedb2b is the one binary of the project: the operator's
// coordinator and CA (coordinator, ca, tenant), the tenant's client (client,
// client enroll, predict, embed), the in-process demo and simulations (demo,
// simulate), the auditor's tools (audit, privacy epsilon, keys) and data
// tools (data synth, market).
//
// Each subcommand lives in its own file and registers itself in init; the
// logic lives in library packages, so a command only parses flags, wires
// packages together and prints. Errors go to stderr with the command's
// name; exit status 1 is a failure, 2 a usage error.
//
// Fault injection for the process-level tests: FEDB2B_FAULT (see
// faultHooks in clientcmd.go) makes a client exit at a chosen point.
package main
