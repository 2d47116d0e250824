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
#   1. fsyncrate queue DIR N SECONDS            -> ops/s, ceiling = ops/s / 2;
#   2. sync, wait SETTLE seconds (see below);
#   3. a fresh sandbox (tools/sandbox), then qq-inject-loop -p N -t SECONDS
#      -> msgs/s through qq_open/qq_close (posix_spawn of the sandbox's
#      bin/qmail-queue, two pipes), as qmail-inject and qmail-smtpd do;
#   4. for each LABEL=PATH of EXTRA_QQ: a fresh sandbox and the same run with
#      QMAILQUEUE=PATH (to compare other builds of qmail-queue in the same run).
# Before each measurement it waits (at most QUIET_WAIT s, default 60) for a
# second with the machine under QUIET_PCT % busy (default 10), and reports
# that second's busy %.  Prints one row per run and the medians over the reps.
#
# Why SETTLE (default 65): without a journal (this VM's ext4 has none), the
# ext4 inode allocator will not reuse an inode freed less than 60 s ago (300 s
# while its inode-table block is dirty) and scans past every such inode on
# each create (recently_deleted() in fs/ext4/ialloc.c).  fsyncrate unlinks
# all its files when it ends, so whatever runs right after it pays for
# thousands of skipped inodes per create: measured here, -20 % msgs/s.  The
# sandboxes are kept until the end for the same reason.  It also settles
# once before the first measurement.  SETTLE=0 skips it.
#
# Arguments: SECONDS per measurement (default 10), REPS (default 3).
# Environment: BENCH_DIR (default /var/tmp: the filesystem measured; both
# fsyncrate and the sandboxes go in one temp dir under it), FSYNCRATE_C
# (default ../shared/bench/fsyncrate.c next to the checkout; when absent the
# bench is skipped with exit 0), MAXCOUNT (cap of messages/ops per process,
# default 1000000), SIZE (message size in bytes, default 4096), SETTLE,
# QUIET_PCT, QUIET_WAIT, EXTRA_QQ ("label=/path/to/qmail-queue ..."),
# QS6_BUILD (programs, default build/ of this tree, made with `make` first),
# VARIANTS=1: also build, from the same sources into the temp dir, and
# measure "static" (glibc, -static, libskarnet.a) and, when musl-gcc is
# installed (Debian musl-tools), "musl" (musl libc, -static, linked against
# Debian's glibc-built libskarnet.a plus a shim for its one fortify symbol:
# an experiment to price glibc's start-up, not a supported build).
#
# Every loop is bounded by count and by time, and every measurement runs
# under timeout(1).  Everything is local (no network).  The temp dir is
# removed on exit.  Not part of `make check`: run it by hand.
set -eu

secs=${1:-10}
reps=${2:-3}
usage() { echo "usage: $0 [SECONDS] [REPS]" >&2; exit 100; }
case "$secs" in ''|*[!0-9]*) usage ;; esac
case "$reps" in ''|*[!0-9]*) usage ;; esac
if [ "$secs" -lt 1 ] || [ "$secs" -gt 600 ]; then echo "$0: SECONDS must be 1..600" >&2; exit 100; fi
if [ "$reps" -lt 1 ] || [ "$reps" -gt 20 ]; then echo "$0: REPS must be 1..20" >&2; exit 100; fi

top=$(cd "$(dirname "$0")/../.." && pwd)
fsyncrate_c=${FSYNCRATE_C:-$top/../shared/bench/fsyncrate.c}
bench_dir=${BENCH_DIR:-/var/tmp}
maxcount=${MAXCOUNT:-1000000}
size=${SIZE:-4096}
settle_s=${SETTLE:-65}
quiet_pct=${QUIET_PCT:-10}
quiet_wait=${QUIET_WAIT:-60}
extra_qq=${EXTRA_QQ:-}
build=${QS6_BUILD:-$top/build}
cc=${CC:-cc}
for x in "$settle_s" "$quiet_pct" "$quiet_wait"; do
  case "$x" in ''|*[!0-9]*) echo "$0: SETTLE, QUIET_PCT and QUIET_WAIT are whole numbers" >&2; exit 100 ;; esac
done
[ "$quiet_wait" -le 600 ] || { echo "$0: QUIET_WAIT must be 0..600" >&2; exit 100; }
[ "$settle_s" -le 600 ] || { echo "$0: SETTLE must be 0..600" >&2; exit 100; }

if [ ! -f "$fsyncrate_c" ]; then
  echo "qmail-queue-rate: SKIP: $fsyncrate_c is absent (set FSYNCRATE_C to the shared bench's fsyncrate.c): no ceiling, nothing measured"
  exit 0
fi
for e in $extra_qq; do
  case "$e" in
    *=/*) [ -x "${e#*=}" ] || { echo "$0: EXTRA_QQ: ${e#*=} is not executable" >&2; exit 100; } ;;
    *) echo "$0: EXTRA_QQ entries are LABEL=/absolute/path" >&2; exit 100 ;;
  esac
done

if [ -z "${QS6_BUILD:-}" ]; then
  make -s -C "$top" all >&2
fi
if [ ! -x "$build/bin/qmail-queue" ] || [ ! -f "$build/libqmail-s6.a" ]; then
  echo "qmail-queue-rate: fatal: no build in $build" >&2; exit 111
fi

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

# Other builds of the same qmail-queue.c, to see what start-up costs.
if [ "${VARIANTS:-0}" = 1 ]; then
  march=$("$cc" -print-multiarch 2>/dev/null || true)
  skalib=/usr/lib/$march/libskarnet.a
  skainc=/usr/include/$march
  [ -f "$skainc/skalibs/skalibs.h" ] || skainc=/usr/include
  vflags=(-O2 -std=c11 -D_GNU_SOURCE "-I$top/src/include" "-I$build/gen")
  if [ -f "$skalib" ] &&
     "$cc" "${vflags[@]}" -static -o "$work/qmail-queue-static" "$top/src/queue/qmail-queue.c" \
       "$build/libqmail-s6.a" "$skalib" 2>"$work/static.err"; then
    extra_qq="$extra_qq static=$work/qmail-queue-static"
  else
    echo "qmail-queue-rate: no static variant (no $skalib or link failed)" >&2
  fi
  if command -v musl-gcc >/dev/null 2>&1 && [ -f "$skalib" ]; then
    mkdir -p "$work/musl/inc"
    ln -s "$skainc/skalibs" "$work/musl/inc/skalibs"
    printf '#include <fcntl.h>\nint __open_2 (char const *p, int f) { return open(p, f) ; }\n' > "$work/musl/shim.c"
    if musl-gcc "${vflags[@]}" -I"$work/musl/inc" -static -o "$work/qmail-queue-musl" \
         "$top/src/queue/qmail-queue.c" "$top"/src/lib/*.c "$work/musl/shim.c" "$skalib" 2>"$work/musl.err"; then
      extra_qq="$extra_qq musl=$work/qmail-queue-musl"
    else
      echo "qmail-queue-rate: no musl variant (link failed: $(head -c 300 "$work/musl.err"))" >&2
    fi
  else
    echo "qmail-queue-rate: no musl variant (musl-gcc not installed: apt-get install musl-tools)" >&2
  fi
fi

# CPU busy of the whole machine, in %, between two snapshots of /proc/stat.
cpu_snap() { awk '/^cpu /{ idle=$5+$6; t=0; for(i=2;i<=NF;i++) t+=$i; print t, idle }' /proc/stat; }
cpu_busy() { # "t0 idle0" "t1 idle1"
  echo "$1 $2" | awk '{ dt=$3-$1; di=$4-$2; if (dt>0) printf "%.0f", 100*(dt-di)/dt; else print "?" }'
}
field() { # KEY LINE
  echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p"
}
settle() {
  sync
  [ "$settle_s" -eq 0 ] || sleep "$settle_s"
}
# Waits (at most QUIET_WAIT seconds) for a second in which the machine is less
# than QUIET_PCT % busy, so that other work does not share the measurement;
# sets $pre to the busy % of the last second before it starts.
quiet() {
  local i=0 a b
  while :; do
    a=$(cpu_snap); sleep 1; b=$(cpu_snap)
    pre=$(cpu_busy "$a" "$b")
    if [ "$pre" = "?" ] || [ "$pre" -lt "$quiet_pct" ] || [ "$i" -ge "$quiet_wait" ]; then break; fi
    i=$((i + 1))
  done
}

fs=$(df -PT "$work" | awk 'NR==2{print $2" on "$1" mounted at "$7}')
journal=$(cat "/sys/fs/ext4/$(df -P "$work" | awk 'NR==2{sub("/dev/","",$1); print $1}')/journal_task" 2>/dev/null || echo '?')
echo "# qmail-queue injection rate vs qmail-format ceiling"
echo "# date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')  host: $(uname -n)  kernel: $(uname -r)  nproc: $(nproc)"
echo "# dir: $work ($fs, ext4 journal task: ${journal:-none})"
echo "# commit: $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet HEAD -- src 2>/dev/null || echo ' (src/ modified)')"
echo "# seconds per measurement: $secs, reps: $reps, settle: $settle_s s, message: $size bytes, 1 recipient"
echo "# fsyncrate: $fsyncrate_c"
[ -z "$extra_qq" ] || echo "# extra qmail-queue builds: $extra_qq"
echo "# cols: qq cpu = qmail-queue CPU us/msg (getrusage of children); client cpu = injector's own us/msg;"
echo "#       busy%, fsbus% = whole machine, during the injector run, during the fsyncrate run;"
echo "#       pre% = whole machine in the second before the injector run / the fsyncrate run"
echo
row() { printf '%-3s %-10s %-3s %9s %10s %9s %7s %8s %8s %7s %7s %6s %6s %7s\n' "$@"; }
row rep build inj 'qq msg/s' 'queue op/s' ceiling ratio 'qq cpu' 'cl cpu' 'p50 ms' 'p99 ms' busy% fsbus% pre%

results=$work/results
: > "$results"
settle
k=0
rep=1
while [ "$rep" -le "$reps" ]; do
  for n in 1 2; do
    quiet; fspre=$pre
    c0=$(cpu_snap)
    fsl=$(timeout -k 5 $((secs + 120)) "$work/fsyncrate" queue "$work/fs" "$n" "$secs" "$maxcount")
    c1=$(cpu_snap)
    fsbusy=$(cpu_busy "$c0" "$c1")
    echo "#   fsyncrate: $fsl" >&2
    ops=$(field ops_per_s "$fsl")
    ceil=$(awk -v o="$ops" 'BEGIN{printf "%.1f", o/2}')
    settle
    for v in "default=" $extra_qq; do
      label=${v%%=*}; qq=${v#*=}
      k=$((k + 1))
      home=$work/home$k
      QS6_BUILD=$build "$top/tools/sandbox" "$home" bench.example.test >/dev/null
      sync
      quiet
      c0=$(cpu_snap)
      qql=$(QMAILHOME=$home QMAILQUEUE=$qq timeout -k 5 $((secs + 120)) "$work/qq-inject-loop" \
        -p "$n" -t "$secs" -n "$maxcount" -s "$size" -f bench@bench.example.test \
        bmain@bench.example.test)
      c1=$(cpu_snap)
      busy=$(cpu_busy "$c0" "$c1")
      echo "#   injector ($label): $qql" >&2
      queued=$(find "$home/queue/todo" -type f | wc -l)
      msgs=$(field msgs "$qql")
      if [ "$queued" -ne "$msgs" ]; then
        echo "qmail-queue-rate: fatal: injector says $msgs queued, todo/ holds $queued" >&2
        exit 111
      fi
      rate=$(field msgs_per_s "$qql")
      ratio=$(awk -v r="$rate" -v c="$ceil" 'BEGIN{ if (c>0) printf "%.1f%%", 100*r/c; else print "?" }')
      p50=$(awk -v x="$(field p50_us "$qql")" 'BEGIN{printf "%.2f", x/1000}')
      p99=$(awk -v x="$(field p99_us "$qql")" 'BEGIN{printf "%.2f", x/1000}')
      row "$rep" "$label" "$n" "$rate" "$ops" "$ceil" "$ratio" "$(field qq_cpu_us "$qql")" \
        "$(field client_cpu_us "$qql")" "$p50" "$p99" "$busy" "$fsbusy" "$pre/$fspre"
      echo "$label $n $rate $ops $ceil $(field qq_cpu_us "$qql") $(field client_cpu_us "$qql")" >> "$results"
    done
  done
  rep=$((rep + 1))
done

# median (min-max) of column C of the result lines of build L with N injectors
med() { # L N C
  awk -v l="$1" -v n="$2" -v c="$3" '$1==l && $2==n {print $c}' "$results" | sort -g |
    awk '{a[NR]=$1} END{ if (!NR) exit; m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f (%.1f-%.1f)", m, a[1], a[NR] }'
}
medratio() { # L N
  awk -v l="$1" -v n="$2" '$1==l && $2==n && $5>0 {printf "%.1f\n", 100*$3/$5}' "$results" | sort -g |
    awk '{a[NR]=$1} END{ if (!NR) exit; m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f%% (%.1f-%.1f)", m, a[1], a[NR] }'
}
echo
echo "# medians over $reps rep(s) (min-max); ratio = qq msg/s / ceiling, per rep"
printf '%-10s %-3s %-24s %-24s %-24s %s\n' build inj 'qq msg/s' 'ceiling' 'ratio' 'qq cpu us/msg'
for v in "default=" $extra_qq; do
  label=${v%%=*}
  for n in 1 2; do
    printf '%-10s %-3s %-24s %-24s %-24s %s\n' "$label" "$n" "$(med "$label" "$n" 3)" \
      "$(med "$label" "$n" 5)" "$(medratio "$label" "$n")" "$(med "$label" "$n" 6)"
  done
done
echo
echo "# goal: ratio >= 80% of the ceiling (half of fsyncrate queue ops/s, same nproc, same run, same filesystem)"
