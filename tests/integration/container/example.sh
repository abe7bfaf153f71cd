#!/bin/sh
# examples/container.yaml as shipped, on the image scripts/make-test-image.sh builds:
# what its header promises (each side-by-side job sees the one CPU it was given and has
# its phase; greedy ends as oom; engine, image and digest in the result).
. "$SRCDIR/tests/integration/lib.sh"
. "$SRCDIR/tests/integration/container/container-lib.sh"
EX=$SRCDIR/examples/container.yaml
grep -q "^  image: $IMAGE\$" "$EX" || fail "examples/container.yaml does not name the image the script makes ($IMAGE)"
R=$WORK/res
rc=0
"$CORUN" run -q -o "$R" "$EX" >"$WORK/out" 2>&1 || rc=$?
assert_eq "$rc" 1 "exit status (greedy fails): $(cat "$WORK/out")"
f=$R/result.json
for j in left right; do
        assert_eq "$(job "$f" $j .reason)" exit "$j reason"
        c=$(job "$f" $j .applied.cpus)
        grep -q "^Cpus_allowed_list:[[:space:]]*$c\$" "$R/$(job "$f" $j .logs.stdout)" || fail "$j: not only CPU $c"
        assert_eq "$(job "$f" $j '.phases[0].name')" count "$j phase"
        assert_eq "$(job "$f" $j .container.image)" "$IMAGE" "$j image"
done
assert_eq "$(job "$f" greedy .reason)" oom "greedy reason"
job "$f" greedy .container.digest | grep -q '^sha256:' || fail "greedy digest"
echo ok
