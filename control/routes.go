package control

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// route is one endpoint. The table is the single list both the dispatcher and the OpenAPI test
// read, so the document cannot silently miss a route or a status.
type route struct {
	Method, Path string
	Public       bool  // served without the bearer token
	Statuses     []int // every status the route itself answers (401, 404 and 405 of the dispatcher aside)
	handle       func(s *Server, w http.ResponseWriter, r *http.Request)
}

var routes = []route{
	{"POST", "/steps", false, []int{200, 400, 413, 422, 500}, (*Server).handleSteps},
	{"GET", "/state", false, []int{200, 500}, (*Server).handleState},
	{"GET", "/trace", false, []int{200, 400, 429}, (*Server).handleTrace},
	{"POST", "/snapshot", false, []int{200, 500}, (*Server).handleSnapshot},
	{"POST", "/restore", false, []int{204, 400, 413, 500}, (*Server).handleRestore},
	{"GET", "/ldif", false, []int{200, 404, 500}, (*Server).handleLDIF},
	{"GET", "/openapi.yaml", true, []int{200}, (*Server).handleOpenAPI},
}

//go:embed openapi.yaml
var openapiYAML []byte

// OpenAPI is the API's OpenAPI 3.0 document, as GET /openapi.yaml serves it.
func OpenAPI() []byte { return append([]byte(nil), openapiYAML...) }

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/yaml")
	w.Write(openapiYAML)
}

// stepsBody is POST /steps' JSON answer: the result, plus {"error"} on a failure so that a client
// that only knows the generic error shape still has the reason.
type stepsBody struct {
	StepsResult
	Error string `json:"error,omitempty"`
}

func (s *Server) handleSteps(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "scn" {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("format=%q: want json (the default) or scn", format))
		return
	}
	body, ok := readBody(w, r, s.maxBody)
	if !ok {
		return
	}
	text := string(body)
	res, err := s.backend.Steps(r.Context(), text)
	if err != nil {
		writeBackendError(w, err)
		return
	}
	if res.Steps == nil {
		res.Steps = []StepOutput{}
	}
	status, msg := http.StatusOK, ""
	if res.Failure != nil {
		status = http.StatusUnprocessableEntity
		msg = (&StepsFailedError{Failure: *res.Failure}).Error()
	}
	if format == "scn" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		w.Write([]byte(FormatSCN(text, res)))
		return
	}
	writeJSON(w, status, stepsBody{StepsResult: res, Error: msg})
}

func (s *Server) handleState(w http.ResponseWriter, r *http.Request) {
	st, err := s.backend.State(r.Context())
	if err != nil {
		writeBackendError(w, err)
		return
	}
	// Empty lists are [] rather than null: clients index them without a nil check.
	st.DCs = nonNil(st.DCs)
	st.Links = nonNil(st.Links)
	st.Hosts = nonNil(st.Hosts)
	st.GMSAs = nonNil(st.GMSAs)
	for i := range st.Hosts {
		st.Hosts[i].InstalledAccounts = nonNil(st.Hosts[i].InstalledAccounts)
	}
	for i := range st.GMSAs {
		st.GMSAs[i].PrincipalsAllowedToRetrieve = nonNil(st.GMSAs[i].PrincipalsAllowedToRetrieve)
	}
	writeJSON(w, http.StatusOK, st)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// traceBatch is how many lines a trace stream takes from the hub at a time: the hub's lock is held
// for one batch, never for a whole 100000-line backlog.
const traceBatch = 1000

func (s *Server) handleTrace(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	from := 0
	if v := q.Get("from"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("from=%q: want a sequence number (0 or more)", v))
			return
		}
		from = n
	}
	follow := false
	switch v := q.Get("follow"); v {
	case "", "0", "false":
	case "1", "true":
		follow = true
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("follow=%q: want 1 or 0", v))
		return
	}
	rc := http.NewResponseController(w)
	end := -1 // without follow: the lines written before the request
	if follow {
		select {
		case s.followers <- struct{}{}:
			defer func() { <-s.followers }()
		default:
			writeError(w, http.StatusTooManyRequests, fmt.Sprintf("already %d trace followers; close one or read without follow=1", cap(s.followers)))
			return
		}
		// The stream lasts as long as the client wants it: lift the server's timeouts for it.
		// (Errors only mean the writer has no deadlines, as with httptest's recorder.)
		rc.SetReadDeadline(time.Time{})
		rc.SetWriteDeadline(time.Time{})
	} else {
		end = s.trace.Next()
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	rc.Flush() // a follower sees the headers, and knows it holds a slot, before any line exists
	enc := json.NewEncoder(w)
	for {
		if !follow && from >= end {
			return
		}
		lines, dropped, next, wait, closed := s.trace.Since(from, traceBatch)
		if dropped > 0 {
			if enc.Encode(TraceLine{Seq: from + dropped, Dropped: dropped}) != nil {
				return
			}
		}
		for _, l := range lines {
			if !follow && l.Seq >= end {
				break
			}
			if enc.Encode(l) != nil {
				return // the client went away
			}
		}
		if rc.Flush() != nil && follow {
			return
		}
		from = next
		if len(lines) == traceBatch || !follow {
			continue
		}
		if closed {
			return
		}
		select {
		case <-wait:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}

func (s *Server) handleSnapshot(w http.ResponseWriter, r *http.Request) {
	b, err := s.backend.Snapshot(r.Context())
	if err != nil {
		writeBackendError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func (s *Server) handleRestore(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r, s.maxSnapshot)
	if !ok {
		return
	}
	if len(body) == 0 {
		writeError(w, http.StatusBadRequest, "empty body: send a snapshot that POST /snapshot returned")
		return
	}
	if err := s.backend.Restore(r.Context(), body); err != nil {
		writeBackendError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleLDIF(w http.ResponseWriter, r *http.Request) {
	lw := &lazyWriter{w: w}
	err := s.backend.LDIF(r.Context(), r.URL.Query().Get("dc"), lw)
	switch {
	case err != nil && !lw.started:
		writeBackendError(w, err)
	case err != nil:
		// Half an LDIF is already out with a 200: cut the connection so that the client sees a
		// truncated answer, never a short file that looks complete.
		panic(http.ErrAbortHandler)
	case !lw.started:
		lw.start()
	}
}

// lazyWriter sends the 200 header at the first byte, so that an error before it still gets its
// own status.
type lazyWriter struct {
	w       http.ResponseWriter
	started bool
}

func (l *lazyWriter) start() {
	l.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	l.w.Header().Set("X-Content-Type-Options", "nosniff")
	l.w.WriteHeader(http.StatusOK)
	l.started = true
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	if !l.started {
		l.start()
	}
	return l.w.Write(p)
}
