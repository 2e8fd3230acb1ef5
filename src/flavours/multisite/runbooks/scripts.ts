/**
 * Static bash scripts for the restoration steps. Values arrive only as positional arguments
 * (replica names, paths, and each CLI command line as a counted group of argv elements), so
 * nothing from the topology or a user is ever parsed by a shell. A probe's last stdout line
 * `stage=<name> <words>` is what the thread's checklist shows (engine/checklist-stage.ts).
 */

/**
 * Every script starts with `password-mode` (stdin: the ClearQuest password arrives as the first
 * stdin line, see CommandSpec.stdinSecret; none: no password) and then counted argv groups:
 * `take NAME` fills array NAME from the arguments (count first). `ms CMD…` runs a MultiSite
 * command line, with `-password` after its subcommand when there is one.
 */
const TAKE = [
  'ARGS=("$@")',
  'PW=""; if [ "${ARGS[0]}" = stdin ]; then IFS= read -r PW || true; fi; ARGS=("${ARGS[@]:1}")',
  'take() { local -n _a=$1; local n=${ARGS[0]}; _a=("${ARGS[@]:1:n}"); ARGS=("${ARGS[@]:n+1}"); }',
  'ms() { local c=$1 s=$2; shift 2; if [ -n "$PW" ]; then "$c" "$s" -password "$PW" "$@"; else "$c" "$s" "$@"; fi; }',
].join('\n');

/**
 * Own operations of replica `r` in its own row of lsepoch output: rows open with `… row "r" …`;
 * entries are `oid:N replica: origin` (simulator) or `oid:<uuid>=N (origin)` (ClearCase).
 */
const AWK_OWN = [
  'own_of() { awk -v r="$1" \'',
  '  /[Rr]ow[ \\t]+"?[A-Za-z]/ { s=$0; sub(/.*[Rr]ow[ \\t]+"?/, "", s); sub(/["( :].*$/, "", s); row=s; next }',
  '  row==r && /^[ \\t]*oid:[0-9]+[ \\t]+replica:/ { n=$0; sub(/^[ \\t]*oid:/, "", n); sub(/[ \\t].*$/, "", n); o=$0; sub(/.*replica:[ \\t]*/, "", o); sub(/[ \\t].*$/, "", o); if (o==r) print n; next }',
  '  row==r && /=[ \\t]*[0-9]+[ \\t]*\\([^)]*\\)[ \\t]*$/ {',
  '    o=$0; sub(/^.*\\([ \\t]*/, "", o); sub(/[ \\t]*\\).*$/, "", o);',
  '    n=$0; sub(/[ \\t]*\\([^)]*\\)[ \\t]*$/, "", n); sub(/^.*=[ \\t]*/, "", n);',
  "    if (o==r) print n }'; }",
].join('\n');

/** How many packets in lspacket output come from replica `$1`. */
const AWK_FROM = [
  'from_count() { awk -v r="$1" \'',
  '  { line=$0; if (sub(/^[ \\t]*(From|Packet sent from replica):[ \\t]*/, "", line)) { sub(/[ \\t(].*$/, "", line); if (line==r) c++ } }',
  "  END { print c+0 }'; }",
].join('\n');

/** Replicas listed after "restoration update(s) from" in R's block of lsreplica -long. */
const AWK_AWAITING = [
  'awaiting_of() { awk -v r="$1" \'',
  '  /^[ \\t]*(replica[ \\t]+"|Replica:)/ { s=$0; sub(/^[ \\t]*(replica[ \\t]+"|Replica:[ \\t]*)/, "", s); sub(/[" \\t].*$/, "", s); cur=s; next }',
  '  cur==r && /restoration updates? from/ { s=$0; sub(/.*restoration updates? from:?[ \\t]*/, "", s); gsub(/[,"]/, " ", s); print s }',
  '  cur==r && /^[ \\t]*restoring:[ \\t]*yes/ { restoring=1 }',
  '  END { if (!restoring) print "NOT-RESTORING" }\'; }',
].join('\n');

const lastLine = 'last() { printf "%s\\n" "$1" | sed "/^[[:space:]]*$/d" | tail -n 1; }';

/**
 * Step 2: prove the replica is unchanged since its restore (own ops = the backup manifest's),
 * then (ClearCase) checkvob and restorereplica at once. Args: manifest replica {lsepoch} {checkvob} {restorereplica}.
 */
export const RESTOREREPLICA_SCRIPT = [
  'set -u',
  TAKE,
  AWK_OWN,
  'manifest=${ARGS[0]}; replica=${ARGS[1]}; ARGS=("${ARGS[@]:2}")',
  'take lsepoch; take precheck; take restore',
  // JSON manifest ({"ownRow":{"<replica>":N}}: the string "replica":"<name>" never matches a number) or own_ops=N.
  'backup=$( { sed -n "s/^own_ops=\\([0-9][0-9]*\\)[[:space:]]*$/\\1/p" "$manifest"; grep -o "\\"$replica\\":[[:space:]]*[0-9][0-9]*" "$manifest" | sed "s/.*://; s/[[:space:]]//g"; } | tail -n 1)',
  '[ -n "$backup" ] || { echo "refusing: the backup manifest $manifest gives no own row for $replica" >&2; exit 3; }',
  'out=$(ms "${lsepoch[@]}") || { echo "refusing: lsepoch failed: cannot prove $replica unchanged since its restore" >&2; exit 3; }',
  'own=$(printf "%s\\n" "$out" | own_of "$replica" | tail -n 1)',
  '[ -n "$own" ] || { echo "refusing: lsepoch shows no own row for $replica" >&2; exit 3; }',
  'if [ "$own" -gt "$backup" ]; then',
  '  echo "refusing: $replica changed after its restore (own ops $own > $backup in the backup): restorereplica now would reuse oplog ids its siblings already hold, which is irreparable. Restore it from the backup again." >&2',
  '  exit 4',
  'fi',
  'echo "unchanged since the restore: own ops $own = $backup in the backup"',
  // ClearCase: checkvob now, it cannot run once the VOB is locked for restoration.
  'if [ ${#precheck[@]} -gt 0 ]; then "${precheck[@]}" || { echo "refusing: ${precheck[*]} failed" >&2; exit 3; }; fi',
  'ms "${restore[@]}"',
].join('\n');

/** Step 3 probe: no packet from R waits in this host's bays. Args: R {lspacket}. */
export const NO_PENDING_SCRIPT = [
  'set -u',
  TAKE,
  AWK_FROM,
  'R=${ARGS[0]}; ARGS=("${ARGS[@]:1}")',
  'take lspacket',
  'out=$(ms "${lspacket[@]}" 2>&1) || { echo "stage=unreadable lspacket failed: $(printf "%s" "$out" | tail -n 1)"; exit 1; }',
  'n=$(printf "%s\\n" "$out" | from_count "$R")',
  'if [ "$n" -gt 0 ]; then echo "stage=pending $n packet(s) from $R not imported yet"; exit 1; fi',
  'echo "stage=clear no packet from $R waits here"',
].join('\n');

/**
 * Steps 5–6 as one idempotent probe per replica, checked until every one holds. On a sibling:
 * import R's restoration packet when it is there, then export to R (the acknowledgement); a
 * marker in the bay remembers that its acknowledgement went out. On R: import what arrived
 * until `Database … is unlocked after restoration.`; siblings silent for `reexport` seconds
 * since R's last export get R's packet again (a lost packet either way: export is idempotent).
 * Args: role R bay reexportSeconds fshipSuffix lingerSeconds "node:replica …" {lspacket} {import} {export} {lsreplica}.
 */
export const DRIVE_SCRIPT = [
  'set -u',
  TAKE,
  AWK_FROM,
  AWK_AWAITING,
  lastLine,
  'role=${ARGS[0]}; R=${ARGS[1]}; bay=${ARGS[2]}; reexport=${ARGS[3]}; suffix=${ARGS[4]}; linger=${ARGS[5]}; items=${ARGS[6]}; ARGS=("${ARGS[@]:7}")',
  // R reports the siblings whose acknowledgement it imported (their own hosts cannot know it).
  'acked() { for pair in $items; do case " $1 " in *" ${pair#*:} "*) ;; *) echo "stage@${pair%%:*}=acked acknowledgement imported at $R";; esac; done; }',
  'take lspacket; take import; take export; take lsreplica',
  'marker="$bay/.recover-restoration-$R"',
  'if [ "$role" = sibling ]; then',
  // lspacket fails on a corrupt packet but still lists the others; the import rejects the corrupt one.
  '  pk=$(ms "${lspacket[@]}" 2>&1); prc=$?',
  '  if [ "$(printf "%s\\n" "$pk" | from_count "$R")" -eq 0 ] && [ "$prc" -ne 0 ]; then',
  '    out=$(ms "${import[@]}" 2>&1); echo "stage=owes-ack a packet here is unreadable; import: $(last "$out")"; exit 1',
  '  fi',
  '  if [ "$(printf "%s\\n" "$pk" | from_count "$R")" -gt 0 ]; then',
  '    out=$(ms "${import[@]}" 2>&1) || { echo "stage=packet-delivered import failed: $(last "$out")"; exit 1; }',
  '    if ! out=$(ms "${export[@]}" 2>&1); then',
  // A sibling that scrubbed oplog entries R lost cannot send them (documented "Cannot find oplog
  // entry"). Another sibling may return them; R's next packet then asks for none of them and this
  // sibling answers. Say so, and keep checking: whether none holds them is for a human to judge.
  '      if printf "%s\\n" "$out" | grep -q "Cannot find oplog entry"; then',
  '        echo "stage=oplog-scrubbed $(last "$out"); waiting for another sibling to return those entries to $R (if none holds them, $R cannot be restored this way: re-create it from a sibling)"; exit 1',
  '      fi',
  '      echo "stage=imported export to $R not delivered: $(last "$out")"; exit 1',
  '    fi',
  '    date +%s > "$marker"',
  '    echo "stage=sibling-exported imported $R\'s packet; acknowledgement exported to $R"; exit 0',
  '  fi',
  '  if [ -f "$marker" ]; then echo "stage=sibling-exported acknowledgement exported to $R"; exit 0; fi',
  '  echo "stage=owes-ack waiting for $R\'s restoration packet"; exit 1',
  'fi',
  // R imports what arrived; while acknowledgements are still due it lingers up to `linger`
  // seconds, importing as soon as a file lands in its incoming bay (a look at the directory is
  // cheap; an import is not), so the unlock is seen when the last ack lands, not a check later.
  'until=$(( $(date +%s) + linger ))',
  'while :; do',
  '  out=$(ms "${import[@]}" 2>&1); rc=$?',
  '  printf "%s\\n" "$out" | grep -q "is unlocked after restoration\\.\\|Restoration of replica .* is complete" && break',
  '  seen=$(ls -1 "$bay/incoming" 2>/dev/null)',
  '  while [ "$(date +%s)" -lt "$until" ] && [ "$(ls -1 "$bay/incoming" 2>/dev/null)" = "$seen" ]; do sleep 0.2; done',
  '  [ "$(ls -1 "$bay/incoming" 2>/dev/null)" = "$seen" ] && break',
  'done',
  'if printf "%s\\n" "$out" | grep -q "is unlocked after restoration\\."; then',
  '  rm -f "$marker"; acked ""; echo "stage=unlocked $(printf "%s\\n" "$out" | grep "is unlocked after restoration\\." | tail -n 1)"; exit 0',
  'fi',
  'ls=$(ms "${lsreplica[@]}" 2>&1) || { echo "stage=awaiting-acks lsreplica failed: $(last "$ls")"; exit 1; }',
  'awaiting=$(printf "%s\\n" "$ls" | awaiting_of "$R" | tr "\\n" " " | sed "s/  */ /g; s/^ //; s/ $//")',
  'if [ "$awaiting" = NOT-RESTORING ]; then rm -f "$marker"; acked ""; echo "stage=restored $R is no longer in restoration"; exit 0; fi',
  'awaiting=${awaiting% NOT-RESTORING}',
  'note=""; [ "$rc" -ne 0 ] && note="; import: $(last "$out")"',
  '[ -f "$marker" ] || date +%s > "$marker"',
  'if [ -n "$awaiting" ] && [ $(( $(date +%s) - $(cat "$marker") )) -ge "$reexport" ]; then',
  '  dest=(); for s in $awaiting; do dest+=("$s$suffix"); done',
  '  again=$(ms "${export[@]}" "${dest[@]}" 2>&1); erc=$?',
  // exit 2: generated, not all delivered (a sibling down): the packets wait in the bay; retry later.
  '  if [ "$erc" -eq 0 ]; then date +%s > "$marker"; note="$note; re-exported to $awaiting"; else note="$note; re-export: $(last "$again")"; fi',
  'fi',
  'acked "$awaiting"; echo "stage=awaiting-acks awaiting $awaiting$note"; exit 1',
].join('\n');

/** A MultiSite command line as one step (export, verify). Args: {command}. */
export const RUN_SCRIPT = [TAKE, 'take cmd', 'ms "${cmd[@]}"'].join('\n');

/** Verify: `lsepoch -actual` at R prints no "fewer oplog entries" warning. Args: {lsepoch -actual}. */
export const VERIFY_SCRIPT = [
  TAKE,
  'take cmd',
  'out=$(ms "${cmd[@]}" 2>&1); rc=$?',
  'if printf "%s\\n" "$out" | grep -q "has fewer oplog entries for itself"; then printf "%s\\n" "$out" | grep "fewer oplog" >&2; exit 1; fi',
  'echo "no lsepoch -actual warning (exit $rc)"',
].join('\n');
