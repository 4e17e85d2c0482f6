#!/bin/sh
# vm-initrd.sh INIT OUT.gz [FILE...]: build an initramfs whose /init is the
# static binary INIT, with the virtio block modules of the installed cloud
# kernel under /mod (uncompressed, named virtio_ring.ko, virtio.ko, ...) and
# any extra FILEs at its root. /mod/order names the modules in the order
# they must be loaded (with finit_module); a module the kernel has built in
# is left out. Installs qemu-system-x86, the kernel and cpio once. Prints
# the kernel's path.
set -eu
init=$1 out=$2; shift 2
if ! ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1 || ! command -v qemu-system-x86_64 >/dev/null || ! command -v cpio >/dev/null; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends qemu-system-x86 linux-image-cloud-amd64 cpio >/dev/null
fi
kver=$(ls /boot/vmlinuz-*-cloud-amd64 | sort -V | tail -1 | sed 's#.*/vmlinuz-##')
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/mod"
cp "$init" "$root/init"
chmod 755 "$root/init"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
	f=$(find "/lib/modules/$kver" -name "$m.ko*" | head -1)
	case $f in
	'') continue ;;
	*.xz) xz -dc "$f" >"$root/mod/$m.ko" ;;
	*.zst) zstd -dqc "$f" >"$root/mod/$m.ko" ;;
	*) cp "$f" "$root/mod/$m.ko" ;;
	esac
	echo "$m" >>"$root/mod/order"
done
for f in "$@"; do cp "$f" "$root/"; done
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$out"
echo "/boot/vmlinuz-$kver"
