"""What julia_build left in the container (with the stand-in source tree)."""

import json


def test_latest_stable_resolved_to_v050_and_the_link_points_into_the_prefix(host):
    link = host.file("/usr/local/bin/julia")
    assert link.is_symlink
    assert link.linked_to == "/opt/julia/v0.5.0/bin/julia"
    assert host.check_output("/usr/local/bin/julia --version") == "julia version 0.5.0"
    assert host.check_output("/usr/local/bin/julia -e 'println(1+1)'") == "2"


def test_each_version_was_built_once_as_the_build_user_with_the_jobs_asked_for(host):
    runs = host.file("/var/tmp/make-runs.log").content_string.splitlines()
    # 0.6.4: the source-full build of the -full stand-in tarball; binary ran no make.
    assert [r.split()[0] for r in runs] == ["0.5.0", "0.6.4", "0.4.7"]
    assert all(r.split()[1] == "julia-build" for r in runs)
    assert all("-j3" in r for r in runs)


def test_make_user_reached_the_build(host):
    record = host.file("/var/cache/mocha-ansible/julia/build-v0.5.0/build-record.txt").content_string
    assert "MARCH = x86-64" in record and "USE_SYSTEM_LIBM = 1" in record
    assert "USER=julia-build" in record


def test_the_build_went_through_ccache_and_its_cache_stays(host):
    record = host.file("/var/cache/mocha-ansible/julia/build-v0.5.0/build-record.txt").content_string
    assert "USECCACHE = 1" in record and "CC=ccache " in record
    assert "CCACHE_DIR=/var/cache/mocha-ansible/julia/ccache" in record
    stats = host.run("CCACHE_DIR=/var/cache/mocha-ansible/julia/ccache ccache -s")
    assert stats.rc == 0 and "cache" in stats.stdout.lower()
    cached = host.run("find /var/cache/mocha-ansible/julia/ccache -type f | wc -l")
    assert int(cached.stdout.strip()) > 0


def test_both_versions_stay_installed_and_root_owned(host):
    for version in ("v0.4.7", "v0.5.0"):
        binary = host.file(f"/opt/julia/{version}/bin/julia")
        assert binary.exists and binary.user == "root"


def test_fact_and_build_packages(host):
    fact = json.loads(host.file("/etc/ansible/facts.d/julia.fact").content_string)
    assert fact["version"] == "v0.5.0" and fact["jobs"] == 3
    for pkg in ("gfortran", "cmake", "hdf5-tools", "libopenblas0", "m4", "pkg-config"):
        assert host.package(pkg).is_installed, pkg


def test_no_sudo_on_the_host(host):
    """Issue 14.4: prepare removed sudo; the role cloned, built and linked all the same."""
    assert not host.exists("sudo")


def test_the_build_tree_is_at_the_tags_commit(host):
    tree = "/var/cache/mocha-ansible/julia/build-v0.5.0"
    head = host.check_output(f"runuser -u julia-build -- git -C {tree} rev-parse HEAD")
    tag = host.check_output("git -C /srv/julia-stand-in rev-parse 'v0.5.0^{commit}'")
    assert head == tag


def test_the_refused_pin_built_nothing(host):
    assert not host.file("/opt/pinned").exists


def test_binary_unpacked_the_official_layout_into_prefix_tag_and_linked_it(host):
    link = host.file("/opt/bin/julia-binary")
    assert link.is_symlink and link.linked_to == "/opt/julia/v0.6.4/bin/julia"
    assert host.check_output("/opt/bin/julia-binary --version") == "julia version 0.6.4"
    assert host.check_output("/opt/bin/julia-binary -e 'println(1+1)'") == "2"
    # The stand-in tarball's top folder (julia-<hash>) was stripped, and the unpack folder renamed away.
    assert host.file("/opt/julia/v0.6.4/libexec/julia-stand-in/delegate").exists
    assert not host.file("/opt/julia/v0.6.4.partial").exists
    assert host.file("/opt/julia/v0.6.4/bin/julia").user == "root"
    kept = host.file("/var/cache/mocha-ansible/julia-downloads/julia-0.6.4-linux-x86_64.tar.gz")
    assert kept.exists and kept.user == "root"
    assert host.file("/var/cache/mocha-ansible/julia-downloads").user == "root"
    fact = json.loads(host.file("/etc/ansible/facts-binary.d/julia.fact").content_string)
    assert fact["method"] == "binary" and fact["version"] == "v0.6.4" and fact["path"] == "/opt/julia/v0.6.4"


def test_source_full_built_the_full_tarball_without_git(host):
    link = host.file("/opt/bin/julia-full")
    assert link.is_symlink and link.linked_to == "/opt/julia-full/v0.6.4/bin/julia"
    assert host.check_output("/opt/bin/julia-full --version") == "julia version 0.6.4"
    tree = "/var/cache/mocha-ansible/julia/full-v0.6.4"
    assert not host.file(f"{tree}/.git").exists
    record = host.file(f"{tree}/build-record.txt").content_string
    assert "USER=julia-build" in record and "MARCH = x86-64" in record
    assert host.file(tree).user == "julia-build"
    fact = json.loads(host.file("/etc/ansible/facts-full.d/julia.fact").content_string)
    assert fact["method"] == "source-full" and fact["version"] == "v0.6.4"


def test_the_tampered_tarball_installed_nothing_and_kept_the_old_link(host):
    assert not host.file("/opt/tampered/v0.6.4").exists
    assert not host.file("/opt/tampered/v0.6.4.partial").exists
    assert host.file("/opt/tampered/bin/julia").linked_to == "/opt/julia/v0.5.0/bin/julia"
    assert not host.file("/var/cache/tampered-downloads/julia-0.6.4-linux-x86_64.tar.gz").exists
