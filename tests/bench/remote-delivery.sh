#!/bin/sh
# tests/bench/remote-delivery.sh [REPS]
# The benchmarks of the issue "Remote delivery", qmail-s6 side by side with
# Postfix: "relay" (N messages relayed to smtp-sink) and "rfanout" (one
# message to RRCPT recipients at RDOM domains).  The driver, its setup and
# its environment (N, CONC, RRCPT, RDOM, PF, SETTLE, ...) are those of
# local-delivery.sh, which this runs with TESTS="relay rfanout" unless
# TESTS is set.  Needs root and Postfix's smtp-sink, as local-delivery.sh.
TESTS=${TESTS:-relay rfanout}
export TESTS
exec "$(dirname "$0")/local-delivery.sh" "$@"
