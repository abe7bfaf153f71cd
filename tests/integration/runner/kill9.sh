#!/bin/sh
# kill -9 of corun mid-run, then `corun cleanup`: no group, process or scratch dir is left,
# checked against the journal's own list.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
R=$WORK/res
JD=/run/corun
before=$(ls $JD/*.journal 2>/dev/null || true)
# The job leaves a daemon and a child that the main process's death signal cannot reach.
"$CORUN" run -q -o "$R" "$HELPERS/daemonize 1000 > $WORK/daemon.pid; sleep 100" &
pid=$!
for i in $(seq 100); do
        [ -s "$WORK/daemon.pid" ] && pgrep -f 'sleep 100' >/dev/null && break
        sleep 0.1
done
journal=""
for j in $JD/*.journal; do
        echo "$before" | grep -qx "$j" || journal=$j
done
[ -n "$journal" ] || fail "no journal of the running corun in $JD"
cp "$journal" "$WORK/journal.copy"
kill -9 $pid
wait $pid 2>/dev/null || true
daemon=$(head -n1 "$WORK/daemon.pid")
alive "$daemon" || fail "test setup: daemon $daemon not running before cleanup"
"$CORUN" cleanup > "$WORK/cleanup.out" 2>&1 || fail "cleanup failed: $(cat "$WORK/cleanup.out")"
n=0
while read -r kind path rest; do
        case "$kind" in
        cgroup|dir) n=$((n + 1)); [ ! -e "$path" ] || fail "$kind $path left behind after cleanup" ;;
        esac
done < "$WORK/journal.copy"
[ "$n" -ge 3 ] || fail "journal lists only $n resources: $(cat "$WORK/journal.copy")"
alive "$daemon" && fail "daemon $daemon survived cleanup"
pgrep -f 'sleep 100' >/dev/null && fail "sleep 100 survived cleanup"
[ ! -e "$journal" ] || fail "journal $journal left behind"
echo ok
