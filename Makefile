# Repeated chores as code. `make test` is the command CI runs (.ci/run).
.PHONY: test setup bench fmt

## Set up a fresh machine and run every check and test.
test:
	./scripts/test.sh

## Install what a fresh machine lacks (Debian packages, Rust components, PostgreSQL running).
setup:
	./scripts/setup.sh

## Run the benchmarks quoted in docs/BENCHMARKS.md.
bench:
	cargo bench -p sync-protocol --bench codec
	cargo bench -p health-rules

fmt:
	cargo fmt --all
