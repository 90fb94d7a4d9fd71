package main

import (
	"bytes"
	"testing"
)

func TestKeytabUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"keytab", "--ldap", "ldaps://127.0.0.1:1"}, &out, &errb); code != 2 ||
		!bytes.Contains(errb.Bytes(), []byte("missing --bind, --password, --account, --out")) {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
}
