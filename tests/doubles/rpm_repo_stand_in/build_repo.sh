#!/bin/sh
# TEST DOUBLE: builds a local dnf repository of stand-in RPMs, one per name given,
# each empty (no payload) except epel-release, whose stand-in drops a repo file
# for the EPEL stand-in repository at $EPEL_URL. Real rpmbuild and createrepo_c;
# the packages' contents are the stand-in part.
# Usage: build_repo.sh REPO_DIR NAME...
set -eu
repo=$1
shift
epel_url=${EPEL_URL:-file:///srv/rpm-stand-ins/epel}
top=$(mktemp -d)
spec=$top/stand-ins.spec
{
  printf '%s\n' 'Name: mocha-ansible-stand-ins' 'Version: 0' 'Release: 1' 'Summary: TEST DOUBLE' \
    'License: none' 'BuildArch: noarch' '%description' 'TEST DOUBLE'
  for name in "$@"; do
    printf '%s\n' "%package -n $name" "Summary: TEST DOUBLE standing in for $name" \
      "%description -n $name" "TEST DOUBLE: an empty package named $name" "%files -n $name"
    if [ "$name" = epel-release ]; then
      printf '%s\n' '/etc/yum.repos.d/epel.repo'
    fi
  done
  printf '%s\n' '%install' 'mkdir -p %{buildroot}/etc/yum.repos.d'
  case " $* " in
    *" epel-release "*)
      printf '%s\n' "printf '[epel]\\nname=EPEL stand-in\\nbaseurl=$epel_url\\ngpgcheck=0\\nenabled=1\\n' > %{buildroot}/etc/yum.repos.d/epel.repo"
      ;;
  esac
} > "$spec"
rpmbuild -bb --quiet --define "_topdir $top" "$spec" >/dev/null
mkdir -p "$repo"
find "$top/RPMS" -name '*.rpm' -exec cp {} "$repo" \;
createrepo_c --quiet "$repo"
rm -rf "$top"
