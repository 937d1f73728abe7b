"""Build hook: the wheel carries the Ansible project (roles, playbooks, inventory, ansible.cfg).

roles/, playbooks/ and inventory/ stay the source of truth at the top of the
checkout; this copies them into mocha_ansible/_project/ inside the build, where
mocha_ansible.project finds them once installed. Everything else is pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
# What an installed package needs to run the playbooks; the checkout is the source.
PROJECT_FILES = ("ansible.cfg", "roles", "playbooks", "inventory")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ansible")


class BuildWithProject(build_py):
    def run(self) -> None:
        super().run()
        dest = Path(self.build_lib) / "mocha_ansible" / "_project"
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        for name in PROJECT_FILES:
            source = HERE / name
            if source.is_dir():
                shutil.copytree(source, dest / name, ignore=SKIP)
            else:
                shutil.copy2(source, dest / name)


setup(cmdclass={"build_py": BuildWithProject})
