#!/bin/sh
# vm-run.sh KERNEL INITRD DISK [APPEND...]: boot a one-CPU VM under TCG (no
# KVM needed) with DISK as /dev/vda; the serial console is this script's
# stdout; extra words are added to the kernel command line (the init can
# read them from /proc/cmdline). DISK is an image file or any file name
# qemu's -drive takes, such as nbd+unix:///?socket=PATH. The script execs
# qemu, so its pid is qemu's: a power cut is a SIGKILL of it.
#
# cryptomgr.notests skips the kernel's crypto self-tests, half a second of
# the boot under TCG. no_timer_check skips the kernel's check that the timer
# interrupt arrives through the IO-APIC, which fails ("IO-APIC + timer
# doesn't work!", a panic) when the host is too busy to run the guest on
# time.
set -eu
kernel=$1 initrd=$2 disk=$3; shift 3
exec qemu-system-x86_64 -accel tcg -m 512 -smp 1 -nographic -no-reboot -nic none \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 quiet panic=-1 cryptomgr.notests no_timer_check $*" \
	-drive "file=$disk,format=raw,if=virtio,cache=writeback"
