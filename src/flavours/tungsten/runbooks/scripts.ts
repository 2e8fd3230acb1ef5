/**
 * Static shell scripts of the Tungsten runbook. Every value reaches them as a positional argument
 * (argv, quoted before any shell sees it), never inside the script text.
 */

/** Purge the replica's THL only when its replicator is OFFLINE:NORMAL (SYSTEMS.md §3.2). */
export const PURGE_THL = [
  'bin=$1; svc=$2',
  'state=$("$bin/trepctl" -service "$svc" status | sed -n "s/^state *: *//p" | tr -d " \\r")',
  'if [ "$state" != OFFLINE:NORMAL ]; then echo "refusing to purge the THL: the replicator is ${state:-unknown}, not OFFLINE:NORMAL" >&2; exit 3; fi',
  'exec "$bin/thl" -service "$svc" purge -y',
].join('\n');

/** The restore: the topology's own program, or a dump loaded through `tpm mysql`. */
export const RESTORE = [
  'bin=$1; kind=$2; path=$3; custom=$4',
  'if [ -n "$custom" ]; then exec "$custom" "$path"; fi',
  'if [ "$kind" != dump ]; then echo "refusing: a $kind backup needs a restore program in the topology" >&2; exit 2; fi',
  '[ -r "$path" ] || { echo "no readable dump at $path" >&2; exit 2; }',
  '"$bin/tpm" mysql < "$path" || exit 1',
  'echo "restored from $path"',
].join('\n');

/** The backup's binlog position: the dump header, or xtrabackup_binlog_info. `none` when absent. */
export const READ_BACKUP_POSITION = [
  'kind=$1; path=$2',
  'if [ "$kind" = dump ]; then line=$(grep -m1 -E "CHANGE (MASTER|REPLICATION SOURCE) TO" "$path"); else line=$(head -n 1 "$path/xtrabackup_binlog_info"); fi',
  'echo "backup-position: ${line:-none}"',
].join('\n');

/** The restored trep_commit_seqno, one `trep<TAB>…` line per row; `trep-error:` when unreadable. */
export const READ_TREP = [
  'bin=$1; schema=$2',
  'out=$(printf "%s\\n" "SELECT \'trep\', seqno, epoch_number, source_id, eventid FROM $schema.trep_commit_seqno ORDER BY seqno;" | "$bin/tpm" mysql -N -B 2>&1)',
  'if [ $? -ne 0 ]; then echo "trep-error: $(printf "%s" "$out" | tail -n 1)"; exit 0; fi',
  'printf "%s\\n" "$out"',
].join('\n');

/** `thl list -event … -headers`, its exit code and any message kept for the rule to read. */
export const FIND_EVENT = [
  'bin=$1; svc=$2; event=$3',
  '"$bin/thl" -service "$svc" list -event "$event" -headers 2>&1',
  'echo "thl-exit: $?"',
].join('\n');

/** Prints `state: X` (and the pending error) so a wait can read it. */
export const REPLICATOR_STATE = [
  'bin=$1; svc=$2',
  'out=$("$bin/trepctl" -service "$svc" status) || exit 1',
  'printf "%s\\n" "$out" | sed -n "s/^state *: */state: /p; s/^pendingExceptionMessage *: */pending: /p"',
].join('\n');

/** Caught up: this replica's applied seqno has reached the primary's (the second argument). */
export const CAUGHT_UP = [
  'bin=$1; svc=$2; want=$3',
  'seq=$("$bin/trepctl" -service "$svc" status | sed -n "s/^appliedLastSeqno *: *//p" | tr -d " \\r")',
  'case "$seq" in ""|*[!0-9]*) echo "applied seqno unknown"; exit 0;; esac',
  'if [ "$seq" -ge "$want" ]; then echo "caught-up: yes ($seq >= $want)"; else echo "caught-up: no ($seq < $want)"; fi',
].join('\n');
