package ldapsrv

import (
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	goldap "github.com/lor00x/goldap/message"
	"github.com/vjeantet/ldapserver"
)

// goldap and vjeantet/ldapserver gaps, filled here and nowhere else:
//
//   - goldap has no getters for ModifyDNRequest, MatchingRuleAssertion (extensible filters),
//     SaslCredentials and BindRequest.version: read by reflection (read-only, no unsafe).
//   - goldap has no setters for ExtendedResponse.responseValue and no Control constructor: such
//     responses are encoded here (tlv.go) and decoded with goldap's exported reader ("decode trick").
//   - ResponseWriter.Write drops response controls (paged-results cookies): the writer's unexported
//     chanOut is reached with reflect+unsafe and a whole LDAPMessage, controls included, is pushed
//     into it, keeping the order with the connection's other responses.
//
// goldapx_test.go pins every field name and type used here, so a dependency bump fails loudly.

var errNoField = errors.New("ldapsrv: goldap internals changed")

// field returns the unexported field name of struct value v.
func field(v reflect.Value, name string) (reflect.Value, error) {
	if v.Kind() != reflect.Struct {
		return reflect.Value{}, fmt.Errorf("%w: %s is not a struct", errNoField, v.Type())
	}
	f := v.FieldByName(name)
	if !f.IsValid() {
		return reflect.Value{}, fmt.Errorf("%w: %s has no field %q", errNoField, v.Type(), name)
	}
	return f, nil
}

func fieldString(v reflect.Value, name string) (string, error) {
	f, err := field(v, name)
	if err != nil {
		return "", err
	}
	if f.Kind() == reflect.Pointer {
		if f.IsNil() {
			return "", nil
		}
		f = f.Elem()
	}
	if f.Kind() != reflect.String {
		return "", fmt.Errorf("%w: field %q is %s", errNoField, name, f.Kind())
	}
	return f.String(), nil
}

func fieldBool(v reflect.Value, name string) (bool, error) {
	f, err := field(v, name)
	if err != nil {
		return false, err
	}
	if f.Kind() != reflect.Bool {
		return false, fmt.Errorf("%w: field %q is %s", errNoField, name, f.Kind())
	}
	return f.Bool(), nil
}

// modifyDNFields reads a ModifyDNRequest.
func modifyDNFields(r goldap.ModifyDNRequest) (dn, newRDN string, deleteOld bool, newSuperior string, err error) {
	v := reflect.ValueOf(r)
	if dn, err = fieldString(v, "entry"); err != nil {
		return
	}
	if newRDN, err = fieldString(v, "newrdn"); err != nil {
		return
	}
	if deleteOld, err = fieldBool(v, "deleteoldrdn"); err != nil {
		return
	}
	newSuperior, err = fieldString(v, "newSuperior")
	return
}

// extensibleFields reads an extensible-match filter.
func extensibleFields(f goldap.FilterExtensibleMatch) (rule, attr, value string, dnAttrs bool, err error) {
	v := reflect.ValueOf(f)
	if rule, err = fieldString(v, "matchingRule"); err != nil {
		return
	}
	if attr, err = fieldString(v, "type_"); err != nil {
		return
	}
	if value, err = fieldString(v, "matchValue"); err != nil {
		return
	}
	dnAttrs, err = fieldBool(v, "dnAttributes")
	return
}

// saslMechanism reads the mechanism of a SASL bind.
func saslMechanism(r goldap.BindRequest) (string, error) {
	sc, ok := r.Authentication().(goldap.SaslCredentials)
	if !ok {
		return "", fmt.Errorf("%w: SASL credentials are %T", errNoField, r.Authentication())
	}
	return fieldString(reflect.ValueOf(sc), "mechanism")
}

// bindVersion reads the protocol version of a bind request.
func bindVersion(r goldap.BindRequest) (int, error) {
	f, err := field(reflect.ValueOf(r), "version")
	if err != nil {
		return 0, err
	}
	if f.Kind() != reflect.Int32 {
		return 0, fmt.Errorf("%w: version is %s", errNoField, f.Kind())
	}
	return int(f.Int()), nil
}

var msgChanType = reflect.TypeOf((chan *goldap.LDAPMessage)(nil))

// outChannel extracts the library's per-connection response channel from a ResponseWriter.
func outChannel(w ldapserver.ResponseWriter) (chan *goldap.LDAPMessage, error) {
	rv := reflect.ValueOf(w)
	if rv.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: ResponseWriter is %T", errNoField, w)
	}
	cp := reflect.New(rv.Type()).Elem() // addressable copy
	cp.Set(rv)
	f := cp.FieldByName("chanOut")
	if !f.IsValid() || f.Type() != msgChanType {
		return nil, fmt.Errorf("%w: ResponseWriter has no chanOut of %s", errNoField, msgChanType)
	}
	ch := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(chan *goldap.LDAPMessage)
	if ch == nil {
		return nil, fmt.Errorf("%w: chanOut is nil", errNoField)
	}
	return ch, nil
}

// decodeMessage turns bytes encoded here into a goldap message (the decode trick).
func decodeMessage(b []byte) (msg *goldap.LDAPMessage, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("ldapsrv: goldap cannot decode our response: %v", r)
		}
	}()
	m, err := goldap.ReadLDAPMessage(goldap.NewBytes(0, b))
	if err != nil {
		return nil, fmt.Errorf("ldapsrv: goldap cannot decode our response: %w", err)
	}
	// The library's writer ignores encoding errors and then dereferences nil: make sure it can't.
	if _, err := m.Write(); err != nil {
		return nil, fmt.Errorf("ldapsrv: goldap cannot re-encode our response: %w", err)
	}
	return &m, nil
}
