#!/usr/bin/env bash
# Builds the test bed's base image: a Debian root with systemd, python3, sudo and sshd, made by
# debootstrap from the mirror the controller's apt already uses, then `docker import`ed.
# The packages the roles install are downloaded into the image's apt cache (not installed), so
# every host runs the roles' real installs without fetching the same files again.
# Usage: build-base-image.sh TAG SUITE MIRROR WORKDIR ADMIN_USER [PRESEED_PACKAGES...]
set -euo pipefail
tag=$1 suite=$2 mirror=$3 workdir=$4 admin=$5
shift 5
preseed=("$@")
rootfs=$workdir/rootfs-$suite
rm -rf "$rootfs" && mkdir -p "$rootfs"
trap 'rm -rf "$rootfs"' EXIT

packages=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,openssh-server,iproute2,procps,ca-certificates,gnupg
debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$workdir/debootstrap.log" 2>&1 \
  || { tail -n 30 "$workdir/debootstrap.log" >&2; exit 1; }

cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian}/debian-security $suite-security main
SOURCES

# The non-root admin user Ansible logs in as, with sudo, as on real hosts.
chroot "$rootfs" useradd --create-home --shell /bin/bash "$admin"
echo "$admin ALL=(ALL) NOPASSWD:ALL" >"$rootfs/etc/sudoers.d/90-$admin"
chmod 0440 "$rootfs/etc/sudoers.d/90-$admin"

# Keys come from a read-only bind mount of the controller's public key; no passwords at all.
mkdir -p "$rootfs/etc/ssh/authorized_keys"
cat >"$rootfs/etc/ssh/sshd_config.d/10-testbed.conf" <<'SSHD'
AuthorizedKeysFile /etc/ssh/authorized_keys/%u .ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
UseDNS no
SSHD

# Every container gets host keys of its own at first boot, not the image's.
rm -f "$rootfs"/etc/ssh/ssh_host_*
cat >"$rootfs/etc/systemd/system/testbed-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate SSH host keys for this container
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
UNIT
chroot "$rootfs" systemctl enable testbed-hostkeys.service ssh.service >/dev/null

# Units that need real hardware or a kernel of their own fail in a container: mask them.
chroot "$rootfs" systemctl mask \
  systemd-udevd.service systemd-udevd-kernel.socket systemd-udevd-control.socket \
  systemd-modules-load.service sys-kernel-config.mount getty@tty1.service \
  systemd-remount-fs.service >/dev/null 2>&1

: >"$rootfs/etc/machine-id"
chroot "$rootfs" apt-get clean
if ((${#preseed[@]})); then
  chroot "$rootfs" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive chroot "$rootfs" apt-get install -y -qq --download-only --no-install-recommends "${preseed[@]}" >/dev/null
fi
rm -rf "$rootfs"/tmp/*

tar -C "$rootfs" --numeric-owner -c . | docker import \
  --change 'ENV container=docker' \
  --change 'CMD ["/sbin/init"]' \
  - "$tag" >/dev/null
echo "built $tag"
