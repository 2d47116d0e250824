#!/bin/bash
# tests/bench/local-delivery.sh [REPS]
#
# The benchmarks of the issue "The scheduler and local delivery", qmail-s6
# side by side with Postfix in the same run, printed as ratios.
#
#   ingest   N (5000) messages of 4 KB injected locally to one user, P at a
#            time for each P in CONC ("1 4"): qmail-inject into a sandbox with
#            qmail-start running, and Postfix's sendmail (postdrop) into the
#            isolated instance of postfix-bench.sh.  Wall time from the first
#            injection until all N are in the user's Maildir, messages per
#            second, and CPU per message of the whole process tree: the
#            daemons (cgroup, cg.sh: everything started by qmail-start or by
#            Postfix's master, including processes that exited) plus the
#            injectors (getrusage of bench-runpar's children: qmail-inject +
#            qmail-queue, sendmail + postdrop).  Peak summed PSS of the
#            daemons (memsample.py).
#   fanout   ONE message to NRCPT (500) local users, injected with all the
#            recipients on the command line: time from the injection until
#            every one of the NRCPT Maildirs holds it.
#   stages   (not in the default TESTS) the ingest run taken apart: N
#            messages injected while the MTA's scheduler is stopped
#            (qmail-start not running; Postfix stopped, so its sendmail
#            leaves them in maildrop/), then the MTA started and timed until
#            all N are delivered: injection alone and delivery alone, in
#            msgs/s and CPU ms per message.
#   relay    (remote delivery; not in the default TESTS) N (5000) messages of
#            4 KB injected locally, P at a time for each P in CONC, to
#            user@remote.example: qmail-s6 routes them with control/smtproutes
#            ":127.0.0.1:2526", Postfix with its relayhost [127.0.0.1]:2526,
#            both to Postfix's smtp-sink there (shared sink.sh); time until the
#            sink has seen N recipients and the queue is empty, msgs/s, CPU.
#   rfanout  (remote; not in the default TESTS) ONE message to RRCPT (500)
#            recipients user{i}@d{i mod RDOM}.example (RDOM 50 domains), routed
#            as for relay: time until the sink has seen all RRCPT recipients,
#            and the number of SMTP transactions (qmail-s6 batches recipients
#            of one domain, control/remotebatch; Postfix its next hop).
#            tests/bench/remote-delivery.sh runs these two.
#   backlog  BACKLOG (100 000) deferred messages already in the queue, for a
#            user whose delivery always fails temporarily (qmail: .qmail
#            "|exit 111"; Postfix: .forward "|exit 75;"), with their retry
#            times in the future ("future") or due ("due"); the MTA is
#            started, and one new local message is injected DELAY1 (1) s after
#            it is ready and another DELAY2 (15) s after: time from each
#            injection until the message is in its Maildir (goal < 2 s).
#            qmail's backlog is written straight into the queue as
#            tests/sched/starvation.t does (mess/, info/ born an hour ago,
#            local/ whose mtime is the retry time).  Postfix's is one message
#            that Postfix itself deferred, copied BACKLOG-1 times into
#            deferred/ (mode 0700, owner postfix), renamed to match their
#            inodes by the postsuper structure check that "postfix start"
#            runs; a deferred file's mtime is its retry time there too.
#
# Setup, all on this machine: a fresh build (make O=WORK/build, so that edits
# under way in src/ during the run do not change what is measured), a
# sandbox (tools/sandbox, FQDN bench.local) whose users/assign maps bmain,
# bench1..benchNRCPT and bklog to homes under WORK owned by the sandbox user,
# each with a Maildir; qmail-start ./Maildir/ runs in cgroup qs6bench with
# the default concurrencylocal (10).  Postfix: postfix-bench.sh setup/start
# (users bmain, bench1..bench500 of mkusers.sh, homes /var/tmp/mailhome, stock
# local_destination_concurrency_limit=2), plus the user bklog (created here,
# home /var/tmp/mailhome/bklog).  /etc/postfix/main.cf is created (one line)
# when the Debian package left none, since postfix-bench.sh needs it.
# Both MTAs stay up (idle) during the other's runs; the order of the MTAs
# alternates from rep to rep.  Every Maildir is recreated empty before each
# run; the old ones are moved under WORK and removed at the end, and ingest
# runs wait SETTLE (65) s first: this VM's ext4 has no journal, and its inode
# allocator scans past every inode freed less than 60 s ago on each create
# (see qmail-queue-rate.sh), so whatever ran just before would slow the next
# run down.
#
# Needs root (cgroups, users, Postfix), Postfix 3.x (Debian package
# "postfix"; without it the qmail figures are printed alone), python3, cc,
# and the shared bench scripts (SHARED_BENCH, default ../shared/bench next
# to the checkout: postfix-bench.sh, cg.sh, memsample.py, waitfor.py,
# lib.sh); when that directory is absent it says so and exits 0.
#
# Environment: N, CONC, SIZE (4096), NRCPT, BACKLOG, TESTS ("ingest fanout
# backlog"), SETTLE, DELAY1, DELAY2, TIMEOUT (per wait, 300 s), PF (0: no
# Postfix), QS6_BUILD (use these programs instead of building), QUIET_PCT
# and QUIET_WAIT (before each run, wait at most QUIET_WAIT (30) s for a
# second with the machine under QUIET_PCT (15) % busy; every row says the
# busy % of that last second, busy_before_pct), VARIANTS=1 (also measure
# qmail-s6 with qmail-local, qmail-inject and qmail-queue built statically
# against musl, as MTA "qmusl": needs musl-gcc (Debian musl-tools)).  Everything
# is bounded in count and time; nothing leaves the machine (local delivery
# only; the Postfix instance listens on 127.0.0.1 and relays nowhere that is
# reached).  On exit (trap) it stops what it started, empties the Postfix
# queue of what it put there, removes its cgroup and WORK.  Not part of
# make check: run it by hand, as root.
set -eu

reps=${1:-3}
case "$reps" in ''|*[!0-9]*) echo "usage: $0 [REPS]" >&2; exit 100 ;; esac
[ "$reps" -ge 1 ] && [ "$reps" -le 20 ] || { echo "$0: REPS must be 1..20" >&2; exit 100; }

top=$(cd "$(dirname "$0")/../.." && pwd)
shared=${SHARED_BENCH:-$top/../shared/bench}
N=${N:-5000} CONC=${CONC:-1 4} SIZE=${SIZE:-4096} NRCPT=${NRCPT:-500} BACKLOG=${BACKLOG:-100000}
RRCPT=${RRCPT:-500} RDOM=${RDOM:-50} SINKPORT=2526
TESTS=${TESTS:-ingest fanout backlog} SETTLE=${SETTLE:-65} DELAY1=${DELAY1:-1} DELAY2=${DELAY2:-15}
TIMEOUT=${TIMEOUT:-300} PF=${PF:-1} QUIET_PCT=${QUIET_PCT:-15} QUIET_WAIT=${QUIET_WAIT:-30}
for v in "$RRCPT" "$RDOM" "$N" "$SIZE" "$NRCPT" "$BACKLOG" "$SETTLE" "$DELAY1" "$DELAY2" "$TIMEOUT" "$QUIET_PCT" "$QUIET_WAIT" $CONC; do
  case "$v" in ''|*[!0-9]*) echo "$0: N CONC SIZE NRCPT BACKLOG SETTLE DELAY1 DELAY2 TIMEOUT are whole numbers" >&2; exit 100 ;; esac
done
[ "$N" -le 100000 ] && [ "$NRCPT" -le 500 ] && [ "$RRCPT" -le 10000 ] && [ "$RDOM" -ge 1 ] && [ "$BACKLOG" -le 1000000 ] && [ "$TIMEOUT" -le 3600 ] &&
  [ "$SETTLE" -le 600 ] && [ "$DELAY2" -le 600 ] && [ "$QUIET_WAIT" -le 600 ] || { echo "$0: a count or a time is out of range" >&2; exit 100; }

if [ ! -d "$shared" ] || [ ! -x "$shared/cg.sh" ]; then
  echo "local-delivery: SKIP: $shared is absent (SHARED_BENCH=path of the shared bench scripts): nothing measured"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "local-delivery: SKIP: must run as root (cgroups, users, Postfix): nothing measured"
  exit 0
fi
if [ "$PF" = 1 ] && ! command -v postfix >/dev/null 2>&1; then
  echo "local-delivery: Postfix is not installed (apt-get install postfix): qmail-s6 figures only, no ratios" >&2
  PF=0
fi

PFC=/var/tmp/pfbench/etc PFQ=/var/tmp/pfbench/queue PFLOG=/var/tmp/pfbench/maillog MH=/var/tmp/mailhome
CG=qs6bench
work= qpid= pf_started=0 pf_backlog=0 pf_was_running=0

log() { echo "# $*" >&2; }
cleanup() {
  set +e
  qs_stop >/dev/null 2>&1
  [ -n "${sinkdump:-}" ] && "$shared/sink.sh" stop "$SINKPORT" >/dev/null 2>&1 && rm -rf "$(dirname "$sinkdump")"
  if [ "$PF" = 1 ]; then
    if [ "$pf_backlog" = 1 ]; then
      # the backlog goes (the queue was empty when we began); then the defer
      # logs that a message being deferred meanwhile may have left behind
      pf_running || "$shared/postfix-bench.sh" start >/dev/null 2>&1
      postsuper -c "$PFC" -d ALL >/dev/null 2>&1
      "$shared/postfix-bench.sh" stop >/dev/null 2>&1
      find "$PFQ/defer" "$PFQ/bounce" "$PFQ/trace" -type f 2>/dev/null | while read -r f; do
        [ -n "$(find "$PFQ/incoming" "$PFQ/active" "$PFQ/deferred" "$PFQ/hold" "$PFQ/maildrop" -name "${f##*/}" 2>/dev/null)" ] || rm -f "$f"
      done
      [ "$pf_was_running" = 1 ] && "$shared/postfix-bench.sh" start >/dev/null 2>&1
    elif [ "$pf_started" = 1 ] && [ "$pf_was_running" = 0 ]; then "$shared/postfix-bench.sh" stop >/dev/null 2>&1; fi
  fi
  for i in $(seq 50); do [ -z "$("$shared/cg.sh" pids "$CG" 2>/dev/null)" ] && break; sleep 0.1; done
  "$shared/cg.sh" destroy "$CG" 2>/dev/null
  if [ -n "$work" ] && [ -d "$work" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

work=$(mktemp -d /var/tmp/local-delivery.XXXXXX)
chmod 0755 "$work"
mkdir "$work/trash"
ntrash=0
RESULTS=$work/results   # lib.sh makes this dir; the rows are printed and kept in WORK/rows instead
. "$shared/lib.sh"
command -v stats >/dev/null || { echo "local-delivery: fatal: cannot use $shared/lib.sh" >&2; exit 111; }

# ---------------------------------------------------------------- build
if [ -n "${QS6_BUILD:-}" ]; then build=$QS6_BUILD
else
  build=$work/build
  make -s -C "$top" O="$build" all >&2
fi
[ -x "$build/bin/qmail-start" ] || { echo "local-delivery: fatal: no programs in $build/bin" >&2; exit 111; }
cc -O2 -Wall -o "$work/bench-runpar" "$top/tests/bench/bench-runpar.c"

# VARIANTS=1: the same qmail-local, qmail-inject and qmail-queue sources built
# statically against musl (an experiment to price glibc's start-up, as in
# qmail-queue-rate.sh: Debian's glibc-built libskarnet.a plus a shim for its
# one fortify symbol; not a supported build), measured as MTA "qmusl".
musl=
if [ "${VARIANTS:-0}" = 1 ]; then
  march=$(cc -print-multiarch 2>/dev/null || true)
  skalib=/usr/lib/$march/libskarnet.a
  skainc=/usr/include/$march; [ -f "$skainc/skalibs/skalibs.h" ] || skainc=/usr/include
  if command -v musl-gcc >/dev/null 2>&1 && [ -f "$skalib" ]; then
    mkdir -p "$work/musl/inc"
    ln -s "$skainc/skalibs" "$work/musl/inc/skalibs"
    printf '#include <fcntl.h>\nint __open_2 (char const *p, int f) { return open(p, f) ; }\n' > "$work/musl/shim.c"
    musl=$work/musl
    for p in deliver/qmail-local inject/qmail-inject queue/qmail-queue; do
      if ! musl-gcc -O2 -std=c11 -D_GNU_SOURCE -I"$top/src/include" -I"$build/gen" -I"$work/musl/inc" -static \
           -o "$work/musl/${p#*/}" "$top/src/$p.c" "$top"/src/lib/*.c "$work/musl/shim.c" "$skalib" 2>"$work/musl/err"; then
        echo "local-delivery: no musl variant (link of ${p#*/} failed: $(head -c 300 "$work/musl/err"))" >&2
        musl=; break
      fi
    done
  else
    echo "local-delivery: no musl variant (needs musl-gcc from musl-tools and $skalib)" >&2
  fi
fi
runpar=$work/bench-runpar

# A 4 KB message (headers included); the injectors add their own fields.
python3 - "$work/msg" "$SIZE" <<'EOF'
import sys
path, size = sys.argv[1], int(sys.argv[2])
m = "From: bench@client.local\nTo: bmain@bench.local\nSubject: local delivery bench\n\n"
while len(m) < size:
    k = min(73, size - len(m))
    m += "x" * (k - 1) + "\n"
open(path, "w").write(m)
EOF
printf 'From: bench@client.local\nSubject: new mail\n\nfresh\n' > "$work/newmsg"

# ---------------------------------------------------------------- qmail-s6 sandbox
H=$work/home
QS6_BUILD=$build "$top/tools/sandbox" "$H" bench.local >/dev/null
IFS=: read -r quser quid qgid < "$H/sandbox"
QH=$work/mh
install -d -m 0755 "$QH"
{
  for u in bmain bklog $(seq -f 'bench%g' 1 "$NRCPT"); do
    install -d -o "$quid" -g "$qgid" -m 0700 "$QH/$u"
    echo "=$u:$quser:$quid:$qgid:$QH/$u:::"
  done
  echo .
} > "$H/users/assign"
QMAILHOME=$H "$H/bin/qmail-newu"
printf '|exit 111\n' > "$QH/bklog/.qmail"
# remote mail goes to the sink of the remote tests; no DNS query can leave
# the machine (the relay is an address; DNSCACHEIP is a closed loopback port)
printf ':127.0.0.1:%s\n' "$SINKPORT" > "$H/control/smtproutes"
chown "$quid:$qgid" "$QH/bklog/.qmail"; chmod 0644 "$QH/bklog/.qmail"
"$shared/cg.sh" create "$CG"

qs_running() { [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; }
qs_start() {
  local n0 i
  n0=$(grep -c '^status: local 0/' "$work/send.log" 2>/dev/null || true)
  (cd / && QMAILHOME=$H DNSCACHEIP=127.0.0.1:1 exec "$shared/cg.sh" exec "$CG" "$H/bin/qmail-start" ./Maildir/) >> "$work/send.log" 2>&1 &
  qpid=$!
  for i in $(seq 200); do
    [ "$(grep -c '^status: local 0/' "$work/send.log" 2>/dev/null || true)" -gt "${n0:-0}" ] && return 0
    qs_running || break
    sleep 0.05
  done
  echo "local-delivery: fatal: qmail-start did not come up; log:" >&2; tail -5 "$work/send.log" >&2; exit 111
}
qs_stop() {
  local i
  qs_running || { qpid=; return 0; }
  kill -TERM "$qpid"
  for i in $(seq 1200); do qs_running || break; sleep 0.1; done
  qs_running && kill -KILL "$qpid"
  wait "$qpid" 2>/dev/null || true
  for i in $(seq 100); do [ -z "$("$shared/cg.sh" pids "$CG")" ] && break; sleep 0.1; done
  qpid=
}
qs_qcount() {   # messages not finished yet: todo/ + info/
  find "$H/queue/todo" "$H/queue/info" -type f 2>/dev/null | wc -l
}

# ---------------------------------------------------------------- Postfix
pf_running() { [ -f "$PFQ/pid/master.pid" ] && kill -0 "$(tr -dc 0-9 < "$PFQ/pid/master.pid")" 2>/dev/null; }
pf_ready() {   # master up and its qmgr running
  local i p
  for i in $(seq 600); do
    if pf_running; then
      for p in $("$shared/cg.sh" pids pfbench); do [ "$(cat "/proc/$p/comm" 2>/dev/null)" = qmgr ] && return 0; done
    fi
    sleep 0.05
  done
  echo "local-delivery: fatal: Postfix did not come up" >&2; exit 111
}
pf_qcount() { "$shared/postfix-bench.sh" qcount; }
if [ "$PF" = 1 ]; then
  [ -f /etc/postfix/main.cf ] || printf '# made by qmail-s6 tests/bench/local-delivery.sh: postfix-bench.sh needs it\ncompatibility_level = 3.6\n' > /etc/postfix/main.cf
  "$shared/postfix-bench.sh" setup >/dev/null
  getent passwd bklog >/dev/null || useradd -M -N -g bench -d "$MH/bklog" -s /usr/sbin/nologin bklog
  install -d -o bklog -g bench -m 0700 "$MH/bklog"
  printf '"|exit 75;"\n' > "$MH/bklog/.forward"
  chown bklog:bench "$MH/bklog/.forward"; chmod 0600 "$MH/bklog/.forward"
  if pf_running; then pf_was_running=1; else "$shared/postfix-bench.sh" start; fi
  pf_started=1
  pf_ready
  if [ "$(pf_qcount)" != 0 ]; then
    echo "local-delivery: fatal: the Postfix bench queue is not empty ($(pf_qcount)); postfix-bench.sh clean empties it" >&2
    exit 111
  fi
fi

# ---------------------------------------------------------------- helpers
# fresh DIR OWNER: an empty Maildir at DIR; the old one is kept under WORK
fresh() {
  local d=$1 own=$2
  if [ -e "$d" ]; then ntrash=$((ntrash + 1)); mv "$d" "$work/trash/$ntrash"; fi
  install -d -o "${own%%:*}" -g "${own##*:}" -m 0700 "$d" "$d/tmp" "$d/new" "$d/cur"
}
isq() { [ "$1" = qmail ] || [ "$1" = qmusl ]; }   # qmail-s6, either build
cpu() { if isq "$1"; then "$shared/cg.sh" cpu "$CG"; else "$shared/cg.sh" cpu pfbench; fi; }
procsfile() { if isq "$1"; then "$shared/cg.sh" procsfile "$CG"; else "$shared/cg.sh" procsfile pfbench; fi; }
qcount() { if isq "$1"; then qs_qcount; else pf_qcount; fi; }
# inject MTA N P FILE RCPT...: N runs, P at a time, of MTA's injector with
# FILE on stdin, under bench-runpar
inject() {
  local m=$1 n=$2 p=$3 f=$4; shift 4
  if isq "$m"; then
    QMAILHOME=$H timeout "$TIMEOUT" "$runpar" -n "$n" -p "$p" -t "$TIMEOUT" -i "$f" -- \
      "$H/bin/qmail-inject" -f bench@client.local "$@"
  else
    MAIL_CONFIG=$PFC timeout "$TIMEOUT" "$runpar" -n "$n" -p "$p" -t "$TIMEOUT" -i "$f" -- \
      /usr/sbin/sendmail -f bench@client.local "$@"
  fi
}
mdir() { if isq "$1"; then echo "$QH/$2/Maildir"; else echo "$MH/$2/Maildir"; fi; }
mown() { if isq "$1"; then echo "$quid:$qgid"; else echo "$2:bench"; fi; }
waitq() { local m=$1 i; for i in $(seq $((TIMEOUT * 10))); do [ "$(qcount "$m")" = 0 ] && return 0; sleep 0.1; done; return 1; }
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
mtas() {   # the MTAs of rep $1, in alternating order
  local l=qmail
  [ -n "$musl" ] && l="$l qmusl"
  [ "$PF" = 1 ] && l="$l postfix"
  if [ $(($1 % 2)) = 1 ]; then echo "$l"; else echo "$l" | tr ' ' '\n' | tac | tr '\n' ' '; fi
}
R=$work/rows; : > "$R"
row() { echo "$*" | tee -a "$R"; }
col() { # TEST MTA EXTRA KEY : values of KEY over the rows of TEST, MTA (and EXTRA, e.g. conc=4)
  grep "^$1 mta=$2 " "$R" | grep -- "$3" | tr ' ' '\n' | sed -n "s/^$4=//p"
}
med() { col "$@" | stats | sed -n 's/^median=\([^ ]*\) min=\([^ ]*\) max=\([^ ]*\) n=\(.*\)/\1 (\2-\3, n=\4)/p'; }
medv() { col "$@" | stats | sed -n 's/^median=\([^ ]*\) .*/\1/p'; }
# quiet: wait (at most QUIET_WAIT s) for a second with the machine under
# QUIET_PCT % busy, so that other work shares the measurement as little as
# possible; sets $busy to the busy % of the last second before the run
quiet() {
  local i=0
  while :; do
    busy=$(cpubusy 1)
    [ "$busy" -lt "$QUIET_PCT" ] || [ "$i" -ge "$QUIET_WAIT" ] && break
    i=$((i + 1))
  done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a != "" && b != "" && b > 0) printf "%.2f", a / b; else print "-" }'; }

echo "# local-delivery bench: qmail-s6 vs Postfix, same run"
echo "# date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')  host: $(uname -n)  kernel: $(uname -r)  nproc: $(nproc)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# commit: $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$top" diff --quiet HEAD -- src 2>/dev/null || echo ' (src/ modified)')  build: $build"
[ "$PF" = 1 ] && echo "# postfix: $(postconf -d -h mail_version 2>/dev/null)  instance $PFC (postfix-bench.sh), local_destination_concurrency_limit=$(postconf -c "$PFC" -h local_destination_concurrency_limit)"
echo "# qmail-s6: sandbox $H, concurrencylocal default, defaultdelivery ./Maildir/"
echo "# reps=$reps N=$N CONC='$CONC' SIZE=$SIZE NRCPT=$NRCPT BACKLOG=$BACKLOG TESTS='$TESTS' SETTLE=$SETTLE"

qs_start

# ================================================================ ingest
ingest_run() { # MTA REP CONC
  local m=$1 r=$2 p=$3 md busy c0 c1 t0 t1 t2 out w stop msp mem ok=1
  md=$(mdir "$m" bmain)
  fresh "$md" "$(mown "$m" bmain)"
  sync; [ "$SETTLE" -gt 0 ] && sleep "$SETTLE"
  quiet
  stop=$work/memstop; rm -f "$stop"
  "$shared/memsample.py" "$(procsfile "$m")" "$stop" "$TIMEOUT" 0.25 > "$work/mem" &
  msp=$!
  c0=$(cpu "$m")
  t0=$(now)
  out=$(inject "$m" "$N" "$p" "$work/msg" bmain@bench.local) || ok=0
  t1=$(now)
  w=$("$shared/waitfor.py" maildir "$N" "$TIMEOUT" "$md") || ok=0
  t2=$(awk '{print $2}' <<<"$w")
  waitq "$m" || ok=0
  c1=$(cpu "$m")
  touch "$stop"; wait "$msp" || true
  mem=$(cat "$work/mem")
  awk -v m="$m" -v r="$r" -v p="$p" -v n="$N" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v c0="$c0" -v c1="$c1" \
      -v icpu="$(kv cpu_total_s "$out")" -v got="$(awk '{print $3}' <<<"$w")" -v busy="$busy" -v ok="$ok" -v mem="$mem" '
    BEGIN { split(c0, a, " "); split(c1, b, " "); split(mem, k, " ");
      d = b[3] - a[3]; tot = d + icpu; w = t2 - t0;
      printf "ingest mta=%s rep=%d conc=%d busy_before_pct=%s ok=%d delivered=%d/%d inject_s=%.3f deliver_s=%.3f msgs_per_s=%.1f daemon_cpu_s=%.2f inject_cpu_s=%.2f cpu_total_s=%.2f cpu_ms_per_msg=%.3f peak_pss_mib=%.1f peak_procs=%d\n",
        m, r, p, busy, ok, got, n, t1 - t0, w, n / w, d, icpu, tot, 1000 * tot / n, k[2] / 1024, k[3] }' | tee -a "$R"
}

# ================================================================ relay, rfanout
sinkdump=
sink_up() {
  [ -n "$sinkdump" ] && return 0
  sinkdump=/dev/shm/qs6bench-sink.$$/dump
  "$shared/sink.sh" start "$SINKPORT" "$sinkdump" || { echo "local-delivery: fatal: smtp-sink did not start" >&2; exit 111; }
}
sink_count() { grep -c '^X-Rcpt-Args:' "$sinkdump" 2>/dev/null || true; }
sink_transactions() { grep -c '^X-Mail-Args:' "$sinkdump" 2>/dev/null || true; }
relay_run() { # MTA REP CONC
  local m=$1 r=$2 p=$3 busy c0 c1 t0 t1 t2 out w ok=1
  sink_up
  rm -f "$sinkdump"
  sync; [ "$SETTLE" -gt 0 ] && sleep "$SETTLE"
  quiet
  c0=$(cpu "$m")
  t0=$(now)
  out=$(inject "$m" "$N" "$p" "$work/msg" user@remote.example) || ok=0
  t1=$(now)
  w=$("$shared/waitfor.py" sink "$N" "$TIMEOUT" "$sinkdump") || ok=0
  t2=$(awk '{print $2}' <<<"$w")
  waitq "$m" || ok=0
  c1=$(cpu "$m")
  awk -v m="$m" -v r="$r" -v p="$p" -v n="$N" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v c0="$c0" -v c1="$c1" \
      -v icpu="$(kv cpu_total_s "$out")" -v got="$(sink_count)" -v busy="$busy" -v ok="$ok" '
    BEGIN { split(c0, a, " "); split(c1, b, " ");
      d = b[3] - a[3]; tot = d + icpu; w = t2 - t0;
      printf "relay mta=%s rep=%d conc=%d busy_before_pct=%s ok=%d relayed=%d/%d inject_s=%.3f relay_s=%.3f msgs_per_s=%.1f daemon_cpu_s=%.2f inject_cpu_s=%.2f cpu_ms_per_msg=%.3f\n",
        m, r, p, busy, ok, got, n, t1 - t0, w, n / w, d, icpu, 1000 * tot / n }' | tee -a "$R"
}
rfanout_run() { # MTA REP
  local m=$1 r=$2 i busy c0 c1 t0 t1 t2 w ok=1 rc=()
  sink_up
  rm -f "$sinkdump"
  for i in $(seq 1 "$RRCPT"); do rc+=("user$i@d$((i % RDOM)).example"); done
  sync; sleep 1
  quiet
  c0=$(cpu "$m")
  t0=$(now)
  inject "$m" 1 1 "$work/msg" "${rc[@]}" > /dev/null || ok=0
  t1=$(now)
  w=$("$shared/waitfor.py" sink "$RRCPT" "$TIMEOUT" "$sinkdump") || ok=0
  t2=$(awk '{print $2}' <<<"$w")
  waitq "$m" || ok=0
  c1=$(cpu "$m")
  awk -v m="$m" -v r="$r" -v n="$RRCPT" -v nd="$RDOM" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v c0="$c0" -v c1="$c1" \
      -v got="$(sink_count)" -v tr="$(sink_transactions)" -v busy="$busy" -v ok="$ok" '
    BEGIN { split(c0, a, " "); split(c1, b, " ");
      printf "rfanout mta=%s rep=%d busy_before_pct=%s ok=%d rcpts=%d/%d domains=%d transactions=%d inject_s=%.3f all_relayed_s=%.3f daemon_cpu_s=%.2f\n",
        m, r, busy, ok, got, n, nd, tr, t1 - t0, t2 - t0, b[3] - a[3] }' | tee -a "$R"
}

# ================================================================ fanout
fanout_run() { # MTA REP
  local m=$1 r=$2 i d busy c0 c1 t0 t1 t2 w wp ok=1 rc=()
  local dirs=()
  for i in $(seq 1 "$NRCPT"); do d=$(mdir "$m" "bench$i"); dirs+=("$d"); fresh "$d" "$(mown "$m" "bench$i")"; rc+=("bench$i@bench.local"); done
  sync; sleep 1
  quiet
  c0=$(cpu "$m")
  "$shared/waitfor.py" eachmaildir "$TIMEOUT" "${dirs[@]}" > "$work/fanout.w" &
  wp=$!
  sleep 0.5   # waitfor.py is polling before the clock starts
  t0=$(now)
  inject "$m" 1 1 "$work/msg" "${rc[@]}" > /dev/null || ok=0
  t1=$(now)
  wait "$wp" || ok=0
  w=$(cat "$work/fanout.w"); t2=$(awk '{print $2}' <<<"$w")
  waitq "$m" || ok=0
  c1=$(cpu "$m")
  awk -v m="$m" -v r="$r" -v n="$NRCPT" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v c0="$c0" -v c1="$c1" \
      -v got="$(awk '{print $3}' <<<"$w")" -v busy="$busy" -v ok="$ok" '
    BEGIN { split(c0, a, " "); split(c1, b, " ");
      printf "fanout mta=%s rep=%d busy_before_pct=%s ok=%d maildirs=%d/%d inject_s=%.3f all_delivered_s=%.3f daemon_cpu_s=%.2f\n",
        m, r, busy, ok, got, n, t1 - t0, t2 - t0, b[3] - a[3] }' | tee -a "$R"
}

# ================================================================ stages
# The ingest run taken apart: N messages injected (P at a time, P = the last
# of CONC) while the MTA's scheduler is stopped, then the MTA started and
# timed until all N are delivered.  qmail-s6: qmail-start stopped, todo/
# fills; Postfix: stopped, sendmail's postdrop fills maildrop/.
stages_run() { # MTA REP
  local m=$1 r=$2 p=${CONC##* } md busy out t0 t1 t2 w c0 c1 ok=1
  md=$(mdir "$m" bmain)
  fresh "$md" "$(mown "$m" bmain)"
  if isq "$m"; then qs_stop; else "$shared/postfix-bench.sh" stop >/dev/null; fi
  sync; [ "$SETTLE" -gt 0 ] && sleep "$SETTLE"
  quiet
  t0=$(now)
  out=$(inject "$m" "$N" "$p" "$work/msg" bmain@bench.local 2>/dev/null) || ok=0
  t1=$(now)
  sync; sleep 1
  c0=$(cpu "$m")
  t2=$(now)
  if isq "$m"; then qs_start; else "$shared/postfix-bench.sh" start >/dev/null; pf_ready; fi
  w=$("$shared/waitfor.py" maildir "$N" "$TIMEOUT" "$md") || ok=0
  waitq "$m" || ok=0
  c1=$(cpu "$m")
  awk -v m="$m" -v r="$r" -v p="$p" -v n="$N" -v t0="$t0" -v t1="$t1" -v t2="$t2" -v t3="$(awk '{print $2}' <<<"$w")" \
      -v icpu="$(kv cpu_total_s "$out")" -v c0="$c0" -v c1="$c1" -v busy="$busy" -v ok="$ok" '
    BEGIN { split(c0, a, " "); split(c1, b, " ");
      printf "stages mta=%s rep=%d conc=%d busy_before_pct=%s ok=%d inject_only_s=%.3f inject_only_per_s=%.1f inject_cpu_ms_per_msg=%.3f deliver_only_s=%.3f deliver_only_per_s=%.1f deliver_cpu_ms_per_msg=%.3f\n",
        m, r, p, busy, ok, t1 - t0, n / (t1 - t0), 1000 * icpu / n, t3 - t2, n / (t3 - t2), 1000 * (b[3] - a[3]) / n }' | tee -a "$R"
}

# ================================================================ backlog
qs_backlog_write() {
  log "writing $BACKLOG deferred messages into the qmail-s6 queue"
  python3 - "$H/queue" "$BACKLOG" "$quid" "$qgid" <<'EOF'
import os, sys, time
q, n, uid, gid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
base = 9000000000          # far above any inode number qmail-queue hands out
birth = int(time.time()) - 3600
for i in range(n):
    mid = base + i
    split = str(mid % 23)
    for sub, data, mode in (("mess", b"Subject: backlog %d\n\nold\n" % i, 0o644),
                            ("info", b"Fold@example.org\0", 0o600),
                            ("local", b"Tbklog@bench.local\0", 0o600)):
        p = os.path.join(q, sub, split, str(mid))
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        os.write(fd, data)
        os.fchown(fd, uid, gid)
        os.close(fd)
        if sub == "info":
            os.utime(p, (birth, birth))
EOF
}
# set_mtimes DIR-GLOB-ROOT DEPTH-PATTERN CASE: retry times of the backlog
set_mtimes() { # qmail|postfix future|due
  python3 - "$1" "$2" "$H/queue/local" "$PFQ/deferred" <<'EOF'
import os, sys, time
m, case, qlocal, pfdef = sys.argv[1:5]
now = int(time.time())
t = now + 86400 if case == "future" else now - 3000
root = qlocal if m == "qmail" else pfdef
k = 0
for d in os.listdir(root):
    for f in os.listdir(os.path.join(root, d)):
        os.utime(os.path.join(root, d, f), (t, t)); k += 1
print(k)
EOF
}
pf_backlog_write() {
  local i f
  log "making $BACKLOG deferred messages in the Postfix queue"
  pf_backlog=1
  printf 'Subject: backlog\n\nold\n' | MAIL_CONFIG=$PFC /usr/sbin/sendmail -f old@example.org bklog@bench.local
  for i in $(seq 300); do [ -n "$(find "$PFQ/deferred" -type f 2>/dev/null)" ] && break; sleep 0.1; done
  f=$(find "$PFQ/deferred" -type f | head -1)
  [ -n "$f" ] || { echo "local-delivery: fatal: Postfix did not defer the backlog message" >&2; exit 111; }
  "$shared/postfix-bench.sh" stop
  python3 - "$f" "$PFQ/deferred" "$BACKLOG" <<'EOF'
import os, pwd, sys
src, root, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, "rb").read()
pw = pwd.getpwnam("postfix")
# FFFFF...: a microsecond field no real queue ID has, so no name can clash;
# "postfix start" (postsuper) renames each to match its inode
d = os.path.join(root, "F")
if not os.path.isdir(d):
    os.mkdir(d, 0o700)
    os.chown(d, pw.pw_uid, pw.pw_gid)
for i in range(n - 1):
    p = os.path.join(d, "FFFFF%X" % (0x10000000 + i))
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
    os.write(fd, data)
    os.fchown(fd, pw.pw_uid, pw.pw_gid)
    os.fchmod(fd, 0o700)
    os.close(fd)
EOF
  # What "postfix start" does first: postsuper renames each copy to match its
  # inode.  With maillog_file it then fails to write its log line (it runs as
  # postfix by then), so the first pass exits 1 after renaming; a second pass
  # must find nothing to do.
  postsuper -c "$PFC" >/dev/null 2>&1 || true
  postsuper -c "$PFC" || { echo "local-delivery: fatal: postsuper structure check of the backlog failed" >&2; exit 111; }
  [ "$(pf_qcount)" = "$BACKLOG" ] || { echo "local-delivery: fatal: Postfix queue holds $(pf_qcount), not $BACKLOG" >&2; exit 111; }
}
pf_unactive() {   # Postfix stopped: active/ID -> deferred/H/ID (active/ is not hashed; H = first character, hash_queue_depth 1)
  python3 - "$PFQ" <<'EOF'
import os, pwd, sys
q = sys.argv[1]
pw = pwd.getpwnam("postfix")
for f in os.listdir(os.path.join(q, "active")):
    src = os.path.join(q, "active", f)
    if not os.path.isfile(src):
        continue
    d = os.path.join(q, "deferred", f[0])
    if not os.path.isdir(d):
        os.mkdir(d, 0o700)
        os.chown(d, pw.pw_uid, pw.pw_gid)
    os.rename(src, os.path.join(d, f))
EOF
}
backlog_run() { # MTA REP CASE
  local m=$1 r=$2 c=$3 md ts tr t0 w l1 l2 nset logf off ndef tstop busy ok=1
  md=$(mdir "$m" bmain)
  fresh "$md" "$(mown "$m" bmain)"
  # a Postfix stopped while it retried leaves up to qmgr_message_active_limit
  # messages in active/; put them back in deferred/ (what qmgr does when it
  # defers them), so that every run starts with the whole backlog deferred
  [ "$m" = postfix ] && pf_unactive
  nset=$(set_mtimes "$m" "$c")
  sync; sleep 1
  quiet
  if isq "$m"; then logf=$work/send.log; else logf=$PFLOG; fi
  off=$(stat -c %s "$logf" 2>/dev/null || echo 0)
  ts=$(now)
  if isq "$m"; then qs_start; else "$shared/postfix-bench.sh" start >/dev/null; pf_ready; fi
  tr=$(now)
  sleep "$DELAY1"
  t0=$(now)
  inject "$m" 1 1 "$work/newmsg" bmain@bench.local > /dev/null || ok=0
  w=$("$shared/waitfor.py" maildir 1 "$TIMEOUT" "$md") || ok=0
  l1=$(fsec "$t0" "$(awk '{print $2}' <<<"$w")")
  sleep "$(awk -v a="$tr" -v b="$(now)" -v d="$DELAY2" 'BEGIN{s = a + d - b; printf "%.2f", (s > 0 ? s : 0)}')"
  t0=$(now)
  inject "$m" 1 1 "$work/newmsg" bmain@bench.local > /dev/null || ok=0
  w=$("$shared/waitfor.py" maildir 2 "$TIMEOUT" "$md") || ok=0
  l2=$(fsec "$t0" "$(awk '{print $2}' <<<"$w")")
  if isq "$m"; then
    ndef=$(tail -c +$((off + 1)) "$logf" | grep -c ': deferral: ' || true)
  else
    ndef=$(tail -c +$((off + 1)) "$logf" | grep -c 'to=<bklog@bench.local>.*status=deferred' || true)
  fi
  t0=$(now)
  if isq "$m"; then qs_stop; else "$shared/postfix-bench.sh" stop >/dev/null; fi
  tstop=$(fsec "$t0" "$(now)")
  row "backlog mta=$m rep=$r case=$c busy_before_pct=$busy ok=$ok backlog=$nset start_to_ready_s=$(fsec "$ts" "$tr") new1_after_ready_s=$DELAY1 new1_latency_s=$l1 new2_after_ready_s=$DELAY2 new2_latency_s=$l2 backlog_deferrals_meanwhile=$ndef stop_s=$tstop"
}

# bins dyn|musl: the sandbox's qmail-local, qmail-inject and qmail-queue
# from the default build or from the musl build (swapped by rename: every
# delivery and injection execs the file anew, qmail-start keeps running)
bins() {
  local n src
  [ -n "$musl" ] || return 0
  for n in qmail-local qmail-inject qmail-queue; do
    if [ "$1" = musl ]; then src=$musl/$n; else src=$build/bin/$n; fi
    cp "$src" "$H/bin/.$n.new" && chmod 0755 "$H/bin/.$n.new" && mv -f "$H/bin/.$n.new" "$H/bin/$n"
  done
}
run() { # FUNCTION MTA ARGS...
  local f=$1 m=$2; shift 2
  if [ "$m" = qmusl ]; then bins musl; fi
  "$f" "$m" "$@"
  if [ "$m" = qmusl ]; then bins dyn; fi
}

for t in $TESTS; do
  case $t in
  ingest)
    for r in $(seq "$reps"); do
      for p in $CONC; do
        for m in $(mtas "$r"); do run ingest_run "$m" "$r" "$p"; done
      done
    done ;;
  fanout)
    for r in $(seq "$reps"); do
      for m in $(mtas "$r"); do run fanout_run "$m" "$r"; done
    done ;;
  relay)
    for r in $(seq "$reps"); do
      for p in $CONC; do
        for m in $(mtas "$r"); do run relay_run "$m" "$r" "$p"; done
      done
    done ;;
  rfanout)
    for r in $(seq "$reps"); do
      for m in $(mtas "$r"); do run rfanout_run "$m" "$r"; done
    done ;;
  stages)
    for r in $(seq "$reps"); do
      for m in $(mtas "$r"); do run stages_run "$m" "$r"; done
    done
    qs_running || qs_start
    if [ "$PF" = 1 ] && ! pf_running; then "$shared/postfix-bench.sh" start >/dev/null; pf_ready; fi
    ;;
  backlog)
    qs_stop
    qs_backlog_write
    if [ "$PF" = 1 ]; then pf_backlog_write; fi
    for r in $(seq "$reps"); do
      for c in future due; do
        for m in $(mtas "$r"); do run backlog_run "$m" "$r" "$c"; done
      done
    done
    ;;
  *) echo "local-delivery: unknown test $t" >&2; exit 100 ;;
  esac
done

# ================================================================ summary
echo
echo "# medians over $reps rep(s), (min-max, n); ratio = qmail-s6 / Postfix"
if grep -q '^ingest ' "$R"; then
  echo "# ingest: $N x $SIZE B to one Maildir"
  printf '%-5s %-28s %-28s %-6s %-28s %-28s %-6s %s\n' conc 'qmail msgs/s' 'postfix msgs/s' ratio 'qmail CPU ms/msg' 'postfix CPU ms/msg' ratio 'goal: msgs/s ratio >= 1.5, CPU ratio <= 1'
  for p in $CONC; do
    printf '%-5s %-28s %-28s %-6s %-28s %-28s %-6s\n' "$p" \
      "$(med ingest qmail "conc=$p " msgs_per_s)" "$(med ingest postfix "conc=$p " msgs_per_s)" \
      "$(ratio "$(medv ingest qmail "conc=$p " msgs_per_s)" "$(medv ingest postfix "conc=$p " msgs_per_s)")" \
      "$(med ingest qmail "conc=$p " cpu_ms_per_msg)" "$(med ingest postfix "conc=$p " cpu_ms_per_msg)" \
      "$(ratio "$(medv ingest qmail "conc=$p " cpu_ms_per_msg)" "$(medv ingest postfix "conc=$p " cpu_ms_per_msg)")"
    if [ -n "$musl" ]; then
      printf '%-5s %-28s %-28s %-6s %-28s %-28s %-6s\n' "$p/mu" \
        "$(med ingest qmusl "conc=$p " msgs_per_s)" "$(med ingest postfix "conc=$p " msgs_per_s)" \
        "$(ratio "$(medv ingest qmusl "conc=$p " msgs_per_s)" "$(medv ingest postfix "conc=$p " msgs_per_s)")" \
        "$(med ingest qmusl "conc=$p " cpu_ms_per_msg)" "$(med ingest postfix "conc=$p " cpu_ms_per_msg)" \
        "$(ratio "$(medv ingest qmusl "conc=$p " cpu_ms_per_msg)" "$(medv ingest postfix "conc=$p " cpu_ms_per_msg)")"
    fi
    for m in qmail qmusl postfix; do
      [ -n "$(col ingest "$m" "conc=$p " deliver_s)" ] || continue
      echo "#   conc=$p $m: deliver_s $(med ingest "$m" "conc=$p " deliver_s)  daemon CPU s $(med ingest "$m" "conc=$p " daemon_cpu_s)  injector CPU s $(med ingest "$m" "conc=$p " inject_cpu_s)  peak PSS MiB $(med ingest "$m" "conc=$p " peak_pss_mib)"
    done
  done
fi
if grep -q '^fanout ' "$R"; then
  echo "# fanout: one message to $NRCPT local Maildirs"
  printf '%-28s %-28s %-6s %s\n' 'qmail all delivered s' 'postfix all delivered s' ratio 'goal: ratio <= 1'
  printf '%-28s %-28s %-6s\n' "$(med fanout qmail '' all_delivered_s)" "$(med fanout postfix '' all_delivered_s)" \
    "$(ratio "$(medv fanout qmail '' all_delivered_s)" "$(medv fanout postfix '' all_delivered_s)")"
  [ -n "$musl" ] && printf '%-28s %-28s %-6s (musl build of qmail-local/inject/queue)\n' "$(med fanout qmusl '' all_delivered_s)" \
    "$(med fanout postfix '' all_delivered_s)" "$(ratio "$(medv fanout qmusl '' all_delivered_s)" "$(medv fanout postfix '' all_delivered_s)")"
  for m in qmail qmusl postfix; do
    [ -n "$(col fanout "$m" '' daemon_cpu_s)" ] && echo "#   $m: inject_s $(med fanout "$m" '' inject_s)  daemon CPU s $(med fanout "$m" '' daemon_cpu_s)"
  done
fi
if grep -q '^relay ' "$R"; then
  echo "# relay: $N x $SIZE B to user@remote.example, relayed to smtp-sink on 127.0.0.1:$SINKPORT"
  printf '%-5s %-28s %-28s %-6s %-28s %-28s %-6s %s\n' conc 'qmail msgs/s' 'postfix msgs/s' ratio 'qmail CPU ms/msg' 'postfix CPU ms/msg' ratio 'goal: msgs/s ratio >= 1.5'
  for p in $CONC; do
    printf '%-5s %-28s %-28s %-6s %-28s %-28s %-6s\n' "$p" \
      "$(med relay qmail "conc=$p " msgs_per_s)" "$(med relay postfix "conc=$p " msgs_per_s)" \
      "$(ratio "$(medv relay qmail "conc=$p " msgs_per_s)" "$(medv relay postfix "conc=$p " msgs_per_s)")" \
      "$(med relay qmail "conc=$p " cpu_ms_per_msg)" "$(med relay postfix "conc=$p " cpu_ms_per_msg)" \
      "$(ratio "$(medv relay qmail "conc=$p " cpu_ms_per_msg)" "$(medv relay postfix "conc=$p " cpu_ms_per_msg)")"
  done
fi
if grep -q '^rfanout ' "$R"; then
  echo "# rfanout: one message to $RRCPT recipients at $RDOM domains, relayed to smtp-sink"
  printf '%-28s %-28s %-6s %s\n' 'qmail all relayed s' 'postfix all relayed s' ratio 'goal: ratio <= 1'
  printf '%-28s %-28s %-6s\n' "$(med rfanout qmail '' all_relayed_s)" "$(med rfanout postfix '' all_relayed_s)" \
    "$(ratio "$(medv rfanout qmail '' all_relayed_s)" "$(medv rfanout postfix '' all_relayed_s)")"
  for m in qmail postfix; do
    [ -n "$(col rfanout "$m" '' daemon_cpu_s)" ] && echo "#   $m: transactions $(med rfanout "$m" '' transactions)  daemon CPU s $(med rfanout "$m" '' daemon_cpu_s)"
  done
fi
if grep -q '^stages ' "$R"; then
  echo "# stages: $N messages injected with the scheduler stopped, then delivered from the queue alone"
  printf '%-8s %-28s %-28s %-28s %s\n' mta 'inject only msgs/s' 'inject CPU ms/msg' 'deliver only msgs/s' 'deliver CPU ms/msg'
  for m in qmail qmusl postfix; do
    [ -n "$(col stages "$m" '' deliver_only_per_s)" ] || continue
    printf '%-8s %-28s %-28s %-28s %s\n' "$m" "$(med stages "$m" '' inject_only_per_s)" "$(med stages "$m" '' inject_cpu_ms_per_msg)" \
      "$(med stages "$m" '' deliver_only_per_s)" "$(med stages "$m" '' deliver_cpu_ms_per_msg)"
  done
fi
if grep -q '^backlog ' "$R"; then
  echo "# backlog: $BACKLOG deferred + 1 new local message; latency = injection to Maildir (goal < 2 s)"
  printf '%-7s %-8s %-26s %-26s %-26s %s\n' case mta "new at +${DELAY1}s: latency s" "new at +${DELAY2}s: latency s" 'start to ready s' 'backlog deferrals meanwhile'
  for c in future due; do
    for m in qmail qmusl postfix; do
      [ -n "$(col backlog "$m" "case=$c " new1_latency_s)" ] || continue
      printf '%-7s %-8s %-26s %-26s %-26s %s\n' "$c" "$m" "$(med backlog "$m" "case=$c " new1_latency_s)" \
        "$(med backlog "$m" "case=$c " new2_latency_s)" "$(med backlog "$m" "case=$c " start_to_ready_s)" \
        "$(med backlog "$m" "case=$c " backlog_deferrals_meanwhile)"
    done
  done
fi
