#!/bin/sh
# Runs inside the VM (tests/vm/run-in-vm.sh): every runner integration script, the same
# ones the host runs (tests/integration/runner/*.sh), against the VM's pure cgroup2
# hierarchy. Prints PASS/FAIL/SKIP per script with the output of those that did not
# pass, then one summary line. Exit 1 if any failed; else 99 if any was not run (the
# VM's time ran out before it: a harness error, reported as NOT RUN, neither a pass,
# nor a skip, nor a failure of the script); 77 if all skipped; else 0.
#
# Every one but priority.sh and those that no backend changes (see below). CORUN_VM_TESTS="spec-error oom" picks scripts;
# CORUN_VM_TEST_TIMEOUT (default 120 s) bounds each one. All of them share the VM's time
# (CORUN_VM_TIMEOUT, set by run-in-vm.sh): a script that would outlive it is not started
# and is listed as NOT RUN, so the summary is printed even when the suite is too slow.
set -u
dir=$SRCDIR/tests/integration/runner
per_test=${CORUN_VM_TEST_TIMEOUT:-120}
# What is left of the VM's time once it has booted, minus room for the summary and
# the poweroff.
deadline=$((${CORUN_VM_TIMEOUT:-600} - 20))

now() { cut -d. -f1 /proc/uptime; }

if [ -n "${CORUN_VM_TESTS:-}" ]; then
        names=$CORUN_VM_TESTS
else
        # priority.sh runs the host-sized memory-priority example: on v2 the kernel's
        # memory.high would take minutes over it. tests/vm/priority.sh (vm-priority) is
        # the same experiment sized for the VM. first-hour.sh checks the man page and
        # scripts/demo.sh, which the VM does not carry (and which no kernel changes).
        # The rest of the list checks what no cgroup backend takes part in (the command
        # line, the results directory's lock, hooks, the terminal display, a full
        # scratch dir, a job's output streamed through its pipe): the host runs them, and
        # they took 64 of the VM's 210 s.
        names=$(cd "$dir" && ls -- *.sh 2>/dev/null | sed 's/\.sh$//' |
                grep -vxE 'priority|first-hour|spec-error|run-flags|hyperfine-flags|results-lock|hooks|tty|full-dirs|flood')
fi
[ -n "$names" ] || {
        echo "vm-integration: no scripts in $dir" >&2
        exit 1
}

pass=0 fail=0 skip=0 notrun=0 failed="" unrun=""
log=/tmp/vm-integration.log
for name in $names; do
        script=$dir/$name.sh
        start=$(now)
        left=$((deadline - start))
        limit=$per_test
        [ "$left" -lt "$limit" ] && limit=$left
        if [ ! -f "$script" ]; then
                rc=127
                echo "no such script: $script" >"$log"
        elif [ "$limit" -le 0 ]; then
                notrun=$((notrun + 1))
                unrun="$unrun $name"
                echo "NOT RUN $name: the VM's ${CORUN_VM_TIMEOUT:-600}s are spent (raise -t in tests/vm/meson.build)"
                continue
        else
                rc=0
                # stdin from /dev/null: a script must not read the console, where
                # nobody types in a test run.
                timeout "$limit" "$script" >"$log" 2>&1 </dev/null || rc=$?
        fi
        took=$(($(now) - start))
        case $rc in
        0)
                pass=$((pass + 1))
                echo "PASS $name (${took}s)"
                ;;
        77)
                skip=$((skip + 1))
                echo "SKIP $name (${took}s): $(tail -n 1 "$log")"
                ;;
        *)
                fail=$((fail + 1))
                failed="$failed $name"
                what="status $rc"
                if [ "$rc" = 124 ] || [ "$rc" = 143 ]; then
                        what="timed out after ${limit}s"
                        [ "$limit" -lt "$per_test" ] &&
                                what="$what, cut short: only that much of the VM's time was left"
                fi
                echo "FAIL $name (${took}s, $what)"
                tail -n 40 "$log" | sed 's/^/    | /'
                ;;
        esac
done
echo "vm-integration: $pass passed, $fail failed, $skip skipped, $notrun not run${failed:+; failed:$failed}${unrun:+; not run:$unrun}"
[ "$fail" -eq 0 ] || exit 1
[ "$notrun" -eq 0 ] || exit 99
[ "$pass" -gt 0 ] || exit 77
exit 0
