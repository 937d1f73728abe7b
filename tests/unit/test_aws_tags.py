"""The package finds resources by the very tags the ec2_gpu role writes."""

from __future__ import annotations

from mocha_ansible import aws
from mocha_ansible.project import role_yaml


def test_the_package_reads_its_tag_names_from_the_role_in_order():
    tags = role_yaml("ec2_gpu", "vars/main.yml")["ec2_gpu_lookup_tags"]
    assert list(tags) == [aws.TAG_PROJECT, aws.TAG_DEPLOYMENT, aws.TAG_OWNER]
    assert (aws.TAG_PROJECT, aws.TAG_DEPLOYMENT, aws.TAG_OWNER) == (
        "mocha-ansible:project",
        "mocha-ansible:deployment",
        "mocha-ansible:owner",
    )
    assert aws.PROJECT_TAG == tags[aws.TAG_PROJECT] == "mocha-ansible"


def test_the_role_filters_by_the_same_tags_the_package_filters_by():
    role_filters = role_yaml("ec2_gpu", "vars/main.yml")["ec2_gpu_lookup_filters"]
    for f in aws.tag_filters("d", "o"):
        assert f"'{f['Name']}'" in role_filters
