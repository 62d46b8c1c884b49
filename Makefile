# The seed system's familiar targets, mapped onto cargo. See README.md.
.PHONY: run test test-quick test-audio failover bench latency fuzz soak fmt lint install

run:            ## start the synth (installs what it needs)
	bash scripts/run.sh

test:           ## the whole test suite, as CI runs it
	bash scripts/test.sh

test-quick:     ## everything but the real-time end-to-end tests, fast
	cargo nextest run --workspace -E 'not binary(/^(failover|lifecycle|run|osc|bench|mcp|jack|alsa|say|jam|tour|soak|session|samples|midi)$$/)'

test-audio:     ## the accuracy suite (MUS-01..03, LFO, golden render), printing every figure
	cargo test -p chronus-dsp --release --tests -- --nocapture --test-threads 1 2>&1 | grep -E '^(MUS|LFO|phase|triangle|square|saw|pulse|test result)'

failover:       ## the failover benchmark (200 SIGKILLs of the active worker)
	cargo run --release -p chronus -- bench failover

latency:        ## output latency and xruns of every backend here, 60 s each, the other core loaded
	cargo run --release -p chronus -- bench latency

fuzz:           ## every fuzz target for 5 minutes each (CI gives them a minute in all)
	CHRONUS_FUZZ_SECONDS=300 cargo nextest run --workspace --release -E 'binary(fuzz)' --no-capture

soak:           ## ten minutes of 5,000 OSC msg/s and a worker killed every few seconds (CI: 60 s),
                ## then ten of 50,000 commands/s into the engine (CI: 20 s)
	CHRONUS_SOAK_SECONDS=600 cargo nextest run --profile soak -p chronus --test soak --no-capture
	CHRONUS_LOAD_SECONDS=600 cargo nextest run --profile soak -p chronus-engine --test lifecycle --no-capture \
		-E 'test(full_control_load)'

bench:          ## voice throughput against fundsp
	cargo bench -p chronus-dsp

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings

# Where `make install` puts things; DESTDIR for packaging. CHRONUS_BIN: a binary already built
# (otherwise a release build is made first).
PREFIX ?= /usr/local
DESTDIR ?=
CHRONUS_BIN ?=

install:        ## the binary, its manual page and bash/zsh/fish completions, into $(PREFIX)
	@set -e; bin="$(CHRONUS_BIN)"; \
	if [ -z "$$bin" ]; then cargo build --release --locked -p chronus; bin=target/release/chronus; fi; \
	root="$(DESTDIR)$(PREFIX)"; \
	install -d "$$root/bin" "$$root/share/man/man1" "$$root/share/bash-completion/completions" \
	    "$$root/share/zsh/site-functions" "$$root/share/fish/vendor_completions.d"; \
	install -m 755 "$$bin" "$$root/bin/chronus"; \
	"$$bin" man > "$$root/share/man/man1/chronus.1"; \
	"$$bin" completions bash > "$$root/share/bash-completion/completions/chronus"; \
	"$$bin" completions zsh > "$$root/share/zsh/site-functions/_chronus"; \
	"$$bin" completions fish > "$$root/share/fish/vendor_completions.d/chronus.fish"; \
	echo "installed $$root/bin/chronus, its manual page (man chronus) and completions"
