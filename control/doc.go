// Package control is the control API of `gmsasim serve`: HTTP and JSON on a loopback address, with
// which a CI job changes the served fake domain while the product under test talks to its LDAP,
// LDAPS and Kerberos listeners.
//
// The API's verbs are the scenario language. POST /steps takes the step part of a .scn file —
// directive lines such as `advance 29d23h56m`, `cut DC1 DC2`, `stop DC2` or `ps on=DC1`, each
// followed by its input lines (PowerShell) and optionally `----` and an expected output, steps
// separated by a blank line — runs it against the served world and answers each step's output;
// with ?format=scn it answers the transcript in .scn form, ready to paste into a scenario file.
// The other routes read the world (GET /state, GET /trace as NDJSON with a follow mode, GET
// /ldif), and save and replace it (POST /snapshot, POST /restore). GET /openapi.yaml serves the
// OpenAPI 3.0 document (openapi.yaml in this directory), which is the contract.
//
// The package holds the server (NewServer, over a Backend that serve implements on its world),
// the TraceHub that numbers and keeps the world's trace lines for GET /trace, the Client, and the
// types that are the JSON schema (State, StepsResult, TraceLine). `gmsasim ctl` is the Client's
// command line.
//
// Security and bounds: the server listens on a loopback IP only; every route but GET
// /openapi.yaml wants the bearer token serve writes to STATE-DIR/control.token (0600), compared
// in constant time. Request bodies are limited (1 MiB; 64 MiB for a snapshot), header reads time
// out, and at most 16 clients follow the trace at once. Nothing here runs or parses steps: that
// is the Backend's work, so the scenario language has one parser (package scenarios).
//
// What it deliberately does not do: TLS (loopback only), several tokens or roles, or
// server-sent events; a trace follower that falls behind the kept window is told how many lines
// it missed rather than slowing the world.
package control
