package ldapsrv

import (
	"fmt"

	goldap "github.com/lor00x/goldap/message"

	"github.com/gmsasim/gmsasim/fakead"
)

func (r *request) add(req goldap.AddRequest) {
	var attrs []fakead.Attribute
	for _, a := range req.Attributes() {
		attrs = append(attrs, fakead.Attribute{Name: string(a.Type_()), Values: values(a.Vals())})
	}
	err := r.s.b.Add(r.caller(), string(req.Entry()), attrs)
	r.w.Write(goldap.AddResponse(result(err)))
}

func (r *request) modify(req goldap.ModifyRequest) {
	var mods []fakead.Modification
	for _, c := range req.Changes() {
		op := c.Operation().Int()
		if op != int(fakead.ModAdd) && op != int(fakead.ModDelete) && op != int(fakead.ModReplace) {
			// Divergence: RFC 4525 increment (3) is answered as AD does not support it, without
			// AD's exact text.
			r.w.Write(goldap.ModifyResponse(result(wireErr(fakead.ProtocolError, "modify",
				fmt.Sprintf("00000057: LdapErr: unsupported modify operation %d", op)))))
			return
		}
		pa := c.Modification()
		mods = append(mods, fakead.Modification{
			Op:   fakead.ModOp(op),
			Attr: fakead.Attribute{Name: string(pa.Type_()), Values: values(pa.Vals())},
		})
	}
	err := r.s.b.Modify(r.caller(), string(req.Object()), mods)
	r.w.Write(goldap.ModifyResponse(result(err)))
}

func (r *request) delete(req goldap.DelRequest) {
	err := r.s.b.Delete(r.caller(), string(req))
	r.w.Write(goldap.DelResponse(result(err)))
}

func (r *request) modifyDN(req goldap.ModifyDNRequest) {
	dn, newRDN, deleteOld, newSuperior, err := modifyDNFields(req)
	if err == nil {
		err = r.s.b.ModifyDN(r.caller(), dn, newRDN, deleteOld, newSuperior)
	}
	r.w.Write(goldap.ModifyDNResponse(result(err)))
}

func (r *request) compare(req goldap.CompareRequest) {
	ava := req.Ava()
	ok, err := r.s.b.Compare(r.caller(), string(req.Entry()), string(ava.AttributeDesc()), []byte(ava.AssertionValue()))
	res := result(err)
	if err == nil {
		res = result(nil)
		if ok {
			res.SetResultCode(int(fakead.CompareTrue))
		} else {
			res.SetResultCode(int(fakead.CompareFalse))
		}
	}
	r.w.Write(goldap.CompareResponse(res))
}

func values(vs []goldap.AttributeValue) [][]byte {
	out := make([][]byte, len(vs))
	for i, v := range vs {
		out[i] = []byte(v)
	}
	return out
}
