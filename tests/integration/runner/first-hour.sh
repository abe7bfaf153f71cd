#!/bin/sh
# A newcomer's first commands: a mistyped command gets a did-you-mean hint, the man page
# lists every command, and `make demo` ends by saying how to call corun next.
. "$SRCDIR/tests/integration/lib.sh"
cd "$WORK"
rc=0
"$CORUN" runn 'true' > out 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status of an unknown command"
grep -q "did you mean 'run'" out || fail "no did-you-mean hint: $(cat out)"
rc=0
"$CORUN" xyzzy > out 2>&1 || rc=$?
assert_eq "$rc" 2 "exit status of an unknown command"
not grep -q "did you mean" out || fail "a hint for a word that is no typo: $(cat out)"
# Every command of `corun --help` is in the man page's SYNOPSIS.
syn=$(sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$SRCDIR/docs/corun.1")
for c in $("$CORUN" --help | sed -n 's/^  \([a-z-]*\) .*/\1/p'); do
        [ "$c" = slurm-step ] && continue
        printf '%s\n' "$syn" | grep -q "^\.B corun $c" || fail "man SYNOPSIS lacks 'corun $c'"
done
grep -q 'man -l docs/corun.1' "$SRCDIR/scripts/demo.sh" || fail "demo does not point to the man page"
grep -q 'make install' "$SRCDIR/scripts/demo.sh" || fail "demo does not say how to install"
echo ok
