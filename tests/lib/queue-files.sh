# tests/lib/queue-files.sh: building queue files by hand, for the tests of
# qmail-qread, qmail-qstat and qmail-qcheck.  Source it after tests/lib/tap.sh.
#
# The files are written from the formats of the reference (qmail.md section 1),
# not by our programs: info/ = F{sender}\0, local/ remote/ = T|D{addr}\0 per
# recipient, intd/ todo/ = u{uid}\0p{pid}\0F{sender}\0T{rcpt}\0...
# When the tests run as root, every file is given to the sandbox user, who
# owns the queue (tools/sandbox); otherwise the caller owns everything already.

# make_sandbox VAR [FQDN]: a new sandbox, its path in VAR.
make_sandbox() {
  new_sandbox ${2:+"$2"} > "$QS6_TMP/.sbpath" || return 1
  read -r "$1" < "$QS6_TMP/.sbpath"
}

# qown SB PATH...: give paths (relative to SB/queue) to the sandbox user and group.
qown() {
  _qo_sb=$1; shift
  [ "$(id -u)" = 0 ] || return 0
  for _qo_p in "$@"; do
    chown "$(cut -d: -f2 "$_qo_sb/sandbox"):$(cut -d: -f3 "$_qo_sb/sandbox")" "$_qo_sb/queue/$_qo_p"
  done
}

# sandbox_gid SB: the sandbox group (group qmail of the sandbox).
sandbox_gid() { cut -d: -f3 "$1/sandbox"; }

# split ID: the split subdirectory of a message id (conf-split 23).
split() { echo $(( $1 % 23 )); }

# qput SB PATH MODE: writes stdin to SB/queue/PATH with that mode, owned by
# the sandbox user.
qput() {
  cat > "$1/queue/$2"
  chmod "$3" "$1/queue/$2"
  qown "$1" "$2"
}

# qmess SB: writes stdin as a new mess/ file the way qmail-queue does (a file
# in pid/, linked to mess/{inode % 23}/{inode}, then unlinked: the id is the
# inode number), mode 0644.  Prints the id.
qmess() {
  _qm_tmp="$1/queue/pid/helper.$$"
  cat > "$_qm_tmp"
  chmod 0644 "$_qm_tmp"
  _qm_id=$(stat -c %i "$_qm_tmp")
  ln "$_qm_tmp" "$1/queue/mess/$(split "$_qm_id")/$_qm_id"
  rm -f "$_qm_tmp"
  qown "$1" "mess/$(split "$_qm_id")/$_qm_id"
  echo "$_qm_id"
}

# qtodo SB ID SENDER RCPT...: intd/ID and its link todo/ID, as qmail-queue
# leaves them (uid and pid records first).
qtodo() {
  _qt_sb=$1; _qt_id=$2; _qt_from=$3; shift 3
  { printf 'u%s\0p%s\0F%s\0' 0 12345 "$_qt_from"
    for _qt_r in "$@"; do printf 'T%s\0' "$_qt_r"; done
  } | qput "$_qt_sb" "intd/$_qt_id" 0644
  ln "$_qt_sb/queue/intd/$_qt_id" "$_qt_sb/queue/todo/$_qt_id"
}

# qinfo SB ID SENDER: info/{split}/ID = F{sender}\0, mode 0600.
qinfo() {
  printf 'F%s\0' "$3" | qput "$1" "info/$(split "$2")/$2" 0600
}

# qchan SB local|remote ID REC...: the channel file, each REC being
# T{addr} or D{addr} (written with its NUL), mode 0600.
qchan() {
  _qc_sb=$1; _qc_ch=$2; _qc_id=$3; shift 3
  for _qc_r in "$@"; do printf '%s\0' "$_qc_r"; done | qput "$_qc_sb" "$_qc_ch/$(split "$_qc_id")/$_qc_id" 0600
}

# qbounce SB ID: bounce/ID as qmail-send appends it, mode 0600.
qbounce() {
  printf '<%s>:\n%s\n\n' "nobody@example.net" "Sorry, no mailbox here by that name. (#5.1.1)" \
    | qput "$1" "bounce/$2" 0600
}

# run_in SB PROGRAM [ARGS]: runs a built program with QMAILHOME=SB; stdout to
# $QS6_TMP/out, stderr to $QS6_TMP/err; sets rc.
run_in() {
  _ri_sb=$1; _ri_p=$2; shift 2
  rc=0
  QMAILHOME=$_ri_sb "$QS6_BUILD/bin/$_ri_p" "$@" > "$QS6_TMP/out" 2> "$QS6_TMP/err" || rc=$?
}
