"""What mocha_cifar left in the container (CPU backend, stand-in julia and Mocha)."""

import json

# The role's run folder (laid out as examples/cifar10); Mocha's own tree is left as released.
EXAMPLE = "/var/lib/mocha/cifar10"
MOCHA = "/var/lib/mocha/.julia/v0.5/Mocha"


def test_mocha_use_cuda_is_unset_for_users_when_cuda_is_off(host):
    profile = host.file("/etc/profile.d/mocha.sh").content_string
    assert "unset MOCHA_USE_CUDA" in profile and "export MOCHA_USE_CUDA" not in profile
    out = host.check_output("bash -lc 'echo \"[${MOCHA_USE_CUDA-unset}]\"'")
    assert out == "[unset]"


def test_results_json_holds_the_parsed_numbers_of_the_last_run(host):
    results = json.loads(host.file("/var/lib/mocha/logs/results.json").content_string)
    assert results["iterations"] == 1000 and results["max_iter"] == 1000
    assert results["backend"] == "cpu-native"  # issue 15: the CPU backend with Mocha's native extension
    assert results["threads"] == int(host.check_output("nproc"))
    assert results["tests"] == [{"attempt": 1, "passed": True}]
    assert [o["iter"] for o in results["objective"]][:2] == [0, 200]
    assert results["validation_accuracy"][-1]["iter"] == 1000
    assert results["seconds_per_200_iter"] == 3.0  # the stand-in's simulated clock


def test_max_iter_took_effect_and_fresh_run_cleared_the_snapshots(host):
    longer = host.file("/var/tmp/train-3000.log").content_string
    assert "TRAIN iter=003000" in longer and "TRAIN iter=003200" not in longer
    # The converge's run to 2000 left the snapshot the role has Mocha take at max_iter.
    assert "Loading existing model from snapshots/snapshot-002000.jld" in longer
    last = host.file("/var/lib/mocha/logs/train.log").content_string
    assert "Snapshot directory snapshots/ does not exist or is empty" in last
    assert "TRAIN iter=001000" in last and "TRAIN iter=001200" not in last


def test_one_download_one_add_one_conversion(host):
    calls = host.file("/var/lib/mocha/julia-calls.log").content_string.splitlines()
    assert calls.count('-e Pkg.setprotocol!("https"); Pkg.add("Mocha")') == 1  # Julia 0.5: https
    assert sum(1 for c in calls if c.endswith("convert.jl")) == 1
    assert calls.count('-e Pkg.setprotocol!("https"); Pkg.test("Mocha")') == 1
    http_log = host.file("/var/log/stand-in-http.log").content_string
    # One download into the real cache across five converges; the second GET is the
    # side effect's wrong-checksum attempt into an empty cache of its own.
    assert http_log.count("GET /cifar-10-binary.tar.gz") == 2


def test_dataset_was_converted(host):
    assert host.file(f"{EXAMPLE}/data/train.hdf5").content_string.strip().endswith("x50")
    # get-cifar10.sh's lists, written by the role (convert.jl does not write them).
    assert host.file(f"{EXAMPLE}/data/test.txt").content_string == "data/test.hdf5\n"


def test_the_run_folder_has_julia_05s_fixes_and_mocha_is_as_released(host):
    """Issue 30: the role's copies carry the fixes (vars/example_patches.yml); Mocha's tree is untouched."""
    assert "read(f, " in host.file(f"{EXAMPLE}/convert.jl").content_string.splitlines()[24]
    assert "@static is_windows() ? false : true" in host.file(f"{EXAMPLE}/cifar10.jl").content_string.splitlines()[2]
    status = host.run(f"runuser -u mocha -- git -C {MOCHA} status --porcelain --untracked-files=all -- examples")
    assert status.rc == 0 and status.stdout == ""


def test_hdf5_and_build_tools_came_from_real_apt(host):
    for pkg in ("hdf5-tools", "libhdf5-dev", "g++", "make"):
        assert host.package(pkg).is_installed, pkg


def test_no_sudo_on_the_host(host):
    """Issue 14.4: prepare removed sudo; the role ran all the same (runuser only)."""
    assert not host.exists("sudo")


def test_the_planted_marker_link_did_not_hand_roots_file_to_mocha(host):
    """Issue 22: the stand-in's Pkg.test planted the marker as a link to /etc/mocha-victim."""
    assert host.file("/var/lib/mocha/.mocha-ansible-tested-0.2.0-cpu-native").is_symlink
    victim = host.file("/etc/mocha-victim")
    assert victim.user == "root" and victim.group == "root" and victim.mode == 0o644
    assert victim.content_string == "root's file\n"


def test_what_root_left_in_the_mocha_tree_belongs_to_mocha(host):
    for path in (
        f"{EXAMPLE}",
        f"{EXAMPLE}/data",
        f"{EXAMPLE}/convert.jl",
        f"{EXAMPLE}/cifar10-mocha-ansible.jl",
        f"{EXAMPLE}/.mocha-ansible-trained.json",
        "/var/lib/mocha/.gitconfig",
        "/var/lib/mocha/logs",
    ):
        assert host.file(path).user == "mocha", path
    assert host.file("/var/cache/mocha-ansible/cifar10").user == "root"
    calls = host.file("/var/lib/mocha/julia-calls.log").content_string.splitlines()
    assert '-e Pkg.pin("Mocha", VersionNumber(ARGS[1])) -- 0.2.0' in calls


def test_the_native_extension_was_built_and_every_mocha_process_had_it(host):
    """Issue 15: Pkg.build compiled libmochaext.so (the stand-in's sources, a real g++ -fopenmp);
    Pkg.test, convert.jl and training ran with MOCHA_USE_NATIVE_EXT and OMP_NUM_THREADS."""
    assert host.file(f"{MOCHA}/deps/libmochaext.so").exists
    threads = host.check_output("nproc")
    entries = [json.loads(line) for line in host.file("/var/lib/mocha/julia-env.log").content_string.splitlines()]
    mocha_runs = [e for e in entries if e["args"][-1].endswith(".jl") or "Pkg.test" in " ".join(e["args"])]
    assert {e["args"][-1] for e in mocha_runs} >= {"../convert.jl", "cifar10-mocha-ansible.jl"}
    for entry in mocha_runs:
        assert entry["env"] == {"MOCHA_USE_NATIVE_EXT": "true", "OMP_NUM_THREADS": threads}, entry
