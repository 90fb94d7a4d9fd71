package fakead

import (
	"bytes"
	"strings"
	"testing"
)

func TestReadLDIF(t *testing.T) {
	in := "version: 1\n" +
		"# a comment\n" +
		"#  folded comment\n" +
		"dn: CN=Event Log Readers,CN=Builtin,DC=contoso,DC=com\n" +
		"objectClass: top\n" +
		"objectClass: group\n" +
		"description: Members of this group can read event logs from local ma\n" +
		" chine\n" +
		"objectSid:: AQIAAAAAAAUgAAAAPQIAAA==\n" +
		"\n" +
		"dn:: Q049w6lsw6huZSxEQz1jb250b3NvLERDPWNvbQ==\n" +
		"changetype: add\n" +
		"cn: x\n"
	recs, err := ReadLDIF(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2", len(recs))
	}
	r := recs[0]
	if r.DN != "CN=Event Log Readers,CN=Builtin,DC=contoso,DC=com" || r.Line != 4 {
		t.Errorf("record 0 DN/line = %q/%d", r.DN, r.Line)
	}
	if len(r.Attrs) != 3 || r.Attrs[0].Name != "objectClass" || len(r.Attrs[0].Values) != 2 {
		t.Fatalf("record 0 attrs = %+v", r.Attrs)
	}
	if got := string(r.Attrs[1].Values[0]); got != "Members of this group can read event logs from local machine" {
		t.Errorf("folded value = %q", got)
	}
	if got := r.Attrs[2].Values[0]; !bytes.Equal(got, []byte{1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x3d, 2, 0, 0}) {
		t.Errorf("base64 value = %x", got)
	}
	if recs[1].DN != "CN=élène,DC=contoso,DC=com" {
		t.Errorf("base64 DN = %q", recs[1].DN)
	}

	var out bytes.Buffer
	if err := WriteLDIF(&out, recs...); err != nil {
		t.Fatal(err)
	}
	want := "dn: CN=Event Log Readers,CN=Builtin,DC=contoso,DC=com\n" +
		"objectClass: top\nobjectClass: group\n" +
		"description: Members of this group can read event logs from local machine\n" +
		"objectSid:: AQIAAAAAAAUgAAAAPQIAAA==\n\n" +
		"dn:: Q049w6lsw6huZSxEQz1jb250b3NvLERDPWNvbQ==\ncn: x\n\n"
	if out.String() != want {
		t.Errorf("WriteLDIF =\n%s\nwant\n%s", out.String(), want)
	}
	again, err := ReadLDIF(&out)
	if err != nil || len(again) != 2 || again[1].DN != recs[1].DN {
		t.Errorf("round trip: %v %+v", err, again)
	}
}

func TestReadLDIFErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cn: x\n", "line 1: a record must start with \"dn:\""},
		{"dn: CN=a\nnovalue\n", "line 2: want \"name: value\""},
		{"dn: CN=a\ncn:: !!!\n", "line 2: cn: bad base64"},
		{" folded\n", "line 1: continuation line"},
		{"dn: CN=a\nchangetype: modify\n", "line 2: changetype \"modify\""},
		{"version: 2\n", "line 1: version \"2\""},
		{"dn: CN=a\ndn: CN=b\n", "line 2: second \"dn:\""},
		{"dn: CN=a\nc n: x\n", "line 2: bad attribute name"},
		{"dn: CN=a\njpegPhoto:< file:///etc/passwd\n", "line 2: jpegPhoto: URL values"},
	}
	for _, tt := range tests {
		_, err := ReadLDIF(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ReadLDIF(%q) error = %v, want it to contain %q", tt.in, err, tt.want)
		}
	}
}

func TestParseFilter(t *testing.T) {
	tests := []struct {
		in   string
		want string // FilterString of the result
	}{
		{"(sAMAccountName=alice)", "(sAMAccountName=alice)"},
		{"sAMAccountName=alice", "(sAMAccountName=alice)"},
		{"(&(objectClass=user)(!(cn=a*b*c))(|(uid>=5)(uid<=3)(cn~=x)))", "(&(objectClass=user)(!(cn=a*b*c))(|(uid>=5)(uid<=3)(cn~=x)))"},
		{"(cn=*)", "(cn=*)"},
		{"(cn=*x*)", "(cn=*x*)"},
		{"(cn=a\\2a\\28\\29\\5c)", "(cn=a\\2a\\28\\29\\5c)"},
		{"(userAccountControl:1.2.840.113556.1.4.803:=2)", "(userAccountControl:1.2.840.113556.1.4.803:=2)"},
		{"(member:1.2.840.113556.1.4.1941:=CN=x,DC=y)", "(member:1.2.840.113556.1.4.1941:=CN=x,DC=y)"},
		{"(cn:dn:2.5.13.5:=John)", "(cn:dn:2.5.13.5:=John)"},
		{"(:1.2.3:=x)", "(:1.2.3:=x)"},
		{"(&)", "(&)"},
		{"(objectSid=\\01\\02\\00\\ff)", "(objectSid=\\01\\02\\00\\ff)"},
	}
	for _, tt := range tests {
		f, err := ParseFilter(tt.in)
		if err != nil {
			t.Errorf("ParseFilter(%q): %v", tt.in, err)
			continue
		}
		if got := FilterString(f); got != tt.want {
			t.Errorf("ParseFilter(%q) → %q, want %q", tt.in, got, tt.want)
		}
	}
	ext, _ := ParseFilter("(userAccountControl:1.2.840.113556.1.4.803:=2)")
	if e, ok := ext.(FilterExtensible); !ok || e.Rule != MatchBitAnd || e.Attr != "userAccountControl" || string(e.Value) != "2" || e.DNAttributes {
		t.Errorf("extensible = %#v", ext)
	}
	sub, _ := ParseFilter("(cn=ab*cd*ef)")
	if s, ok := sub.(FilterSubstrings); !ok || string(s.Initial) != "ab" || len(s.Any) != 1 || string(s.Any[0]) != "cd" || string(s.Final) != "ef" {
		t.Errorf("substrings = %#v", sub)
	}
	for _, bad := range []string{"", "()", "(cn=a", "(cn=a))", "(=a)", "(cn=a\\2)", "(cn=a\\zz)", "(cn=a**b)",
		"(&(cn=a)", "(!(cn=a)(cn=b))", "(c n=a)", "(:=x)", strings.Repeat("(!", 100) + "(cn=a)" + strings.Repeat(")", 100)} {
		if f, err := ParseFilter(bad); err == nil {
			t.Errorf("ParseFilter(%q) = %v, want an error", bad, FilterString(f))
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"(cn=a)", "(&(a=b)(!(c=*d*)))", "(uac:1.2.840.113556.1.4.803:=2)", "(x=\\00)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFilter(s)
		if err != nil {
			return
		}
		again, err := ParseFilter(FilterString(flt))
		if err != nil {
			t.Fatalf("re-parse of %q (%q): %v", FilterString(flt), s, err)
		}
		if FilterString(again) != FilterString(flt) {
			t.Fatalf("not stable: %q → %q", FilterString(flt), FilterString(again))
		}
	})
}
