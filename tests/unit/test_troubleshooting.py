"""docs/troubleshooting.md reads as a person sees each message (issue 23): no raw Jinja, example values in
its place, and a specific entry for the missing NVIDIA driver with its cause and the fix."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from mocha_ansible import route
from mocha_ansible.arguments import parse_extra_vars
from mocha_ansible.config import build_settings

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "troubleshooting.md"


def test_no_raw_jinja_in_troubleshooting() -> None:
    text = PAGE.read_text(encoding="utf-8")
    raw = re.findall(r"\{\{.*?\}\}|\{%.*?%\}", text)
    assert raw == [], f"raw Jinja in docs/troubleshooting.md: {raw[:5]}"


def test_messages_show_example_values() -> None:
    text = PAGE.read_text(encoding="utf-8")
    # The compiler refusal is rendered by julia_build's own filter, the others from the examples table.
    assert "Julia v0.5.0 builds with GCC 4.7 to 5.x, and this host has GCC 11.4.0." in text
    assert "ec2_gpu_instance_type=t3.large has no NVIDIA GPU" in text


def _driver_section() -> str:
    text = PAGE.read_text(encoding="utf-8")
    return text.split("## The NVIDIA driver is missing", 1)[1].split("\n## ", 1)[0]


def test_missing_driver_entry_names_what_you_see_why_and_the_fix() -> None:
    section = _driver_section()
    assert "nvidia-smi was not found, so no NVIDIA driver is installed" in section
    assert "`ubuntu-20.04` preset" in section
    assert "--ami dlami-ubuntu" in section and "--ami dlami-al2023" in section


def test_every_ami_the_driver_entry_offers_is_a_route_the_tool_accepts() -> None:
    """Issue 34 item 12: the page offered `--ami dlami-al2023` alone, which the route refuses (no HDF5)."""
    offered = re.findall(r"`(--ami [^`]+)`", _driver_section().replace("\n", " "))
    assert len(offered) == 2, offered
    for words in offered:
        argv = shlex.split(words)
        ami, extra = argv[1], parse_extra_vars([argv[i + 1] for i, word in enumerate(argv) if word == "-e"])
        chosen = route.evaluate(build_settings({}, {"ami": ami, "extra_vars": extra}))
        assert chosen.broken == [], f"{words}: {chosen.broken[0].detail}"
