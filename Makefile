# matchd — see README.md. `make demo` and `make test` need nothing but Go.
GO      ?= go
SEED    := testdata/seed/000_7b1a7b71cc467a56.txt
FUZZTIME ?= 10s

.PHONY: all build demo test check fmt vet race fuzz fuzz-short vuln bench bench-short clean

all: build

build:
	$(GO) build -o bin/matchd ./cmd/matchd

# Replay the embedded demo logs against the seed document's own IOCs.
demo:
	$(GO) run ./cmd/matchd replay --iocs $(SEED) testdata/demo

test: vet
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race -short ./...

fmt:
	@out=$$(gofmt -s -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt -s would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

check: fmt test fuzz-short

# Every fuzz target for FUZZTIME (make fuzz FUZZTIME=5m for a long run).
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

fuzz-short:
	./scripts/fuzz.sh 10s

# govulncheck against a database built from golang.org/x/vulndb, fetched
# through the module proxy (vuln.go.dev need not be reachable).
vuln:
	./scripts/vuln.sh

# End-to-end benchmark against grep -F, rg -F and a naive baseline (see
# bench/README.md); results go to bench/results/.
bench:
	$(GO) run ./bench/cmd/matchd-bench

bench-short:
	$(GO) run ./bench/cmd/matchd-bench --short --naive-records -1 --results -

clean:
	rm -rf bin bench/.bin
