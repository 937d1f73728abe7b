"""The sandbox binds local sources outside any home folder, so a 0700 HOME hides nothing from the build user."""

from __future__ import annotations

from pathlib import Path

from mocha_ansible import sandbox


def test_sources_are_mounted_under_srv_and_rewritten(tmp_path: Path) -> None:
    home = tmp_path / "root-home"
    julia, mocha, www = home / "mirrors" / "julia", home / "mirrors" / "mocha", home / "mirrors" / "www"
    for folder in (julia, mocha, www):
        folder.mkdir(parents=True)
    (www / "cifar.tar.gz").write_bytes(b"x")
    sources = {
        "julia_build_repo_url": f"file://{julia}",
        "mocha_cifar_source": str(mocha),
        "mocha_cifar_dataset_url": f"file://{www}/cifar.tar.gz",
    }
    over = sandbox.role_overrides("img", sources)
    assert over["julia_build_repo_url"] == "file:///srv/mocha-ansible/0-julia"
    assert over["mocha_cifar_source"] == "/srv/mocha-ansible/1-mocha"
    assert over["mocha_cifar_dataset_url"] == "file:///srv/mocha-ansible/2-www/cifar.tar.gz"
    assert over["mocha_sandbox_volumes"] == [
        f"{julia}:/srv/mocha-ansible/0-julia:ro",
        f"{mocha}:/srv/mocha-ansible/1-mocha:ro",
        f"{www}:/srv/mocha-ansible/2-www:ro",
    ]
    assert not any(str(home) in str(v) for k, v in over.items() if k != "mocha_sandbox_volumes")


def test_remote_sources_are_left_alone() -> None:
    sources = {"julia_build_repo_url": "https://github.com/JuliaLang/julia.git", "mocha_cifar_source": "pkg"}
    over = sandbox.role_overrides("img", sources)
    assert over["julia_build_repo_url"] == "https://github.com/JuliaLang/julia.git"
    assert over["mocha_cifar_source"] == "pkg"
    assert over["mocha_sandbox_volumes"] == []
