"""What `teardown` shows: the resources it is about to delete, and what it did or left.

With --json each of these is one JSON object on its own line: `teardown-plan` (what will
be deleted) and `teardown` (the outcome), between the progress events.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mocha_ansible import aws
from mocha_ansible.errors import ExitCode
from mocha_ansible.invocation import command
from mocha_ansible.lifecycle import TeardownResult
from mocha_ansible.terminal_text import printable

# --json's kept_amis_fix: the command by its name, stable for scripts (the text shows it as run here).
AMIS_FIX = "mocha-ansible teardown --amis"


def doomed(before: Sequence[aws.Footprint], containers: Sequence[str], amis: bool) -> list[dict[str, str]]:
    """Every resource teardown will delete."""
    out = [{"kind": "container", "id": name, "detail": "sandbox", "region": ""} for name in containers]
    for fp in before:
        region = fp.region
        out += [
            {"kind": "instance", "id": i.instance_id, "detail": f"{i.instance_type}, {i.state}", "region": region}
            for i in fp.instances
            if i.state != "terminated"
        ]
        out += [
            {"kind": "security group", "id": sg["id"], "detail": sg["name"], "region": region}
            for sg in fp.security_groups
        ]
        out += [{"kind": "key pair", "id": kp["name"], "detail": "", "region": region} for kp in fp.key_pairs]
        out += [
            {"kind": "launch template", "id": lt["name"], "detail": "", "region": region} for lt in fp.launch_templates
        ]
        out += [
            {"kind": "baked AMI", "id": image["id"], "detail": f"{image['name']}, and its snapshots", "region": region}
            for image in (fp.images if amis else [])
        ]
    return out


def print_doomed(before: Sequence[aws.Footprint], containers: Sequence[str], amis: bool, as_json: bool = False) -> None:
    """Every resource teardown will delete, one line each (or one JSON object)."""
    items = doomed(before, containers, amis)
    if as_json:
        print(json.dumps({"type": "teardown-plan", "resources": items}))
        return
    for item in items:
        where = f" in {item['region']}" if item["region"] else ""
        detail = f" ({item['detail']})" if item["detail"] else ""
        # Names are AWS's: whoever created or tagged the resource chose them.
        print(printable(f"  {item['kind']:<14} {item['id']}{detail}{where}"))


def _kept(before: Sequence[aws.Footprint], amis: bool) -> int:
    return 0 if amis else sum(len(fp.images) for fp in before)


def kept_amis(before: Sequence[aws.Footprint], amis: bool) -> str | None:
    """The baked AMIs a teardown without --amis leaves: their EBS snapshots bill until removed."""
    kept = _kept(before, amis)
    if not kept:
        return None
    return (
        f"kept {kept} baked AMI(s), whose EBS snapshots keep billing; run this teardown again"
        f" with --amis ({command('teardown', '--amis')}) to deregister them and delete their snapshots"
    )


def _outcome(before: Sequence[aws.Footprint], amis: bool, complete: bool, **more: Any) -> str:
    kept = _kept(before, amis)
    return json.dumps(
        {"type": "teardown", "complete": complete, "kept_amis": kept, "kept_amis_fix": AMIS_FIX if kept else None}
        | more
    )


def print_nothing(before: Sequence[aws.Footprint], amis: bool, as_json: bool = False) -> None:
    """Nothing but (perhaps) baked AMIs carries the tags: say so, and how to remove those."""
    note = kept_amis(before, amis)
    if as_json:
        print(_outcome(before, amis, True, removed_containers=[], left=[], log=None))
    elif note is None:
        print("Nothing to tear down: no resource carries the mocha-ansible tags.")
    else:
        print(f"Nothing to tear down but baked AMIs: {note}.")


def print_outcome(
    before: Sequence[aws.Footprint], res: TeardownResult, amis: bool, run_dir: Path, as_json: bool = False
) -> int:
    """What was kept, removed and left over; the exit code that says so."""
    code = ExitCode.PLAY_FAILED if res.left or not res.ok else ExitCode.OK
    if as_json:
        left = [
            {
                "region": fp.region, "instances": len(fp.instances), "security_groups": len(fp.security_groups),
                "key_pairs": len(fp.key_pairs), "launch_templates": len(fp.launch_templates),
            }
            for fp in res.left
        ]  # fmt: skip
        log = str(run_dir / "ansible") if res.left else None
        print(_outcome(before, amis, not res.left, removed_containers=list(res.containers), left=left, log=log))
        return code
    note = kept_amis(before, amis)
    if note:
        print(f"  {note}")
    for name in res.containers:
        print(printable(f"  removed container {name}"))
    if res.left:
        for fp in res.left:
            print(
                f"Still present in {fp.region}: {len(fp.instances)} instances, "
                f"{len(fp.security_groups)} security groups, {len(fp.key_pairs)} key pairs, "
                f"{len(fp.launch_templates)} launch templates"
            )
        print(f"See the log under {run_dir}/ansible for why.")
        return code
    print("Teardown complete: nothing carrying the mocha-ansible tags is left.")
    return code
