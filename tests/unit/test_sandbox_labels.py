"""The sandbox's containers carry the labels the package later finds them by."""

from __future__ import annotations

import ast

import jinja2
import yaml

from mocha_ansible import sandbox
from tests.helpers import ROOT


def test_the_playbook_labels_containers_with_the_names_the_package_filters_by():
    play = yaml.safe_load((ROOT / "playbooks" / "sandbox.yml").read_text(encoding="utf-8"))[1]
    play_vars: dict[str, object] = {}
    for name in play["vars_files"]:
        play_vars.update(yaml.safe_load((ROOT / "playbooks" / name).read_text(encoding="utf-8")))
    [start] = [t for t in play["tasks"] if "community.docker.docker_container" in t]
    expression = start["community.docker.docker_container"]["labels"]
    rendered = jinja2.Environment(autoescape=False).from_string(expression.strip())
    labels = ast.literal_eval(
        rendered.render(**play_vars, mocha_sandbox_id="sid", ec2_gpu_deployment="dep", item="i-1")
    )
    assert labels == {sandbox.SANDBOX_LABEL: "sid", sandbox.DEPLOYMENT_LABEL: "dep", "mocha-ansible.instance-id": "i-1"}
    assert (sandbox.SANDBOX_LABEL, sandbox.DEPLOYMENT_LABEL) == ("mocha-ansible.sandbox", "mocha-ansible.deployment")
