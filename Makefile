# Repeated chores as code. `make test` is the command CI runs (.ci/run).
.PHONY: test setup run bench fmt

## Set up a fresh machine and run every check and test.
test:
	./scripts/test.sh

## Install what a fresh machine lacks (Debian packages, Rust components, PostgreSQL running).
setup:
	./scripts/setup.sh

## The district server on embedded SQLite with the Belu demo district (prints an enrolment
## code), and the Jangkau app connected to it.
run:
	./scripts/setup.sh
	./scripts/run-app.sh

## Run the benchmarks quoted in docs/BENCHMARKS.md.
bench:
	cargo bench -p sync-protocol --bench codec
	cargo bench -p health-rules
	cargo bench -p field-core --bench store
	cargo bench -p district-server --bench sync_load -- --backend both
	cargo run -p system-tests --release --bin simulator -- all --repeat 5

fmt:
	cargo fmt --all
