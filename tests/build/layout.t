#!/bin/sh
# The tree keeps its promises: the fixed top-level layout; exactly one
# executable file per program name in the checkout; every program has a man
# page, a package/targets line and a package/modes line; the compiled home
# does not come from the environment.
. "${QS6_SRC:-$(dirname "$0")/../..}/tests/lib/tap.sh"
cd "$QS6_SRC" || exit 1

for d in Makefile package src service log conf tests doc README.md .ci/run tools; do
  [ -e "$d" ]; ok $? "top-level $d exists"
done
for f in package/info package/deps package/targets package/modes; do
  [ -s "$f" ]; ok $? "$f exists"
done

progs=$(for f in src/*/*.c; do case $f in src/lib/*) ;; *) basename "$f" .c ;; esac; done)
for p in $progs; do
  n=$(find . -path ./.git -prune -o -type f -perm -u+x -name "$p" -print | wc -l)
  [ "$n" -le 1 ]; ok $? "$p: at most one executable of that name in the checkout ($n)"
  ls doc/"$p".[158] >/dev/null 2>&1; ok $? "$p: has a man page in doc/"
  grep -q "^$p[[:space:]]" package/targets; ok $? "$p: listed in package/targets"
  grep -q "^bin/$p[[:space:]]" package/modes; ok $? "$p: listed in package/modes"
done
grep -v '^#' package/targets | while read -r p dir; do
  [ -n "$p" ] || continue
  ls src/*/"$p".c >/dev/null 2>&1 || echo "$p"
done > "$QS6_TMP/orphans"
is "$(cat "$QS6_TMP/orphans")" "" "every program in package/targets has a source file"

# GNU make imports the environment: QMAIL_HOME (or QMAILHOME) exported by a
# test must not change the compiled home.
QMAIL_HOME=/from/env QMAILHOME=/from/env2 make -s O="$QS6_TMP/b" "$QS6_TMP/b/gen/qmail-s6/config.h" >/dev/null 2>&1
grep -q '^#define QMAIL_S6_HOME "/var/qmail"$' "$QS6_TMP/b/gen/qmail-s6/config.h"
ok $? "an exported QMAIL_HOME does not change the compiled home"
make -s O="$QS6_TMP/b" QMAIL_HOME=/cmd/line "$QS6_TMP/b/gen/qmail-s6/config.h" >/dev/null 2>&1
grep -q '^#define QMAIL_S6_HOME "/cmd/line"$' "$QS6_TMP/b/gen/qmail-s6/config.h"
ok $? "make QMAIL_HOME=... on the command line does"

done_testing
