#!/bin/sh
# TEST DOUBLE: make the stand-in Mocha tree a git repository with tag v0.2.0.
set -eu
dest=$1
rm -rf "$dest"
cp -r "$(cd "$(dirname "$0")" && pwd)/mocha_tree" "$dest"
cd "$dest"
git init -q
git config user.email double@example.invalid
git config user.name "mocha stand-in"
git add -A
git commit -qm "Mocha stand-in v0.2.0"
git tag v0.2.0
