package ldapsrv

// The library starts a goroutine per request, with the runtime's smallest stack. A request's path
// through the handler, the Backend and the model is deeper than that, so every request paid for
// two or three stack copies as it went down (about a tenth of the server's CPU for a base search
// or a simple bind). A connection's requests run one at a time anyway (connState's turn): they run
// on one goroutine per connection, started with its first request, whose stack stays grown. The
// library's goroutine takes the turn, hands the request over and waits for it.

// runOnWorker runs r.serve on the connection's worker goroutine and returns when it is done. The
// caller holds the connection's turn, so the worker has at most one request at a time. Once the
// connection is closed or killed (the worker has exited or is exiting) the request is skipped:
// nothing can be written any more.
func (fc *framedConn) runOnWorker(r *request) {
	fc.workerOnce.Do(func() {
		fc.work = make(chan *request)
		fc.workDone = make(chan struct{}, 1)
		go fc.workLoop()
	})
	select {
	case fc.work <- r:
		<-fc.workDone // the worker always answers a request it took
	case <-fc.done:
	}
}

// workLoop is the connection's worker: it serves the requests handed over until the connection is
// closed (the library calls Close only after every handler returned) or killed.
func (fc *framedConn) workLoop() {
	for {
		select {
		case r := <-fc.work:
			r.serve()
			fc.workDone <- struct{}{}
		case <-fc.done:
			return
		}
	}
}
