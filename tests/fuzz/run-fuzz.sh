#!/bin/sh
# run-fuzz.sh TARGET CORPUS SECONDS: replays every input of CORPUS (a crash fails), then
# fuzzes for SECONDS from it, new inputs going to a scratch copy (the source tree is never
# written). A crash leaves its input in $CORUN_FUZZ_ARTIFACTS (default: a temp dir), named
# in the output: add it to CORPUS as a regression input once fixed.
set -eu
target=$1 corpus=$2 seconds=$3
work=$(mktemp -d /tmp/corun-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
art=${CORUN_FUZZ_ARTIFACTS:-$work/artifacts}
mkdir -p "$work/corpus" "$art"
[ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ] || {
        echo "no seed corpus in $corpus" >&2
        exit 1
}
cp "$corpus"/* "$work/corpus/"
echo "replaying $(ls "$corpus" | wc -l) inputs of $corpus"
rc=0
"$target" -runs=0 -rss_limit_mb=1024 -artifact_prefix="$art/" "$corpus" >"$work/replay.log" 2>&1 || rc=$?
tail -3 "$work/replay.log"
if [ "$rc" -ne 0 ]; then
        cat "$work/replay.log"
        exit "$rc"
fi
echo "fuzzing for $seconds s"
"$target" -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=1024 -timeout=10 \
        -artifact_prefix="$art/" -print_final_stats=1 "$work/corpus" >"$work/fuzz.log" 2>&1 || rc=$?
grep -E "^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)|^Done" "$work/fuzz.log" || true
if [ "$rc" -ne 0 ]; then
        tail -60 "$work/fuzz.log"
        echo "crash input kept in $art" >&2
        trap - EXIT
fi
exit "$rc"
