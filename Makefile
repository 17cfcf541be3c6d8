# make test: every test, with the real services they need (installed and
# started by scripts/test-deps.sh when missing).
# make bench: the figures the README's performance table quotes.

GO ?= go
GOTEST_TIMEOUT ?= 14m

.PHONY: test deps vet fmt-check unit bench web

test: deps vet fmt-check unit

deps:
	./scripts/test-deps.sh

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -count=1 -timeout $(GOTEST_TIMEOUT) ./...

web:
	./web/build.sh

bench: deps
	./scripts/bench.sh
