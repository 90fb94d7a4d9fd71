// Package junit is the JUnit XML document gmsasim writes (gmsasim run's scenarios, gmsasim
// conform's checks): one testsuite of testcases, in the structure CI servers read (Jenkins'
// junit-10.xsd, GitLab's reader; interop/junit.xsd checks it).
package junit

import (
	"encoding/xml"
	"fmt"
	"io"
	"time"
)

// Suite is the testsuite element. Tests, Failures, Errors and Skipped are counted by Write.
type Suite struct {
	XMLName  xml.Name `xml:"testsuite"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Time     string   `xml:"time,attr"`
	Cases    []Case   `xml:"testcase"`
}

// Case is a testcase: passed, or with exactly one of Failure, Error, Skipped.
type Case struct {
	Name      string   `xml:"name,attr"`
	Classname string   `xml:"classname,attr"`
	Time      string   `xml:"time,attr"`
	File      string   `xml:"file,attr,omitempty"`
	Line      int      `xml:"line,attr,omitempty"`
	Skipped   *Skipped `xml:"skipped,omitempty"`
	Error     *Problem `xml:"error,omitempty"`
	Failure   *Problem `xml:"failure,omitempty"`
	SystemOut string   `xml:"system-out,omitempty"`
}

// Problem is a failure or an error: a one-line message, a type and the full text.
type Problem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// Skipped is a skipped testcase's reason.
type Skipped struct {
	Message string `xml:"message,attr"`
}

// Seconds is a duration as JUnit's time attribute ("1.250").
func Seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// Write counts s's testcases into its totals and writes the document, indented, after the XML
// header.
func Write(w io.Writer, s Suite) error {
	s.Tests, s.Failures, s.Errors, s.Skipped = len(s.Cases), 0, 0, 0
	for _, c := range s.Cases {
		switch {
		case c.Error != nil:
			s.Errors++
		case c.Failure != nil:
			s.Failures++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
