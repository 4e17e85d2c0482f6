#!/bin/sh
# vm-initrd.sh INIT OUT.gz: build an initramfs whose /init is the static
# binary INIT, with the virtio block modules of the installed cloud kernel
# under /mod (uncompressed, named virtio_ring.ko, virtio.ko, ...).
# /mod/order names the modules in the order they must be loaded (with
# finit_module); a module the kernel has built in is left out. Prints the
# kernel's path. It needs the Debian cloud kernel and cpio, which
# .ci/powercut installs.
set -eu
init=$1 out=$2
kernel=$(ls /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -1)
if [ -z "$kernel" ]; then
	echo "vm-initrd.sh: no /boot/vmlinuz-*-cloud-amd64 (.ci/powercut installs linux-image-cloud-amd64)" >&2
	exit 1
fi
kver=${kernel#/boot/vmlinuz-}
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
(cd "$root" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$out"
echo "$kernel"
