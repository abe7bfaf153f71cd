#!/bin/sh
# Builds the root file system of the systemd test VM (tests/vm/run-in-vm.sh -s): a small
# Debian with systemd as PID 1, D-Bus, logind and a user manager, from Debian's own
# packages (mmdebstrap), packed as a gzip'ed cpio that the kernel unpacks as its
# initramfs. Cached under .cache/vm (git-ignored) and built only when missing; its name
# carries a hash of this script, so a change of the package list builds a new one.
# Prints the path of the archive; its file list lies next to it (<archive>.list), so
# the harness adds only the libraries the image lacks.
#
# Usage: scripts/build-vm-systemd-root.sh [CACHE_DIR]  (default <repo>/.cache/vm, or $CORUN_VM_CACHE)
# Needs mmdebstrap (scripts/install-deps.sh), root or unprivileged user namespaces, and
# the host's Debian mirror (about 40 MB are downloaded; 1 minute on our hosts).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
cache=${1:-${CORUN_VM_CACHE:-$repo/.cache/vm}}
tag=$(sha256sum "$0" | cut -c1-12)
out=$cache/systemd-root-$tag.cpio.gz

if [ -s "$out" ] && [ -s "$out.list" ]; then
        echo "$out"
        exit 0
fi
command -v mmdebstrap >/dev/null || { echo "build-vm-systemd-root: mmdebstrap missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
mkdir -p "$cache"

# The host's own Debian release and mirror (its deb822 sources file when there is one),
# never a third-party repository the host may also list.
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
mirror=http://deb.debian.org/debian
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        m=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\/*\)$/\1/p' /etc/apt/sources.list.d/debian.sources | head -n 1)
        [ -n "$m" ] && mirror=$m
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/corun-vm-root.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mode=root
[ "$(id -u)" = 0 ] || mode=unshare

# What the VM needs: systemd as PID 1, the system bus and logind (sessions, the user
# manager), a user bus for the user manager (dbus-user-session), pam_systemd so that
# su/runuser open a session scope, and the tests' tools (jq, pgrep). For the container
# test (issue 18): podman with crun, conmon and catatonit (--init), netavark as the
# network stack podman's common files depend on (4 MB, where the CNI plugins are 45),
# gpg for gpgme (without it apt takes all of gnupg), and busybox-static, from which
# scripts/make-test-image.sh makes the test image. Documentation, manuals and
# translations are left out: the image is about 180 MB unpacked (130 MB without the
# container packages), 67 MB packed.
#
# podman in the VM: the VM boots a kernel without its modules (scripts/fetch-vm-kernel.sh),
# so no overlay file system (the vfs driver copies the image's few MB instead) and no
# bridge or netfilter for a network (containers get none; the test needs none). Its
# root is the initramfs, which pivot_root(2) cannot leave (EINVAL): crun moves the
# container's root over / and chroots instead. Events go to a file, not the journal.
cat >"$tmp/storage.conf" <<'EOF'
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
EOF
cat >"$tmp/containers.conf" <<'EOF'
[containers]
netns = "none"
[engine]
no_pivot_root = true
events_logger = "file"
EOF
echo "build-vm-systemd-root: building the systemd VM root ($suite from $mirror)" >&2
mmdebstrap --mode="$mode" --variant=essential \
        --include=systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,passwd,jq,procps \
        --include=podman,crun,conmon,catatonit,netavark,gpg,busybox-static \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
        --aptopt='Acquire::Retries "3"' \
        --customize-hook='chroot "$1" useradd -m -u 1000 -s /bin/sh corun-user' \
        --customize-hook='echo corun-vm >"$1/etc/hostname"' \
        --customize-hook='printf "127.0.0.1 localhost corun-vm\n" >"$1/etc/hosts"' \
        --customize-hook='rm -f "$1"/etc/systemd/system/getty.target.wants/* "$1"/etc/systemd/system/timers.target.wants/*' \
        --customize-hook="cp '$tmp/storage.conf' '$tmp/containers.conf' \"\$1/etc/containers/\"" \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
        "$suite" "$tmp/root" "$mirror" >"$tmp/log" 2>&1 ||
        { tail -n 30 "$tmp/log" >&2; echo "build-vm-systemd-root: mmdebstrap failed" >&2; exit 1; }

(cd "$tmp/root" && find . | LC_ALL=C sort >"$tmp/list" && cpio -o -H newc -R 0:0 --quiet <"$tmp/list") |
        gzip -1 >"$tmp/root.cpio.gz"
sed 's/^\.//' "$tmp/list" >"$out.list.tmp"
mv "$tmp/root.cpio.gz" "$out.tmp"
# The list last: an archive without its list is rebuilt.
mv "$out.tmp" "$out"
mv "$out.list.tmp" "$out.list"
echo "build-vm-systemd-root: cached $out ($(du -h "$out" | cut -f1))" >&2
echo "$out"
