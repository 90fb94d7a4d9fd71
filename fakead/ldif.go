package fakead

import (
	"errors"
	"io"
)

// ExportLDIF writes the whole replica as LDIF.
func (d *Directory) ExportLDIF(w io.Writer) error { return errors.New("todo") }

// ImportLDIF builds a replica from an LDIF export.
func ImportLDIF(r io.Reader) (*Directory, error) { return nil, errors.New("todo") }
