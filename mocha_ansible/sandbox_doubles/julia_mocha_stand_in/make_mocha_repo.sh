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
# Each tag's VERSION names its release, as Mocha's does: after Pkg.pin, Pkg.installed
# reports the pinned version, so a converged re-run does not pin and build again.
for version in 0.1.2 0.2.0 0.3.1; do
  printf '%s\n' "$version" > VERSION
  git commit -qam "Mocha stand-in $version (not Mocha)" --allow-empty
  git tag "v$version"
done
