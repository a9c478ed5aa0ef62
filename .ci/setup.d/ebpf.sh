#!/usr/bin/env bash
# ebpf receiver (issue 6): toolchain for the CO-RE programs and the libbpf loader, tracefs for
# the syscalls:* tracepoints, then the build of ebpf-programs/ into receivers/ebpf/native/.
# Idempotent; runs as root on a fresh Debian machine.
set -euo pipefail
source "$(dirname "$0")/../apt.sh"
cd "$(dirname "$0")/../.."

ensure_packages clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config make gcc libc6-dev util-linux

# tracefs: the receiver mounts it itself when it may, but mount it here too so tests see it.
if [ -d /sys/kernel/tracing ] && [ ! -d /sys/kernel/tracing/events ]; then
  mount -t tracefs nodev /sys/kernel/tracing || echo "ebpf.sh: could not mount tracefs (syscall_errors will be unavailable)" >&2
fi

# BPF objects + loader (needs /sys/kernel/btf/vmlinux for vmlinux.h, or VMLINUX_BTF=<file>).
if [ -r /sys/kernel/btf/vmlinux ] || [ -n "${VMLINUX_BTF:-}" ]; then
  make -C ebpf-programs
else
  echo "ebpf.sh: no kernel BTF; skipping the eBPF build (its tests will skip)" >&2
fi
