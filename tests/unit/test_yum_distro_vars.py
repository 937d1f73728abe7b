"""Amazon Linux 2023's vars: no EPEL, and no HDF5 promised where its repositories have none.
Amazon Linux 2 has no yum vars left: both roles refuse it (vars/refused_hosts.yml).

The real dnf transactions for these names run in `molecule test -s yum`.
"""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _vars(role: str, name: str) -> dict:
    return yaml.safe_load((ROOT / "roles" / role / "vars" / name).read_text())


def test_al2023_gets_its_own_julia_vars_without_epel_or_hdf5() -> None:
    al2023 = _vars("julia_build", "yum-Amazon-2023.yml")
    assert al2023["julia_build_epel"] == "none"
    assert "hdf5" not in al2023["julia_build_packages"]
    assert "python3-devel" in al2023["julia_build_packages"]
    assert "python-devel" not in al2023["julia_build_packages"]


def test_mocha_cifar_package_vars_per_distro() -> None:
    assert _vars("mocha_cifar", "packages-yum-Amazon-2023.yml")["mocha_cifar_distro_hdf5"] == []
    assert _vars("mocha_cifar", "packages-yum-Amazon-2023.yml")["mocha_cifar_distro_epel"] == "none"
    # Amazon Linux 2 has no vars: it is refused (tests/integration/test_refused_hosts.py).
    assert _vars("mocha_cifar", "packages-yum.yml")["mocha_cifar_distro_epel"] == "package"
    assert _vars("mocha_cifar", "packages-apt.yml")["mocha_cifar_distro_hdf5"] == ["hdf5-tools", "libhdf5-dev"]


def test_amazon_linux_2_has_no_yum_path_left() -> None:
    for role in ("julia_build", "mocha_cifar"):
        folder = ROOT / "roles" / role
        assert not list((folder / "vars").glob("*Amazon-2.yml")), role
        for tasks in (folder / "tasks").glob("*.yml"):
            assert "amazon-linux-extras" not in tasks.read_text(), tasks
