#!/bin/sh
# `run --help` lists every flag `run` accepts; --runs is --repeat; --json prints
# result.json on stdout (and nothing else there).
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
cd "$WORK"
"$CORUN" run --help > help
for f in $(sed -n 's/^ *[KB]("\(--[a-z-]*\)".*/\1/p; s/^ *{"\(--[a-z-]*\)".*/\1/p' "$SRCDIR/src/spec/spec-cli.c"); do
        grep -q -- "$f\b" help || fail "run --help does not list $f"
done
"$CORUN" run --json --runs 2 'true' > out.json 2> err || fail "run --json failed: $(cat err)"
assert_eq "$(jq -r '.runs | length' out.json)" 2 "repetitions of --runs 2"
assert_eq "$(jq -r '[.runs[].jobs[0].exit_code] | join(",")' out.json)" "0,0" "exit codes"
dir=$(ls -d corun-results/*)
cmp -s out.json "$dir/result.json" || fail "--json output is not result.json"
# Quick mode says what it chose when the command line leaves it open, and not otherwise.
rm -rf corun-results
"$CORUN" run 'true' > out 2>&1 || fail "run failed: $(cat out)"
grep -qF 'cpus 1 (default; -c N or -c all to change), memory unlimited' out || fail "no defaults line: $(cat out)"
"$CORUN" run -c 1 -m 64M 'true' > out 2>&1 || fail "run failed: $(cat out)"
not grep -q 'default;' out || fail "a defaults line although -c and -m were given: $(cat out)"
grep -q 'cpus N|all|LIST (default 1)' help || fail "run --help hides the cpus default"
# A failed job shows the last lines of its stderr under its end line, also with -q.
for q in "" -q; do
        rc=0
        # shellcheck disable=SC2086
        "$CORUN" run $q 'for i in 1 2 3 4 5 6 7; do echo oops$i >&2; done; exit 3' 'true' > out 2>&1 || rc=$?
        assert_eq "$rc" 1 "exit status with a failed job ($q)"
        grep -q "end .*exit 3" out || fail "no end line of the failed job ($q): $(cat out)"
        grep -q "| oops7" out || fail "no stderr tail ($q): $(cat out)"
        not grep -q "| oops1$" out || fail "more than the last lines ($q): $(cat out)"
done
# compare: results with no job in common are an error, not an empty table
"$CORUN" run -q -o a --job-name alpha 'true'
"$CORUN" run -q -o b --job-name beta 'true'
"$CORUN" run -q -o c --job-name alpha 'true'
rc=0
"$CORUN" compare a b > out 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "compare of results with nothing in common succeeded: $(cat out)"
grep -q "no job in common" out || fail "no clear message: $(cat out)"
"$CORUN" compare a c > out 2>&1 || fail "compare of comparable results failed: $(cat out)"
# report takes several directories, and says how to pick one when given none
rm -f a/report.html c/report.html
"$CORUN" report a c > out 2>&1 || fail "report of two directories failed: $(cat out)"
[ -s a/report.html ] && [ -s c/report.html ] || fail "report did not write both reports"
rc=0
"$CORUN" report > out 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status of report without a directory"
grep -q "corun-results" out || fail "report does not say how to pick a directory: $(cat out)"
rm -rf a b c
"$CORUN" run $q 'for i in 1 2 3 4 5 6 7; do echo oops$i >&2; done; exit 3' 'true' > out 2>&1 || true
not grep -q "end    true" out || fail "-q printed a job that succeeded: $(cat out)"
echo ok
