#!/bin/bash
# tests/bench/qmail-queue-rate.sh [SECONDS] [REPS]
#
# qmail-queue injections per second, with 1 and with 2 concurrent injectors,
# 4 KB messages to one recipient, side by side in the same run with the
# ceiling for qmail's queue format on the same filesystem.
#
# The ceiling: a message in qmail's format is two durable files (mess/N/ID
# and intd/ID, each fsynced, each followed by a directory fsync), so it is
# half of what fsyncrate.c's `queue` mode (create, write 4 KiB, fsync, link,
# unlink, fsync dir) does per second with the same number of processes.
# Goal of the issue "Foundation and the durable queue": ratio >= 80 %.
#
# Per rep and per number of injectors N (1, then 2):
#   1. a fresh sandbox (tools/sandbox) under BENCH_DIR, then sync;
#   2. fsyncrate queue BENCH_DIR/... N SECONDS  -> ops/s, ceiling = ops/s / 2;
#   3. sync; qq-inject-loop -p N -t SECONDS     -> msgs/s through qq_open/
#      qq_close (posix_spawn of the sandbox's bin/qmail-queue, two pipes).
# Prints one row per run and, with REPS > 1, the medians.
#
# Arguments: SECONDS per measurement (default 10), REPS (default 3).
# Environment: BENCH_DIR (default /var/tmp: the filesystem measured; both
# fsyncrate and the sandbox go in one temp dir under it), FSYNCRATE_C (default
# ../shared/bench/fsyncrate.c next to the checkout; when absent the bench is
# skipped with exit 0), MAXCOUNT (cap of messages/ops per process, default
# 1000000), SIZE (message size in bytes, default 4096), QS6_BUILD (programs,
# default build/ of this tree, made with `make` first).
#
# Every loop is bounded by count and by time, and every measurement runs
# under timeout(1).  Everything is local (no network).  The temp dir is
# removed on exit.  Not part of `make check`: run it by hand.
set -eu

secs=${1:-10}
reps=${2:-3}
case "$secs" in ''|*[!0-9]*) echo "usage: $0 [SECONDS] [REPS]" >&2; exit 100 ;; esac
case "$reps" in ''|*[!0-9]*) echo "usage: $0 [SECONDS] [REPS]" >&2; exit 100 ;; esac
[ "$secs" -ge 1 ] && [ "$secs" -le 600 ] || { echo "$0: SECONDS must be 1..600" >&2; exit 100; }
[ "$reps" -ge 1 ] && [ "$reps" -le 20 ] || { echo "$0: REPS must be 1..20" >&2; exit 100; }

top=$(cd "$(dirname "$0")/../.." && pwd)
fsyncrate_c=${FSYNCRATE_C:-$top/../shared/bench/fsyncrate.c}
bench_dir=${BENCH_DIR:-/var/tmp}
maxcount=${MAXCOUNT:-1000000}
size=${SIZE:-4096}
build=${QS6_BUILD:-$top/build}
cc=${CC:-cc}

if [ ! -f "$fsyncrate_c" ]; then
  echo "qmail-queue-rate: SKIP: $fsyncrate_c is absent (set FSYNCRATE_C to the shared bench's fsyncrate.c); no ceiling, no measurement"
  exit 0
fi

if [ -z "${QS6_BUILD:-}" ]; then
  make -s -C "$top" all >&2
fi
[ -x "$build/bin/qmail-queue" ] && [ -f "$build/libqmail-s6.a" ] ||
  { echo "qmail-queue-rate: fatal: no build in $build" >&2; exit 111; }

work=
cleanup() {
  if [ -n "$work" ] && [ -d "$work" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
work=$(mktemp -d "$bench_dir/qmail-queue-rate.XXXXXX")
chmod 0755 "$work"   # the sandbox user (qmails6 when root) must traverse it

"$cc" -O2 -o "$work/fsyncrate" "$fsyncrate_c"
"$cc" -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter \
  -I"$top/src/include" -I"$build/gen" -o "$work/qq-inject-loop" \
  "$top/tests/bench/qq-inject-loop.c" "$build/libqmail-s6.a" -lskarnet

# CPU busy of the whole machine, in %, between two snapshots of /proc/stat.
cpu_snap() { awk '/^cpu /{ idle=$5+$6; t=0; for(i=2;i<=NF;i++) t+=$i; print t, idle }' /proc/stat; }
cpu_busy() { # "t0 idle0" "t1 idle1"
  echo "$1 $2" | awk '{ dt=$3-$1; di=$4-$2; if (dt>0) printf "%.0f", 100*(dt-di)/dt; else print "?" }'
}
field() { # KEY LINE
  echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}

fs=$(df -PT "$work" | awk 'NR==2{print $2" on "$1" mounted at "$7}')
echo "# qmail-queue injection rate vs qmail-format ceiling"
echo "# date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')  host: $(uname -n)  kernel: $(uname -r)  nproc: $(nproc)"
echo "# dir: $work ($fs)"
echo "# commit: $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet HEAD -- src 2>/dev/null || echo ' (src/ modified)')"
echo "# seconds per measurement: $secs, reps: $reps, message: $size bytes, 1 recipient"
echo "# fsyncrate: $fsyncrate_c"
echo
printf '%-4s %-9s %10s %10s %10s %7s %9s %9s %8s %8s %6s %6s\n' \
  rep injectors 'qq msgs/s' 'queue op/s' 'ceiling' ratio 'qq cpuus' 'cl cpuus' 'p50 ms' 'p99 ms' 'busy%' 'fsbusy%'

results=$work/results
: > "$results"
rep=1
while [ "$rep" -le "$reps" ]; do
  for n in 1 2; do
    rm -rf "$work/home" "$work/fs"
    QS6_BUILD=$build "$top/tools/sandbox" "$work/home" bench.example.test >/dev/null
    sync; sleep 1
    c0=$(cpu_snap)
    fsl=$(timeout -k 5 $((secs + 120)) "$work/fsyncrate" queue "$work/fs" "$n" "$secs" "$maxcount")
    c1=$(cpu_snap)
    fsbusy=$(cpu_busy "$c0" "$c1")
    sync; sleep 1
    c0=$(cpu_snap)
    qql=$(QMAILHOME=$work/home timeout -k 5 $((secs + 120)) "$work/qq-inject-loop" \
      -p "$n" -t "$secs" -n "$maxcount" -s "$size" -f bench@bench.example.test \
      bmain@bench.example.test)
    c1=$(cpu_snap)
    busy=$(cpu_busy "$c0" "$c1")
    queued=$(find "$work/home/queue/todo" -type f | wc -l)
    msgs=$(field msgs "$qql")
    if [ "$queued" -ne "$msgs" ]; then
      echo "qmail-queue-rate: fatal: injector says $msgs queued, todo/ holds $queued" >&2
      exit 111
    fi
    ops=$(field ops_per_s "$fsl")
    rate=$(field msgs_per_s "$qql")
    ceil=$(awk -v o="$ops" 'BEGIN{printf "%.1f", o/2}')
    ratio=$(awk -v r="$rate" -v c="$ceil" 'BEGIN{ if (c>0) printf "%.1f%%", 100*r/c; else print "?" }')
    p50=$(awk -v x="$(field p50_us "$qql")" 'BEGIN{printf "%.2f", x/1000}')
    p99=$(awk -v x="$(field p99_us "$qql")" 'BEGIN{printf "%.2f", x/1000}')
    printf '%-4s %-9s %10s %10s %10s %7s %9s %9s %8s %8s %6s %6s\n' \
      "$rep" "$n" "$rate" "$ops" "$ceil" "$ratio" "$(field qq_cpu_us "$qql")" \
      "$(field client_cpu_us "$qql")" "$p50" "$p99" "$busy" "$fsbusy"
    echo "$n $rate $ops $ceil $(field qq_cpu_us "$qql") $(field client_cpu_us "$qql")" >> "$results"
    echo "#   fsyncrate: $fsl" >&2
    echo "#   injector:  $qql" >&2
  done
  rep=$((rep + 1))
done

if [ "$reps" -gt 1 ]; then
  echo
  echo "# medians over $reps reps (min-max)"
  printf '%-9s %-22s %-22s %-22s %s\n' injectors 'qq msgs/s' 'ceiling' 'ratio' 'qq cpu us/msg'
  for n in 1 2; do
    med() { # column
      awk -v n="$n" -v c="$1" '$1==n{print $c}' "$results" | sort -g |
        awk '{a[NR]=$1} END{ m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f (%.1f-%.1f)", m, a[1], a[NR] }'
    }
    ratios=$(awk -v n="$n" '$1==n && $4>0 {printf "%.1f\n", 100*$2/$4}' "$results" | sort -g |
      awk '{a[NR]=$1} END{ m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f%% (%.1f-%.1f)", m, a[1], a[NR] }')
    printf '%-9s %-22s %-22s %-22s %s\n' "$n" "$(med 2)" "$(med 4)" "$ratios" "$(med 5)"
  done
fi
echo
echo "# goal: ratio >= 80% of the ceiling (half of fsyncrate queue ops/s, same nproc, same run, same filesystem)"
