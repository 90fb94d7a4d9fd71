# gmsasim — the two set-up commands are `make run` and `make test`; they need only Go (1.26).
GO       ?= go
BIN      ?= bin/gmsasim
FUZZTIME ?= 30s

.PHONY: all build run test test-long bench fuzz interop vet clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/gmsasim

# The main job: the scenario library on the embedded default domain, with the HTML timeline report
# and JUnit XML in out/; then the default domain checked over real LDAP/LDAPS sockets.
run: build
	./$(BIN) run scenarios/library scenarios/mim --report out/report --junit out/junit.xml
	./$(BIN) selfcheck

test:
	$(GO) test -race ./...

# The long sweeps too: the migration crashed before and after every one of its steps (make test
# samples every tenth).
test-long:
	GMSASIM_TEST_LONG=1 $(GO) test -race -timeout 60m ./...

vet:
	gofmt -l . | tee /dev/stderr | (! read)
	$(GO) vet ./...

# Go benchmarks of the model, then LDAP throughput side by side with OpenLDAP slapd, then the
# scaling sweeps (tables, CSV and SVG charts in out/bench/; BENCH_SCALE_MAX=10000 skips the slow
# points, see bench/README.md).
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./fakead/... ./sim/... ./fakekds/...
	bash bench/run.sh
	$(GO) run ./bench/scaling -gmsasim $(BIN)

# Every Go fuzz target, each for FUZZTIME (default 30s; the README's figures used 10m).
fuzz:
	FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

# Real outside clients (ldapsearch, python3 ldap3, impacket, MIT krb5) against `gmsasim serve`, and
# gmsasim conform with the shipped adapters.
interop: build
	bash interop/run.sh $(BIN)

clean:
	rm -rf bin out
