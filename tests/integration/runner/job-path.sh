#!/bin/sh
# A job's command is looked up in the job's own PATH (its `env:`), never in the runner's,
# and failed starts still name the stage that failed.
. "$SRCDIR/tests/integration/lib.sh"
need_root_cgroups
cd "$WORK"
mkdir jobbin runnerbin
# `true` in the job's PATH shadows /bin/true; the runner's PATH keeps /bin/true first.
printf '#!/bin/sh\necho "job-path true $*" > "%s/shadow.out"\n' "$WORK" > jobbin/true
# Only the runner can see this one.
printf '#!/bin/sh\nexit 0\n' > runnerbin/corun-runner-only
# Found in the job's PATH, but not executable.
printf '#!/bin/sh\nexit 0\n' > jobbin/corun-not-exec
chmod +x jobbin/true runnerbin/corun-runner-only
cat > s.yaml <<EOF2
jobs:
  shadow:
    command: [true, arg1]
    env: {PATH: "/nonexistent-dir:$WORK/jobbin"}
  runner-only:
    command: [corun-runner-only]
    env: {PATH: "$WORK/jobbin:/usr/bin:/bin"}
  not-exec:
    command: [corun-not-exec]
    env: {PATH: "$WORK/jobbin"}
  bad-cwd:
    command: [corun-runner-only]
    cwd: /nonexistent-dir
EOF2
PATH="/bin:$WORK/runnerbin:$PATH" "$CORUN" run -q -o "$WORK/res" s.yaml || true
R=$WORK/res/result.json
assert_eq "$(job "$R" shadow .reason)" exit "the job-PATH command's reason"
[ -f shadow.out ] || fail "the job ran /bin/true from the runner's PATH, not \$WORK/jobbin/true"
assert_eq "$(cat shadow.out)" "job-path true arg1" "the shadowing script's output"
assert_eq "$(job "$R" runner-only .reason)" failed-to-start "a command only in the runner's PATH"
job "$R" runner-only .start_error | grep -q "^execve .*No such file" ||
        fail "missing command: $(job "$R" runner-only .start_error)"
assert_eq "$(job "$R" not-exec .reason)" failed-to-start "a non-executable file in the job's PATH"
job "$R" not-exec .start_error | grep -q "^execve .*Permission denied" ||
        fail "non-executable command: $(job "$R" not-exec .start_error)"
# The cwd is entered before the command is executed: that stage is the one named.
assert_eq "$(job "$R" bad-cwd .reason)" failed-to-start "a job with a missing cwd"
job "$R" bad-cwd .start_error | grep -q "^chdir" || fail "bad cwd: $(job "$R" bad-cwd .start_error)"
echo ok
