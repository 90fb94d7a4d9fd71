package control

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Client calls the control API of a running `gmsasim serve`.
type Client struct {
	base  string // "http://127.0.0.1:PORT", no trailing slash
	token string
	// HTTP is the client used for every request (default: one with no overall timeout, since
	// trace streams last; bound calls with their context).
	HTTP *http.Client
}

// NewClient returns a client of the API at baseURL ("http://127.0.0.1:PORT") with a bearer token.
func NewClient(baseURL, token string) *Client {
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, HTTP: &http.Client{}}
}

// ClientFromStateDir returns a client of the serve whose state directory is dir: the address is
// the "control" field of dir/endpoints.json, the token dir/control.token.
func ClientFromStateDir(dir string) (*Client, error) {
	u, err := EndpointFromStateDir(dir)
	if err != nil {
		return nil, err
	}
	tok, err := ReadToken(filepath.Join(dir, "control.token"))
	if err != nil {
		return nil, err
	}
	return NewClient(u, tok), nil
}

// EndpointFromStateDir reads the control API's URL, the "control" field of dir/endpoints.json
// (the file's other fields are serve's other listeners).
func EndpointFromStateDir(dir string) (string, error) {
	path := filepath.Join(dir, "endpoints.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("control: read the control API's address: %w (is gmsasim serve running with --state-dir %s?)", err, dir)
	}
	var ep struct {
		Control string `json:"control"`
	}
	if err := json.Unmarshal(b, &ep); err != nil {
		return "", fmt.Errorf("control: %s: %w", path, err)
	}
	if ep.Control == "" {
		return "", fmt.Errorf("control: %s has no \"control\" address (this serve runs no control API)", path)
	}
	return ep.Control, nil
}

// ReadToken reads a bearer token file (surrounding white space is not part of the token).
func ReadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("control: read the token: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("control: token file %s is empty", path)
	}
	return tok, nil
}

// do sends a request and returns the response of a success or of a status in also; any other
// status becomes an *Error (the body is closed then).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, contentType string, also ...int) (*http.Response, error) {
	u := c.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("control: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("control: %s %s: %w", method, path, err)
	}
	if resp.StatusCode/100 == 2 || slices.Contains(also, resp.StatusCode) {
		return resp, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return nil, errorFrom(resp.StatusCode, b)
}

// errorFrom turns an error answer into an *Error, with a *SyntaxError inside for a 400 that
// carries a line.
func errorFrom(status int, body []byte) *Error {
	var eb errorBody
	if json.Unmarshal(body, &eb) != nil || eb.Error == "" {
		eb.Error = strings.TrimSpace(string(body))
	}
	e := &Error{Status: status, Message: eb.Error}
	if status == http.StatusBadRequest && eb.Line > 0 {
		e.Err = &SyntaxError{Line: eb.Line, Msg: eb.Msg}
	}
	return e
}

// Steps runs scenario steps. A failing step returns the result of the steps that ran and an
// *Error (422) wrapping a *StepsFailedError; text that does not parse returns an *Error (400)
// wrapping a *SyntaxError.
func (c *Client) Steps(ctx context.Context, text string) (StepsResult, error) {
	resp, err := c.do(ctx, http.MethodPost, "/steps", nil, []byte(text), "text/plain; charset=utf-8", http.StatusUnprocessableEntity)
	if err != nil {
		return StepsResult{}, err
	}
	defer resp.Body.Close()
	var body stepsBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return StepsResult{}, fmt.Errorf("control: POST /steps: decode the answer (%s): %w", resp.Status, err)
	}
	res := body.StepsResult
	if resp.StatusCode == http.StatusUnprocessableEntity {
		if res.Failure == nil {
			return res, &Error{Status: resp.StatusCode, Message: body.Error}
		}
		fe := &StepsFailedError{Failure: *res.Failure}
		return res, &Error{Status: resp.StatusCode, Message: fe.Error(), Err: fe}
	}
	return res, nil
}

// StepsSCN runs scenario steps and returns the .scn transcript (see FormatSCN). A failing step
// returns the transcript and an *Error (422) whose message is the transcript's "# error:" line.
func (c *Client) StepsSCN(ctx context.Context, text string) (string, error) {
	q := url.Values{"format": {"scn"}}
	resp, err := c.do(ctx, http.MethodPost, "/steps", q, []byte(text), "text/plain; charset=utf-8", http.StatusUnprocessableEntity)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("control: POST /steps?format=scn: %w", err)
	}
	out := string(b)
	if resp.StatusCode == http.StatusUnprocessableEntity {
		msg := "a step failed"
		if i := strings.LastIndex(out, "\n# error: "); i >= 0 {
			msg, _, _ = strings.Cut(out[i+len("\n# error: "):], "\n")
		}
		return out, &Error{Status: resp.StatusCode, Message: msg}
	}
	return out, nil
}

// State describes the served world.
func (c *Client) State(ctx context.Context) (State, error) {
	var st State
	resp, err := c.do(ctx, http.MethodGet, "/state", nil, nil, "")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("control: GET /state: decode the answer: %w", err)
	}
	return st, nil
}

// Trace calls fn with every trace line from sequence number from on (a TraceLine with Dropped > 0
// first if some are no longer kept). Without follow it returns after the lines written so far;
// with follow it waits for new lines until ctx is done (then it returns ctx.Err()), fn returns an
// error (returned as is) or the server ends the stream.
func (c *Client) Trace(ctx context.Context, from int, follow bool, fn func(TraceLine) error) error {
	q := url.Values{"from": {strconv.Itoa(from)}}
	if follow {
		q.Set("follow", "1")
	}
	resp, err := c.do(ctx, http.MethodGet, "/trace", q, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20) // a line is at most 64 KiB of text, escaped
	for sc.Scan() {
		var tl TraceLine
		if err := json.Unmarshal(sc.Bytes(), &tl); err != nil {
			return fmt.Errorf("control: GET /trace: decode %q: %w", sc.Text(), err)
		}
		if err := fn(tl); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("control: GET /trace: %w", err)
	}
	return nil
}

// Snapshot returns the world's snapshot, for Restore.
func (c *Client) Snapshot(ctx context.Context) ([]byte, error) {
	resp, err := c.do(ctx, http.MethodPost, "/snapshot", nil, nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("control: POST /snapshot: %w", err)
	}
	return b, nil
}

// Restore replaces the world with a snapshot.
func (c *Client) Restore(ctx context.Context, snapshot []byte) error {
	resp, err := c.do(ctx, http.MethodPost, "/restore", nil, snapshot, "application/json")
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// LDIF writes dc's replica ("" for the default DC) to w.
func (c *Client) LDIF(ctx context.Context, dc string, w io.Writer) error {
	var q url.Values
	if dc != "" {
		q = url.Values{"dc": {dc}}
	}
	resp, err := c.do(ctx, http.MethodGet, "/ldif", q, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("control: GET /ldif: %w", err)
	}
	return nil
}
