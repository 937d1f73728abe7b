"""What `teardown` shows: the resources it is about to delete, and what it did or left."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mocha_ansible import aws
from mocha_ansible.errors import ExitCode
from mocha_ansible.lifecycle import TeardownResult


def print_doomed(before: Sequence[aws.Footprint], containers: Sequence[str], amis: bool) -> None:
    """Every resource teardown will delete, one line each."""
    for name in containers:
        print(f"  container      {name} (sandbox)")
    for fp in before:
        for i in fp.instances:
            if i.state != "terminated":
                print(f"  instance       {i.instance_id} ({i.instance_type}, {i.state}) in {fp.region}")
        for sg in fp.security_groups:
            print(f"  security group {sg['id']} ({sg['name']}) in {fp.region}")
        for kp in fp.key_pairs:
            print(f"  key pair       {kp['name']} in {fp.region}")
        for lt in fp.launch_templates:
            print(f"  launch template {lt['name']} in {fp.region}")
        for image in fp.images if amis else []:
            print(f"  baked AMI      {image['id']} ({image['name']}) and its snapshots in {fp.region}")


def kept_amis(before: Sequence[aws.Footprint], amis: bool) -> str | None:
    """The baked AMIs a teardown without --amis leaves: their EBS snapshots bill until removed."""
    kept = [] if amis else [i for fp in before for i in fp.images]
    if not kept:
        return None
    return (
        f"kept {len(kept)} baked AMI(s), whose EBS snapshots keep billing; run this teardown again"
        " with --amis (mocha-ansible teardown --amis) to deregister them and delete their snapshots"
    )


def print_nothing(before: Sequence[aws.Footprint], amis: bool) -> None:
    """Nothing but (perhaps) baked AMIs carries the tags: say so, and how to remove those."""
    note = kept_amis(before, amis)
    if note is None:
        print("Nothing to tear down: no resource carries the mocha-ansible tags.")
    else:
        print(f"Nothing to tear down but baked AMIs: {note}.")


def print_outcome(before: Sequence[aws.Footprint], res: TeardownResult, amis: bool, run_dir: Path) -> int:
    """What was kept, removed and left over; the exit code that says so."""
    note = kept_amis(before, amis)
    if note:
        print(f"  {note}")
    for name in res.containers:
        print(f"  removed container {name}")
    if res.left:
        for fp in res.left:
            print(
                f"Still present in {fp.region}: {len(fp.instances)} instances, "
                f"{len(fp.security_groups)} security groups, {len(fp.key_pairs)} key pairs, "
                f"{len(fp.launch_templates)} launch templates"
            )
        print(f"See the log under {run_dir}/ansible for why.")
        return ExitCode.PLAY_FAILED
    print("Teardown complete: nothing carrying the mocha-ansible tags is left.")
    return ExitCode.OK if res.ok else ExitCode.PLAY_FAILED
