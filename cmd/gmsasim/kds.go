package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gmsasim/gmsasim/ad"
	"github.com/gmsasim/gmsasim/fakekds"
)

// gmsasim kds: an offline calculator over package fakekds, for vendors computing expected values
// and for us. Each subcommand prints one JSON object on stdout; errors go to stderr with exit
// status 1 (bad values) or 2 (usage).

const kdsUsage = `usage: gmsasim kds SUBCOMMAND [flags]

  gkid          --filetime N
  seedkey       --root-key-id GUID --root-key-data HEX [--kdf SHA512] [--version 1] --gkid L0,L1,L2 [--sd HEX]
  password      --root-key-id GUID --root-key-data HEX [--kdf SHA512] --sid SID
                (--gkid L0,L1,L2 | --password-id HEX) [--account NAME$ --domain DNS]
  rollover      --created FILETIME --now FILETIME [--interval-days 30]
  decode-id     --hex HEX
  decode-blob   --hex HEX
  string-to-key --etype aes256|aes128|rc4 (--password TEXT | --password-utf16le-hex HEX) --salt S
  salt          --principal NAME --realm REALM

Times are FILETIMEs (100 ns since 1601-01-01 UTC). --kdf defaults to SHA512, what
Add-KdsRootKey writes. --sd defaults to the gMSA security descriptor O:SYD:(A;;FRFW;;;S-1-5-9).
`

// errUsage marks errors that are the caller's invocation, not the values (exit status 2).
var errUsage = errors.New("usage")

type kdsCommand struct {
	name string
	run  func(fs *flag.FlagSet, args []string) (any, error)
}

func runKDS(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, kdsUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmds := []kdsCommand{
		{"gkid", kdsGKID}, {"seedkey", kdsSeedKey}, {"password", kdsPassword}, {"rollover", kdsRollover},
		{"decode-id", kdsDecodeID}, {"decode-blob", kdsDecodeBlob}, {"string-to-key", kdsStringToKey}, {"salt", kdsSalt},
	}
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		fs := flag.NewFlagSet("gmsasim kds "+c.name, flag.ContinueOnError)
		fs.SetOutput(stderr)
		out, err := c.run(fs, args[1:])
		switch {
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			fmt.Fprintf(stderr, "gmsasim kds %s: %v\n", c.name, err)
			fs.Usage()
			return 2
		case err != nil:
			fmt.Fprintf(stderr, "gmsasim kds %s: %v\n", c.name, err)
			return 1
		}
		b, err := json.Marshal(out)
		if err != nil {
			fmt.Fprintf(stderr, "gmsasim kds %s: %v\n", c.name, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	fmt.Fprintf(stderr, "gmsasim kds: unknown subcommand %q\n\n%s", args[0], kdsUsage)
	return 2
}

// parse runs fs over args and rejects positional arguments and missing required flags.
func parse(fs *flag.FlagSet, args []string, required ...string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range required {
		if !set[name] {
			return fmt.Errorf("%w: --%s is required", errUsage, name)
		}
	}
	return nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// decodeHex accepts hex with optional spaces, colons or a 0x prefix.
func decodeHex(what, s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	s = strings.NewReplacer(" ", "", ":", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("--%s: not hex: %v", what, err)
	}
	return b, nil
}

func parseGKIDFlag(s string) (fakekds.GKID, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return fakekds.GKID{}, fmt.Errorf("--gkid %q: want L0,L1,L2", s)
	}
	var v [3]int32
	for i, p := range parts {
		n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 32)
		if err != nil {
			return fakekds.GKID{}, fmt.Errorf("--gkid %q: %q is not an integer", s, p)
		}
		v[i] = int32(n)
	}
	g := fakekds.GKID{L0: v[0], L1: v[1], L2: v[2]}
	return g, g.Validate()
}

func gkidJSON(g fakekds.GKID) [3]int32 { return [3]int32{g.L0, g.L1, g.L2} }

func parseFileTime(name, s string) (ad.FileTime, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("--%s %q: want a FILETIME (decimal 100 ns ticks since 1601)", name, s)
	}
	return ad.FileTime(n), nil
}

func kdsGKID(fs *flag.FlagSet, args []string) (any, error) {
	ft := fs.String("filetime", "", "FILETIME (100 ns ticks since 1601-01-01 UTC)")
	if err := parse(fs, args, "filetime"); err != nil {
		return nil, err
	}
	t, err := parseFileTime("filetime", *ft)
	if err != nil {
		return nil, err
	}
	g := fakekds.GKIDFromFileTime(t)
	return struct {
		GKID  [3]int32 `json:"gkid"`
		Start uint64   `json:"start_filetime"`
	}{gkidJSON(g), uint64(g.StartFileTime())}, nil
}

// rootKeyFlags are the flags naming a root key.
type rootKeyFlags struct{ id, data, kdf *string }

func addRootKeyFlags(fs *flag.FlagSet) rootKeyFlags {
	return rootKeyFlags{
		id:   fs.String("root-key-id", "", "root key id (cn), a GUID"),
		data: fs.String("root-key-data", "", "msKds-RootKeyData, 64 bytes in hex"),
		kdf:  fs.String("kdf", "SHA512", "KDF hash: SHA1, SHA256, SHA384 or SHA512"),
	}
}

func (f rootKeyFlags) rootKey(version int) (*fakekds.RootKey, error) {
	id, err := ad.ParseGUID(*f.id)
	if err != nil {
		return nil, fmt.Errorf("--root-key-id: %v", err)
	}
	data, err := decodeHex("root-key-data", *f.data)
	if err != nil {
		return nil, err
	}
	h, err := fakekds.ParseHashAlg(strings.ToUpper(*f.kdf))
	if err != nil {
		return nil, fmt.Errorf("--kdf: %v", err)
	}
	rk := &fakekds.RootKey{ID: id, Version: version, Data: data, KDFAlgorithmID: fakekds.KDFAlgorithmID, KDFParam: fakekds.MarshalKdfParameters(h)}
	return rk, rk.Validate()
}

func kdsSeedKey(fs *flag.FlagSet, args []string) (any, error) {
	rkf := addRootKeyFlags(fs)
	version := fs.Int("version", 1, "msKds-Version of the root key (only 1 is usable)")
	gkidFlag := fs.String("gkid", "", "L0,L1,L2: L0 key when L1 and L2 are -1, L1 key when L2 is -1, else L2 key")
	sdFlag := fs.String("sd", hex.EncodeToString(fakekds.GMSASecurityDescriptor), "target security descriptor, self-relative, hex")
	if err := parse(fs, args, "root-key-id", "root-key-data", "gkid"); err != nil {
		return nil, err
	}
	rk, err := rkf.rootKey(*version)
	if err != nil {
		return nil, err
	}
	g, err := parseGKIDFlag(*gkidFlag)
	if err != nil {
		return nil, err
	}
	sd, err := decodeHex("sd", *sdFlag)
	if err != nil {
		return nil, err
	}
	var key []byte
	if g.L1 == -1 {
		key, err = fakekds.ComputeL0Key(rk, g.L0)
	} else {
		key, err = fakekds.ComputeSeedKey(rk, sd, g)
	}
	if err != nil {
		return nil, err
	}
	return struct {
		Key string `json:"key_hex"`
	}{hex.EncodeToString(key)}, nil
}

func kdsPassword(fs *flag.FlagSet, args []string) (any, error) {
	rkf := addRootKeyFlags(fs)
	sidFlag := fs.String("sid", "", "objectSid of the gMSA, S-1-5-21-...")
	gkidFlag := fs.String("gkid", "", "L0,L1,L2 of the password interval")
	idFlag := fs.String("password-id", "", "msDS-ManagedPasswordId in hex (instead of --gkid)")
	account := fs.String("account", "", "sAMAccountName (NAME$) for the salt and AES keys")
	domain := fs.String("domain", "", "DNS domain name for the salt and AES keys")
	if err := parse(fs, args, "root-key-id", "root-key-data", "sid"); err != nil {
		return nil, err
	}
	if isSet(fs, "gkid") == isSet(fs, "password-id") {
		return nil, fmt.Errorf("%w: give exactly one of --gkid and --password-id", errUsage)
	}
	if isSet(fs, "account") != isSet(fs, "domain") {
		return nil, fmt.Errorf("%w: --account and --domain go together", errUsage)
	}
	rk, err := rkf.rootKey(1)
	if err != nil {
		return nil, err
	}
	sid, err := ad.ParseSID(*sidFlag)
	if err != nil {
		return nil, fmt.Errorf("--sid: %v", err)
	}
	var g fakekds.GKID
	if isSet(fs, "gkid") {
		if g, err = parseGKIDFlag(*gkidFlag); err != nil {
			return nil, err
		}
	} else {
		raw, err := decodeHex("password-id", *idFlag)
		if err != nil {
			return nil, err
		}
		id, err := fakekds.ParsePasswordID(raw)
		if err != nil {
			return nil, fmt.Errorf("--password-id: %v", err)
		}
		if id.RootKeyID != rk.ID {
			return nil, fmt.Errorf("--password-id names root key %s, but --root-key-id is %s", id.RootKeyID, rk.ID)
		}
		g = id.GKID
	}
	pw, err := fakekds.GMSAPassword(rk, g, sid)
	if err != nil {
		return nil, err
	}
	out := struct {
		GKID     [3]int32 `json:"gkid"`
		Password string   `json:"password_hex"`
		NTHash   string   `json:"nt_hash"`
		Salt     string   `json:"salt,omitempty"`
		AES128   string   `json:"aes128_key,omitempty"`
		AES256   string   `json:"aes256_key,omitempty"`
	}{GKID: gkidJSON(g), Password: hex.EncodeToString(pw), NTHash: hex.EncodeToString(fakekds.NTHash(pw))}
	if *account != "" {
		out.Salt = fakekds.MachineSalt(*domain, *account)
		keys, err := fakekds.KeysFromUTF16(pw, out.Salt)
		if err != nil {
			return nil, err
		}
		out.AES128, out.AES256 = hex.EncodeToString(keys.AES128), hex.EncodeToString(keys.AES256)
	}
	return out, nil
}

func kdsRollover(fs *flag.FlagSet, args []string) (any, error) {
	createdFlag := fs.String("created", "", "whenCreated of the gMSA as a FILETIME")
	nowFlag := fs.String("now", "", "the DC's time as a FILETIME")
	days := fs.Int64("interval-days", fakekds.DefaultPasswordIntervalDays, "msDS-ManagedPasswordInterval")
	if err := parse(fs, args, "created", "now"); err != nil {
		return nil, err
	}
	created, err := parseFileTime("created", *createdFlag)
	if err != nil {
		return nil, err
	}
	now, err := parseFileTime("now", *nowFlag)
	if err != nil {
		return nil, err
	}
	if now < created {
		return nil, fmt.Errorf("--now %d is before --created %d", now, created)
	}
	if _, err := fakekds.RolloverInterval(*days); err != nil { // explicit 0 is not "absent" here
		return nil, err
	}
	s, err := fakekds.Rollover(created, nil, *days, now)
	if err != nil {
		return nil, err
	}
	v := s.View(created, nil, now)
	var prev *[3]int32
	if v.Previous != nil {
		p := gkidJSON(*v.Previous)
		prev = &p
	}
	return struct {
		Current      [3]int32  `json:"current_gkid"`
		Previous     *[3]int32 `json:"previous_gkid"`
		NextRotation uint64    `json:"next_rotation_filetime"`
	}{gkidJSON(v.Current), prev, uint64(s.NextRotation)}, nil
}

func kdsDecodeID(fs *flag.FlagSet, args []string) (any, error) {
	h := fs.String("hex", "", "msDS-ManagedPasswordId in hex")
	if err := parse(fs, args, "hex"); err != nil {
		return nil, err
	}
	raw, err := decodeHex("hex", *h)
	if err != nil {
		return nil, err
	}
	id, err := fakekds.ParsePasswordID(raw)
	if err != nil {
		return nil, err
	}
	return struct {
		Version   uint32   `json:"version"`
		GKID      [3]int32 `json:"gkid"`
		RootKeyID string   `json:"root_key_id"`
		Domain    string   `json:"domain"`
		Forest    string   `json:"forest"`
	}{id.Version, gkidJSON(id.GKID), id.RootKeyID.String(), id.Domain, id.Forest}, nil
}

func kdsDecodeBlob(fs *flag.FlagSet, args []string) (any, error) {
	h := fs.String("hex", "", "msDS-ManagedPassword (MSDS-MANAGEDPASSWORD_BLOB) in hex")
	if err := parse(fs, args, "hex"); err != nil {
		return nil, err
	}
	raw, err := decodeHex("hex", *h)
	if err != nil {
		return nil, err
	}
	b, err := fakekds.ParseManagedPasswordBlob(raw)
	if err != nil {
		return nil, err
	}
	out := struct {
		Current    string  `json:"current_password_hex"`
		CurrentNT  string  `json:"current_nt_hash"`
		Previous   *string `json:"previous_password_hex"`
		PreviousNT *string `json:"previous_nt_hash"`
		Query      uint64  `json:"query_interval"`
		Unchanged  uint64  `json:"unchanged_interval"`
	}{Current: hex.EncodeToString(b.Current), CurrentNT: hex.EncodeToString(fakekds.NTHash(b.Current)),
		Query: uint64(b.QueryInterval), Unchanged: uint64(b.UnchangedInterval)}
	if b.Previous != nil {
		p, nt := hex.EncodeToString(b.Previous), hex.EncodeToString(fakekds.NTHash(b.Previous))
		out.Previous, out.PreviousNT = &p, &nt
	}
	return out, nil
}

func kdsStringToKey(fs *flag.FlagSet, args []string) (any, error) {
	etype := fs.String("etype", "", "aes256, aes128 or rc4")
	password := fs.String("password", "", "password text (UTF-8)")
	utf16hex := fs.String("password-utf16le-hex", "", "password as UTF-16LE bytes in hex (a gMSA's 256 bytes)")
	salt := fs.String("salt", "", "Kerberos salt (see 'gmsasim kds salt'); ignored for rc4")
	if err := parse(fs, args, "etype"); err != nil {
		return nil, err
	}
	if isSet(fs, "password") == isSet(fs, "password-utf16le-hex") {
		return nil, fmt.Errorf("%w: give exactly one of --password and --password-utf16le-hex", errUsage)
	}
	rc4 := strings.EqualFold(*etype, fakekds.EtypeRC4)
	if !rc4 && !isSet(fs, "salt") {
		return nil, fmt.Errorf("%w: --salt is required for %s", errUsage, *etype)
	}
	var key []byte
	var err error
	if isSet(fs, "password-utf16le-hex") {
		raw, herr := decodeHex("password-utf16le-hex", *utf16hex)
		if herr != nil {
			return nil, herr
		}
		if rc4 {
			key = fakekds.NTHash(raw)
		} else {
			key, err = fakekds.KerberosKey(*etype, fakekds.UTF16ToUTF8(raw), *salt)
		}
	} else {
		key, err = fakekds.KerberosKey(*etype, *password, *salt)
	}
	if err != nil {
		return nil, err
	}
	return struct {
		Key string `json:"key_hex"`
	}{hex.EncodeToString(key)}, nil
}

func kdsSalt(fs *flag.FlagSet, args []string) (any, error) {
	principal := fs.String("principal", "", "sAMAccountName; a trailing $ means a computer or gMSA")
	realm := fs.String("realm", "", "DNS domain name (realm)")
	if err := parse(fs, args, "principal", "realm"); err != nil {
		return nil, err
	}
	return struct {
		Salt string `json:"salt"`
	}{fakekds.Salt(*realm, *principal)}, nil
}
