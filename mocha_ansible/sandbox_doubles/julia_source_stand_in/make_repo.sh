#!/bin/sh
# TEST DOUBLE: create the Julia source stand-in repository at $1 (see README.md).
# With $2 (an executable, e.g. ../julia_mocha_stand_in/julia), the installed julia
# hands every call it does not understand to a copy of it.
# With JULIA_DOUBLE_DEPS_FILE (a file), every tag commits deps/checksums/<its name>/sha512
# (not the file): make then needs deps/srccache/<its name> with that checksum.
set -eu
dest=$1
delegate=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$dest"
mkdir -p "$dest"
cp "$here/Makefile" "$here/julia.c" "$dest/"
if [ -n "$delegate" ]; then cp "$delegate" "$dest/delegate" && chmod 0755 "$dest/delegate"; fi
if [ -n "${JULIA_DOUBLE_DEPS_FILE:-}" ]; then
  name=$(basename "$JULIA_DOUBLE_DEPS_FILE")
  mkdir -p "$dest/deps/checksums/$name"
  sha512sum "$JULIA_DOUBLE_DEPS_FILE" | cut -d' ' -f1 > "$dest/deps/checksums/$name/sha512"
fi
cd "$dest"
git init -q
git config user.email double@example.invalid
git config user.name "julia source stand-in"
for tag in v0.4.7 v0.5.0-rc1 v0.5.0 v0.6.0-rc2; do
  echo "${tag#v}" > VERSION
  git add -A
  git commit -qm "release $tag"
  git tag "$tag"
done
