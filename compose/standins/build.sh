#!/usr/bin/env bash
# Build local stand-ins for the official images named in our FROM and image: lines
# (python:3.12-slim, postgres:15, nginx:1.27), so that CI never pulls from a registry.
#
# One Debian bookworm rootfs (debootstrap --variant=minbase) carries Python, PostgreSQL
# and nginx; it is imported once and three thin Dockerfiles give it each official
# image's entrypoint, command, users and paths.  The rootfs tarball is cached under
# $STANDIN_CACHE, keyed by the package list, so reruns skip the debootstrap.
#
# Usage: DOCKER_HOST=unix:///... compose/standins/build.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${STANDIN_CACHE:-/var/cache/telecom-standins}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
docker=${DOCKER:-docker}

# Keep in step with docker-compose.yml, compose/production.yml and the Dockerfile.
PYTHON_TAG=python:3.12-slim
POSTGRES_TAG=postgres:15
NGINX_TAG=nginx:1.27

# curl: the official nginx images ship it, and compose/nginx-upstreams.sh probes with it.
packages=python3,python3-venv,python3-pip,ca-certificates,postgresql-15,nginx-light,curl
# The rootfs depends only on what debootstrap is asked for; the thin layers are rebuilt
# each time (docker's build cache makes that instant when nothing changed).
key=$(printf 'bookworm minbase %s\n' "$packages" | sha256sum | cut -c1-16)
rootfs_tar=$cache/rootfs-$key.tar
base=telecom-standin-base:$key

log() { printf '[standins] %s\n' "$*" >&2; }

build_rootfs() {
    local dir
    dir=$(mktemp -d "$cache/rootfs.XXXXXX")
    log "debootstrap bookworm into $dir (a few minutes)"
    debootstrap --variant=minbase \
        --include="$packages" \
        bookworm "$dir" "$mirror" >"$cache/debootstrap.log" 2>&1 \
        || { tail -n 30 "$cache/debootstrap.log" >&2; exit 1; }
    # Debian's cluster "main" and apt lists are not part of what the images imitate.
    chroot "$dir" pg_dropcluster 15 main >/dev/null 2>&1 || true
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
    tar -C "$dir" --numeric-owner -cf "$rootfs_tar.part" .
    mv "$rootfs_tar.part" "$rootfs_tar"
    rm -rf "$dir"
}

mkdir -p "$cache"
if [[ ! -s $rootfs_tar ]]; then
    build_rootfs
else
    log "rootfs cached: $rootfs_tar"
fi

if ! "$docker" image inspect "$base" >/dev/null 2>&1; then
    log "importing $base"
    "$docker" import "$rootfs_tar" "$base" >/dev/null
fi

# The build context: this folder plus the machine's own extra CA certificates, which the
# python stand-in trusts so that pip inside `docker build` works where TLS is intercepted.
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp "$here"/* "$context"/
mkdir -p "$context/local-ca"
cp /usr/local/share/ca-certificates/*.crt "$context/local-ca/" 2>/dev/null || true

for spec in "python:$PYTHON_TAG" "postgres:$POSTGRES_TAG" "nginx:$NGINX_TAG"; do
    name=${spec%%:*}
    tag=${spec#*:}
    log "tagging $tag"
    "$docker" build -q --build-arg "BASE=$base" -t "$tag" -f "$context/Dockerfile.$name" "$context" >/dev/null
done
log "stand-ins ready: $PYTHON_TAG $POSTGRES_TAG $NGINX_TAG"
