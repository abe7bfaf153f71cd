#!/bin/sh
# Runs a command inside a throwaway VM whose kernel mounts a pure cgroup2 hierarchy with
# the cpuset, cpu, io, memory and pids controllers, so the cgroup v2 backend is tested on
# a real kernel even when the host is a cgroup v1 hybrid. See docs/testing-vm.md.
#
# Usage: tests/vm/run-in-vm.sh [-t SECONDS] [-s] [BUILD_DIR] -- CMD [ARG...]
#
# -s boots systemd as PID 1 (cgroup v2 only) from a small Debian root built by
# scripts/build-vm-systemd-root.sh (cached), and runs CMD from a systemd service
# (vm-command.service) instead of busybox's /init.
#
# BUILD_DIR (default $BUILD) is a meson build dir: its corun and tests/helpers/ go in.
# -t bounds the whole VM run, boot included (default 300 s).
# CMD runs as root in /corun/src (a copy of the source tree's tests/, examples/ and
# scripts/make-test-image.sh) with CORUN, HELPERS, SRCDIR and BUILD pointing inside the
# VM. Its output streams to stdout; the exit status is CMD's (77 stays a skip for
# meson). 1 if the VM started but did not report CMD's status (it hung past -t or
# crashed): a failure. 99 if the VM could not be started at all (no qemu, kernel or
# busybox, or qemu itself failed): meson shows that as ERROR, not FAIL, and never as a
# skip: on a machine meant to run the suite it is a broken setup to fix, but it is not
# the code under test failing.
#
# Environment: CORUN (binary to test, default BUILD_DIR/corun), SRCDIR (source tree,
# default this script's repo), CORUN_VM_KERNEL (a vmlinuz; default fetched by
# scripts/fetch-vm-kernel.sh), CORUN_VM_SHELL=1 (an interactive shell instead of CMD) or
# =after (CMD, then a shell), CORUN_VM_SMP, CORUN_VM_MEM (MiB), CORUN_VM_TOOLS (host
# programs to bring along), CORUN_VM_PASSENV (names of variables to pass in; every
# CORUN_VM_* variable is passed anyway), CORUN_VM_KEEP=1 (keep the staging dir).
set -eu

die() {
        echo "run-in-vm: $*" >&2
        exit 1
}
# not_started WHY: the VM never ran the command (see the exit statuses above).
not_started() {
        echo "run-in-vm: VM NOT STARTED: $*" >&2
        exit 99
}
usage() {
        echo "usage: $0 [-t SECONDS] [BUILD_DIR] -- CMD [ARG...]" >&2
        exit 1
}

timeout_s=300
systemd=0
# Not getopts: it would swallow the "--" that tells BUILD_DIR and CMD apart.
while :; do
        case ${1:-} in
        -t)
                [ $# -ge 2 ] || usage
                timeout_s=$2
                shift 2
                ;;
        -s)
                systemd=1
                shift
                ;;
        *) break ;;
        esac
done
if [ $# -ge 2 ] && [ "$1" = -- ]; then
        [ -n "${BUILD:-}" ] || die "no BUILD_DIR given and BUILD not set"
        set -- "$BUILD" "$@"
fi
[ $# -ge 3 ] && [ "$2" = -- ] || usage
case $timeout_s in '' | *[!0-9]*) die "-t wants whole seconds, got '$timeout_s'" ;; esac
build=$(cd "$1" 2>/dev/null && pwd) || die "build dir '$1' does not exist"
shift 2

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
src=${SRCDIR:-$repo}
corun=${CORUN:-$build/corun}
shell_mode=${CORUN_VM_SHELL:-0}
smp=${CORUN_VM_SMP:-2}
mem=${CORUN_VM_MEM:-1024}
# The systemd root lives in RAM (about 150 MB unpacked) beside its archive.
[ "$systemd" = 1 ] && mem=${CORUN_VM_MEM:-1536}
tools=${CORUN_VM_TOOLS:-jq tmux getent pgrep}

[ -x "$corun" ] || not_started "no corun binary at $corun (build first: meson compile -C $build)"
command -v qemu-system-x86_64 >/dev/null || not_started "qemu-system-x86_64 missing (scripts/install-deps.sh installs it)"
command -v cpio >/dev/null || not_started "cpio missing (scripts/install-deps.sh installs it)"
busybox=$(command -v busybox) || not_started "busybox missing (scripts/install-deps.sh installs busybox-static)"
kernel=${CORUN_VM_KERNEL:-}
if [ -z "$kernel" ]; then
        kernel=$("$repo/scripts/fetch-vm-kernel.sh") || not_started "cannot fetch the VM kernel (scripts/fetch-vm-kernel.sh)"
fi
[ -f "$kernel" ] || not_started "kernel $kernel does not exist"

base=""
if [ "$systemd" = 1 ]; then
        base=$("$repo/scripts/build-vm-systemd-root.sh") || not_started "cannot build the systemd VM root (scripts/build-vm-systemd-root.sh)"
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/corun-vm.XXXXXX")
if [ "${CORUN_VM_KEEP:-0}" = 1 ]; then
        echo "run-in-vm: staging dir kept: $stage" >&2
else
        trap 'rm -rf "$stage"' EXIT
fi
trap 'exit 130' INT
trap 'exit 143' TERM
root=$stage/root
mkdir -p "$root"
if [ "$systemd" = 1 ]; then
        # Only directories the Debian root has as directories (a cpio entry of another
        # type at the same path would replace them: /lib is a link there).
        (cd "$root" && mkdir -p usr/bin etc/systemd/system/multi-user.target.wants corun/build/tests/helpers corun/src/tests)
else
        (cd "$root" && mkdir -p bin sbin usr/bin usr/sbin lib64 dev proc sys run tmp etc root corun/build/tests/helpers corun/src/tests)
fi

# copy_elf FILE DEST: the program and every shared library the dynamic loader resolves
# for it, each library at the path the loader found it so that the default search path
# inside the VM finds it again.
copy_elf() {
        # A link already there (busybox applets link to /bin/busybox) would be written
        # through, and its target on the host overwritten: replace the link instead.
        rm -f "$root$2"
        cp -L "$1" "$root$2"
        ldd "$1" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) (0x.*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p' |
                while read -r lib; do
                        if [ -n "$base" ]; then
                                # The Debian root has merged /usr: /lib in a cpio entry would
                                # replace its link. Its own copy of a library is the same
                                # release's.
                                case $lib in /lib/* | /lib64/*) lib=/usr$lib ;; esac
                                grep -qxF "$lib" "$base.list" && continue
                        fi
                        [ -e "$root$lib" ] && continue
                        mkdir -p "$root$(dirname "$lib")"
                        cp -L "$lib" "$root$lib"
                done
}

if [ "$systemd" = 0 ]; then
copy_elf "$busybox" /bin/busybox
# Every applet as a link, as the busybox package itself installs them.
"$busybox" --list-full | while read -r applet; do
        [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

fi
copy_elf "$corun" /corun/build/corun
if [ -d "$build/tests/helpers" ]; then
        find "$build/tests/helpers" -maxdepth 1 -type f -perm -u+x | while read -r h; do
                copy_elf "$h" "/corun/build/tests/helpers/$(basename "$h")"
        done
fi
if [ "$systemd" = 0 ]; then
for t in $tools; do
        p=$(command -v "$t") || { echo "run-in-vm: warning: $t not on this host; the VM lacks it" >&2; continue; }
        copy_elf "$p" "/usr/bin/$t"
done
# tmux needs terminfo entries for its own terminal and for TERM=xterm set by tests.
for d in /usr/share/terminfo /lib/terminfo; do
        for e in x/xterm x/xterm-256color s/screen s/screen-256color t/tmux t/tmux-256color l/linux v/vt100 d/dumb; do
                [ -e "$d/$e" ] || continue
                mkdir -p "$root$d/$(dirname "$e")"
                cp -L "$d/$e" "$root$d/$e"
        done
done

# The host's locale (tmux refuses to start without a UTF-8 one).
if [ -d /usr/lib/locale/C.utf8 ]; then
        mkdir -p "$root/usr/lib/locale"
        cp -R /usr/lib/locale/C.utf8 "$root/usr/lib/locale/"
fi

# Accounts that tests run jobs as (user:/group: and --user nobody).
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files\n' >"$root/etc/nsswitch.conf"
printf '127.0.0.1 localhost corun-vm\n' >"$root/etc/hosts"

fi  # the Debian root has its own tools, locale and accounts (corun-user, uid 1000)
cp -R "$src/tests/integration" "$src/tests/vm" "$root/corun/src/tests/"
# The container tests make their image with it (the systemd root has podman).
mkdir -p "$root/corun/src/scripts"
cp "$src/scripts/make-test-image.sh" "$root/corun/src/scripts/"
[ -d "$src/examples" ] && cp -R "$src/examples" "$root/corun/src/"
if [ "$systemd" = 1 ]; then
        # systemd starts the command once the system is up (logind and the system bus
        # included), with its output on the serial console; vm-run reports the status
        # and powers off, as /init does in the busybox VM.
        cp "$here/systemd/vm-command.service" "$root/etc/systemd/system/"
        cp "$here/systemd/vm-run" "$root/corun/vm-run"
        chmod 0755 "$root/corun/vm-run"
        if [ "$shell_mode" != 1 ]; then
                ln -s ../vm-command.service "$root/etc/systemd/system/multi-user.target.wants/vm-command.service"
        fi
        # The getty systemd adds for console=ttyS0 waits 90 s for dev-ttyS0.device, which
        # never comes without udev: masked. A shell gets the console's getty instead.
        ln -s /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"
        if [ "$shell_mode" != 0 ]; then
                mkdir -p "$root/etc/systemd/system/console-getty.service.d" "$root/etc/systemd/system/getty.target.wants"
                printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --noclear --keep-baud console 115200,38400,9600 vt100\n' \
                        >"$root/etc/systemd/system/console-getty.service.d/autologin.conf"
                ln -s /lib/systemd/system/console-getty.service "$root/etc/systemd/system/getty.target.wants/console-getty.service"
        fi
else
        cp "$here/init" "$root/init"
        chmod 0755 "$root/init"
fi

# The command is baked into the initramfs rather than put on the kernel command line:
# no length limit and no second round of quoting. /init sources the environment, so a
# debugging shell (CORUN_VM_SHELL) has it too.
quote() {
        printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}
{
        echo 'export CORUN=/corun/build/corun HELPERS=/corun/build/tests/helpers SRCDIR=/corun/src BUILD=/corun/build'
        echo "export CORUN_VM_TIMEOUT=$timeout_s"
        for name in $(env | sed -n 's/^\(CORUN_VM_[A-Za-z0-9_]*\)=.*/\1/p') ${CORUN_VM_PASSENV:-}; do
                [ "$name" = CORUN_VM_TIMEOUT ] && continue
                case $name in '' | [0-9]* | *[!A-Za-z0-9_]*) die "CORUN_VM_PASSENV: '$name' is not a variable name" ;; esac
                eval "isset=\${$name+x}"
                # shellcheck disable=SC2154
                [ -n "$isset" ] || continue
                eval "val=\$$name"
                # shellcheck disable=SC2154
                echo "export $name=$(quote "$val")"
        done
} >"$root/corun/env"
{
        echo '#!/bin/sh'
        printf 'exec'
        for a in "$@"; do
                printf ' %s' "$(quote "$a")"
        done
        echo
} >"$root/corun/cmd"
chmod 0755 "$root/corun/cmd"
echo "$shell_mode" >"$root/corun/shell"

initrd=$stage/initrd.gz
# Owned by root inside the VM whoever builds it. gzip -1: the image is a few MB either
# way, and it is rebuilt on every run.
# With -s, after the cached Debian root: the kernel unpacks both archives in turn.
{
        [ -z "$base" ] || cat "$base"
        (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1
} >"$initrd"

# No NIC (its boot ROM only prints), and no SeaBIOS serial console: its terminal resets
# would clear the user's screen.
set -- qemu-system-x86_64 -accel tcg -cpu max -smp "$smp" -m "$mem" -nographic -no-reboot \
        -nic none -fw_cfg name=etc/sercon-port,string=0 \
        -kernel "$kernel" -initrd "$initrd" -append "console=ttyS0 panic=-1 quiet${base:+ rdinit=/lib/systemd/systemd systemd.unified_cgroup_hierarchy=1 systemd.show_status=0}"

if [ "$shell_mode" != 0 ]; then
        echo "run-in-vm: interactive VM; leave with 'exit' (or Ctrl-A x to kill qemu)" >&2
        # Not exec: the EXIT trap still has to remove the staging dir.
        "$@"
        exit 0
fi

log=$stage/console.log
rcfile=$stage/qemu.rc
# The serial console writes CRLF; strip the CR so logs and greps stay plain. qemu warns
# about the SeaBIOS option's name, which is the one SeaBIOS reads: drop that line.
{
        rc=0
        # --foreground: qemu stays in our process group, so Ctrl-C reaches it.
        timeout --foreground -k 10 "$timeout_s" "$@" </dev/null 2>&1 || rc=$?
        echo "$rc" >"$rcfile"
} | sed -u -e 's/\r$//' -e '/warning: externally provided fw_cfg item names/d' | tee "$log"

qrc=$(cat "$rcfile")
status=$(sed -n 's/^.*CORUN-VM-EXIT=\([0-9][0-9]*\).*$/\1/p' "$log" | tail -n 1)
if [ -z "$status" ]; then
        case $qrc in
        124 | 137) die "FAIL: the VM did not finish within ${timeout_s}s (raise -t; TCG is slow)" ;;
        0) die "FAIL: the VM stopped without reporting an exit status (did /init crash? see the console above)" ;;
        *)
                # qemu exits 1 at once when it cannot start (bad option, no memory, no
                # kernel image), with only its own "qemu-system-x86_64: ..." lines; a
                # guest that booted and then died wrote something else on the console.
                if grep -v -e '^qemu-system-x86_64:' -e '^[[:space:]]*$' "$log" | grep -q .; then
                        die "FAIL: qemu exited with status $qrc after the VM booted (see the console above)"
                fi
                not_started "qemu exited with status $qrc before the VM booted (see its message above)"
                ;;
        esac
fi
exit "$status"
