#!/bin/sh
# TEST DOUBLE: create the Julia source stand-in repository at $1 (see README.md).
# With $2 (an executable, e.g. ../julia_mocha_stand_in/julia), the installed julia
# hands every call it does not understand to a copy of it.
set -eu
dest=$1
delegate=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$dest"
mkdir -p "$dest"
cp "$here/Makefile" "$here/julia.c" "$dest/"
if [ -n "$delegate" ]; then cp "$delegate" "$dest/delegate" && chmod 0755 "$dest/delegate"; fi
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
