#!/bin/sh
# TEST DOUBLE: make the stand-in Mocha tree a git repository tagged as each Mocha release
# that mocha_cifar resolves (vars/mocha_compat.yml): one stand-in tree under every tag.
set -eu
dest=$1
rm -rf "$dest"
cp -r "$(cd "$(dirname "$0")" && pwd)/mocha_tree" "$dest"
cd "$dest"
git init -q
git config user.email double@example.invalid
git config user.name "mocha stand-in"
git add -A
git commit -qm "Mocha stand-in (not Mocha)"
for tag in v0.1.2 v0.2.0 v0.3.1; do git tag "$tag"; done
