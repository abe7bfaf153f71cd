#!/bin/sh
# Fetches the Debian cloud kernel that the VM tests boot (tests/vm/run-in-vm.sh) into a
# cache dir that git ignores, and prints the path of its vmlinuz. Idempotent: when the
# kernel is cached, nothing is downloaded.
#
# Why the cloud flavour: cgroup2 with the cpuset, cpu, io, memory and pids controllers,
# the 8250 serial console and gzip initramfs support are built in, so the VM needs no
# modules at all, and it boots in a few seconds under TCG.
#
# Usage: scripts/fetch-vm-kernel.sh [CACHE_DIR]   (default: <repo>/.cache/vm, or $CORUN_VM_CACHE)
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${1:-${CORUN_VM_CACHE:-$repo/.cache/vm}}
meta=linux-image-cloud-amd64

if [ -s "$cache/vmlinuz" ]; then
        echo "$cache/vmlinuz"
        exit 0
fi
mkdir -p "$cache"

# The metapackage only depends on the versioned image package, which is what carries
# the kernel; its name changes with every ABI bump, so it is resolved, never hard-coded.
resolve() {
        apt-cache depends "$meta" 2>/dev/null |
                sed -n 's/^ *Depends: \(linux-image-[^ <>]*-cloud-amd64\)$/\1/p' | head -n 1
}
pkg=$(resolve)
updated=0
if [ -z "$pkg" ]; then
        # A fresh machine or container may have no package lists yet.
        echo "fetch-vm-kernel: $meta unknown to apt-cache; running apt-get update" >&2
        apt-get update -qq >&2
        updated=1
        pkg=$(resolve)
fi
[ -n "$pkg" ] || { echo "fetch-vm-kernel: cannot resolve the package behind $meta" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/corun-vm-kernel.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# apt-get download drops privileges to _apt; a directory _apt may write avoids its
# "download is performed unsandboxed" warning when running as root.
if [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1; then
        chown _apt "$tmp"
fi
if ! (cd "$tmp" && apt-get download -q "$pkg" >&2); then
        # The lists may be stale (the mirror dropped that version): refresh them once.
        [ "$updated" = 0 ] || { echo "fetch-vm-kernel: apt-get download $pkg failed" >&2; exit 1; }
        echo "fetch-vm-kernel: download of $pkg failed; running apt-get update and retrying" >&2
        apt-get update -qq >&2
        pkg=$(resolve)
        (cd "$tmp" && apt-get download -q "$pkg" >&2) ||
                { echo "fetch-vm-kernel: apt-get download $pkg failed" >&2; exit 1; }
fi
deb=$(ls "$tmp"/*.deb)
dpkg-deb -x "$deb" "$tmp/root"
vmlinuz=$(ls "$tmp"/root/boot/vmlinuz-* | head -n 1)
[ -f "$vmlinuz" ] || { echo "fetch-vm-kernel: no /boot/vmlinuz-* in $deb" >&2; exit 1; }
# Keep only the kernel image (the modules are not needed, see above), and the version
# for the record; the rename makes a half-written cache impossible.
cp "$vmlinuz" "$cache/vmlinuz.tmp"
basename "$vmlinuz" | sed 's/^vmlinuz-//' > "$cache/kernel-version"
mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
echo "fetch-vm-kernel: cached $pkg ($(cat "$cache/kernel-version"))" >&2
echo "$cache/vmlinuz"
