"""The route verdict for every preset x Julia version x method x backend (issue 15).

Each case states the link that must break first (or none) and words its message
must hold. The expectations are the facts themselves, written out here; the code
under test joins the roles' tables (docs/compatibility.md).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from mocha_ansible import route
from mocha_ansible.config import build_settings
from mocha_ansible.errors import ConfigError
from mocha_ansible.preflight import judge_route

PRESETS = ("ubuntu-20.04", "dlami-ubuntu", "dlami-al2023")
JULIAS = ("v0.4.7", "v0.5.0", "v0.6.4")
METHODS = ("binary", "source", "source-full")
BACKENDS = {"auto": None, "gpu": True, "cpu": False}
A_CHECKSUM = "sha256:" + "ab" * 32


def _settings(**flags: Any) -> Any:
    extra = flags.pop("extra_vars", {})
    return build_settings({}, {**flags, "extra_vars": extra})


def _expected(preset: str, julia: str, method: str, backend: str) -> tuple[str, str]:
    """(first broken link, words of its message), or ("", words of the route line)."""
    if preset == "ubuntu-20.04" and backend != "cpu":
        return "driver", "has no NVIDIA driver"
    if method == "source":
        # Every tabled release's git build fetches PCRE from a host that is gone, so its dependency
        # sources come from the -full tarball; then no preset's GCC builds 0.4-0.6 on the host.
        return "julia", "needs GCC <="
    if method == "source-full":
        # No public sha256 of any -full tarball: refused until the user names one.
        return "julia", "no checksummed source-full tarball"
    if preset == "dlami-al2023":
        # AL2023's repositories have no HDF5, which Mocha needs.
        return "mocha", "has no HDF5 package"
    if backend == "gpu":
        # Both DLAMIs ship cuDNN 9; every Mocha calls cuDNN 4 or 5.
        return "mocha", "lacks Mocha"
    return "", "CPU + native extension"


CASES = list(itertools.product(PRESETS, JULIAS, METHODS, BACKENDS))


@pytest.mark.parametrize(("preset", "julia", "method", "backend"), CASES, ids=["-".join(c) for c in CASES])
def test_verdict_for_every_combination(preset: str, julia: str, method: str, backend: str) -> None:
    settings = _settings(ami=preset, julia_version=julia, julia_from=method, cuda=BACKENDS[backend])
    chosen = route.evaluate(settings)
    link, words = _expected(preset, julia, method, backend)
    if link:
        assert chosen.broken, chosen.line()
        assert chosen.broken[0].name == link, chosen.broken[0]
        assert words in chosen.broken[0].detail
        assert chosen.broken[0].fix, "a refusal names its fix"
    else:
        assert chosen.broken == [], chosen.broken
        assert words in chosen.line()


@pytest.mark.parametrize(
    ("preset", "julia", "verdict"),
    [
        # Julia 0.4/0.5 need GCC <= 5: no preset has one, not even installable.
        ("ubuntu-20.04", "v0.4.7", "needs GCC <= 5"),
        ("dlami-ubuntu", "v0.5.0", "needs GCC <= 5"),
        ("dlami-al2023", "v0.5.0", "needs GCC <= 5"),
        # Julia 0.6 needs GCC <= 7: focal's archive has gcc-7, but the role builds with the
        # default GCC 9; jammy's and AL2023's archives have no GCC that old.
        ("ubuntu-20.04", "v0.6.4", "gcc-7 is in its archive"),
        ("dlami-ubuntu", "v0.6.4", "needs GCC <= 7"),
        ("dlami-al2023", "v0.6.4", "needs GCC <= 7"),
    ],
)
def test_source_full_with_a_checksum_is_judged_by_the_compiler(preset: str, julia: str, verdict: str) -> None:
    settings = _settings(
        ami=preset, julia_version=julia, julia_from="source-full", cuda=False,
        extra_vars={"julia_build_source_full_checksum": A_CHECKSUM},
    )  # fmt: skip
    chosen = route.evaluate(settings)
    assert chosen.broken[0].name == "julia"
    assert verdict in chosen.broken[0].detail
    assert "--julia-from binary" in (chosen.broken[0].fix or "")


def test_the_defaults_pass_their_own_route() -> None:
    chosen = route.evaluate(_settings())
    assert chosen.broken == []
    line = chosen.line()
    for words in (
        "dlami-ubuntu (Ubuntu 22.04, driver 595, CUDA 13.2, GCC 11)",
        "g4dn.xlarge (Tesla T4, sm_75)",
        "Julia v0.6.4 by binary",
        "Mocha v0.3.1",
    ):
        assert words in line
    # The reason the GPU stays off, and the time against the cap.
    assert "cuDNN 9 lacks Mocha v0.3.1's calls (needs cuDNN 5)" in line
    assert chosen.backend == "cpu"
    assert chosen.hours is not None and chosen.hours <= 4
    assert "of 4 h" in line


@pytest.mark.parametrize(
    ("julia", "version", "accepted"),
    [("v0.6.4", "v0.1.3", "v0.3.0, v0.3.1"), ("v0.6.4", "0.2.0", "v0.3.0, v0.3.1"), ("v0.5.0", "v0.3.1", "v0.2.0")],
)
def test_a_mocha_tag_with_no_example_row_for_its_julia_is_refused(julia: str, version: str, accepted: str) -> None:
    """Issue 30: mocha_cifar runs the CIFAR-10 example only with the fixes tabled for the pair
    (roles/mocha_cifar/vars/example_patches.yml)."""
    chosen = route.evaluate(_settings(julia_version=julia, cuda=False, extra_vars={"mocha_cifar_version": version}))
    link = chosen.broken[0]
    assert link.name == "mocha"
    tag, minor = "v" + version.removeprefix("v"), julia[1:4]
    assert link.detail == (
        f"mocha_cifar_version={tag} has no row for Julia {minor} in roles/mocha_cifar/vars/example_patches.yml,"
        " so its CIFAR-10 example is unchecked there"
    )
    assert f"TAG one of {accepted}," in (link.fix or "")


@pytest.mark.parametrize("version", ["v0.3.0", "0.3.1", "v0.3.1"])
def test_a_mocha_tag_with_an_example_row_passes(version: str) -> None:
    chosen = route.evaluate(_settings(extra_vars={"mocha_cifar_version": version}))
    assert chosen.broken == []
    assert f"Mocha v{version.removeprefix('v')} CPU" in chosen.line()


def test_a_k80_with_a_dlami_is_refused() -> None:
    chosen = route.evaluate(_settings(instance_type="p2.xlarge"))
    assert chosen.broken[0].name == "driver"
    assert "does not support p2.xlarge" in chosen.broken[0].detail
    assert "470" in (chosen.broken[0].fix or "")


def test_training_that_outlives_the_auto_terminate_is_refused_with_a_fitting_max_iter() -> None:
    chosen = route.evaluate(_settings(max_iter=70000))
    assert chosen.broken[0].name == "time"
    assert "max_iter=70000" in chosen.broken[0].detail
    fix = chosen.broken[0].fix or ""
    fitting = int(fix.split("--max-iter ")[1].split()[0])
    assert 0 < fitting < 70000
    assert route.evaluate(_settings(max_iter=fitting)).broken == []


def test_the_auto_terminate_opt_out_or_a_longer_cap_lifts_the_time_refusal() -> None:
    assert route.evaluate(_settings(max_iter=70000, max_hours=20)).broken == []
    off = _settings(max_iter=70000, extra_vars={"ec2_gpu_disable_auto_terminate": True})
    assert route.evaluate(off).broken == []


def test_a_cpu_route_on_a_gpu_type_names_the_cheaper_cpu_type() -> None:
    chosen = route.evaluate(_settings())
    advice = next(x.detail for x in chosen.links if x.name == "cost")
    assert "--instance-type c6i.xlarge --no-cuda" in advice
    assert not [x for x in route.evaluate(_settings(cuda=True, extra_vars={"mocha_cifar_cudnn_compat": True})).links
                if x.name == "cost"]  # fmt: skip


def test_a_cpu_instance_with_no_cuda_is_a_cpu_route() -> None:
    chosen = route.evaluate(_settings(instance_type="c6i.xlarge", cuda=False))
    assert chosen.broken == []
    assert "c6i.xlarge (no GPU)" in chosen.line()
    assert "4 threads" in chosen.line()


def test_the_gpu_backend_through_the_experimental_compatibility_layer_is_allowed() -> None:
    chosen = route.evaluate(_settings(cuda=True, extra_vars={"mocha_cifar_cudnn_compat": True}))
    assert chosen.broken == []
    assert chosen.backend == "gpu"
    assert "experimental" in chosen.line()


def test_an_unknown_ami_id_warns_and_leaves_the_checks_to_the_host() -> None:
    chosen = route.evaluate(_settings(ami="ami-0123456789abcdef0"))
    assert chosen.broken == []
    assert [x.status for x in chosen.links if x.name == "driver"] == ["warn"]


def test_the_sandbox_compiler_is_checked_when_known() -> None:
    settings = _settings(julia_from="source-full", julia_version="v0.6.4",
                         extra_vars={"julia_build_source_full_checksum": A_CHECKSUM})  # fmt: skip
    chosen = route.evaluate(settings, host_gcc="12.2.0", sandbox=True)
    assert chosen.broken[0].name == "julia"
    assert "GCC 12.2.0" in chosen.broken[0].detail


def test_a_broken_route_is_bad_input_exit_2() -> None:
    with pytest.raises(ConfigError) as err:
        judge_route(_settings(ami="ubuntu-20.04"))
    assert err.value.exit_code == 2
    assert str(err.value).startswith("route: driver: ami=ubuntu-20.04 has no NVIDIA driver")
    assert "\n" not in str(err.value)


def test_amazon_linux_2023_passes_once_hdf5_packages_are_named() -> None:
    named = _settings(ami="dlami-al2023", extra_vars={"mocha_cifar_hdf5_packages": ["hdf5-from-my-repo"]})
    assert route.evaluate(named).broken == []
