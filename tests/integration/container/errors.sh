#!/bin/sh
# Bad input for jobs in images is refused before anything starts (exit 2, no
# result written), naming the flag or file:line:col: an unknown engine, an image that is not
# present locally (corun never pulls unless pull: true), a volume whose host path does
# not exist, an engine that is not installed. A command that runs `podman run` itself gets a warning naming image:.
. "$SRCDIR/tests/integration/lib.sh"
. "$SRCDIR/tests/integration/container/container-lib.sh"
# refused EXPECTED-MESSAGE ARGS...: corun run ARGS (with PATH=$RUN_PATH if set) exits 2
# and says EXPECTED-MESSAGE.
refused() {
        _want=$1
        shift
        _rc=0
        PATH=${RUN_PATH:-$PATH} "$CORUN" run -q -o "$WORK/res" "$@" >"$WORK/err" 2>&1 || _rc=$?
        assert_eq "$_rc" 2 "exit status of corun run $*: $(cat "$WORK/err")"
        grep -qF -- "$_want" "$WORK/err" || fail "corun run $*: expected '$_want', got: $(cat "$WORK/err")"
        [ ! -e "$WORK/res/result.json" ] || fail "corun run $*: a result was written"
}
refused "corun: error: --engine: unknown engine 'rkt'; expected podman or docker" --image "$IMAGE" --engine rkt true
refused "corun: error: --image: job 'true': image localhost/corun-absent:0 is not present in podman's local storage" \
        --image localhost/corun-absent:0 true
refused "corun never pulls unless the job says pull: true (or --pull)" --image localhost/corun-absent:0 true
refused "corun: error: --volume: job 'true': volume host path $WORK/absent: No such file or directory" \
        --image "$IMAGE" --volume "$WORK/absent:/data" true
# No engine where corun looks (an empty PATH): said, with the engine asked for or both.
mkdir "$WORK/empty"
RUN_PATH=$WORK/empty refused "corun: error: --engine: job 'true': docker cannot run it here: docker is not installed (not in PATH)" \
        --image "$IMAGE" --engine docker true
RUN_PATH=$WORK/empty refused "corun: error: --image: job 'true' runs in image $IMAGE, but neither podman nor docker is installed" \
        --image "$IMAGE" true
RUN_PATH=
refused "corun: error: --engine: job 'true': this flag applies to a job in an image; add --image NAME" \
        --engine podman true
cat > "$WORK/c.yaml" <<'Y'
jobs:
  a:
    command: [true]
    image: localhost/corun-absent:0
  b:
    command: [true]
    image: @IMAGE@
    container:
      volumes: ["@WORK@/absent:/data:ro"]
      engine: podmn
Y
subst "$WORK/c.yaml"
refused "corun: error: $WORK/c.yaml:10:15: engine: unknown engine 'podmn'; expected podman or docker (did you mean 'podman'?)" \
        "$WORK/c.yaml"
sed -i 's/podmn/podman/' "$WORK/c.yaml"
refused "corun: error: $WORK/c.yaml:4:12: job 'a': image localhost/corun-absent:0 is not present" "$WORK/c.yaml"
sed -i 's|localhost/corun-absent:0|'"$IMAGE"'|' "$WORK/c.yaml"
refused "corun: error: $WORK/c.yaml:9:17: job 'b': volume host path $WORK/absent: No such file or directory" \
        "$WORK/c.yaml"
# By hand: the container would run outside the partition. (It fails at once here: the
# image is absent and --pull=never.)
rc=0
"$CORUN" run -q -o "$WORK/res" --job-name byhand "podman run --rm --pull=never localhost/corun-absent:0 true" \
        >"$WORK/err" 2>&1 || rc=$?
assert_eq "$rc" 1 "exit status of the by-hand container job: $(cat "$WORK/err")"
grep -qF "corun: warning: job 'byhand' starts its own container with 'podman run': the container would run outside the job's partition" \
        "$WORK/err" || fail "no warning for podman run: $(cat "$WORK/err")"
grep -qF "give the job image: NAME instead" "$WORK/err" || fail "the warning does not name image:"
# cwd: is the host's: in an image it is not used, and the warning says what to use.
"$CORUN" run -q -o "$WORK/res2" --cwd /tmp --image "$IMAGE" --job-name p pwd >"$WORK/err" 2>&1 ||
        fail "run with --cwd in an image failed: $(cat "$WORK/err")"
grep -qF "corun: warning: job 'p' runs in an image: cwd: /tmp is not used there; give the container's working directory as container: {workdir: DIR}" \
        "$WORK/err" || fail "no warning for cwd: $(cat "$WORK/err")"
echo ok
