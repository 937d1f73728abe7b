"""`status`: what carries the project's tags, its cost so far, and each cost guard's own report."""

from __future__ import annotations

import json
from collections.abc import Sequence

from mocha_ansible import aws, endpoint
from mocha_ansible.cost import cost_so_far
from mocha_ansible.errors import MochaAnsibleError
from mocha_ansible.terminal_text import printable


def guard_states(live: Sequence[aws.Instance]) -> tuple[dict[str, str], str | None]:
    """The cost guard's own report from each running instance's console, not arithmetic on tags.

    A console that cannot be read (no ec2:GetConsoleOutput, say) leaves the rest of the
    status intact: that guard shows as "unread", and the reason is given once.
    """
    guards: dict[str, str] = {}
    unread: str | None = None
    for inst in live:
        if inst.state != "running":
            continue
        try:
            guards[inst.instance_id] = aws.guard_report(inst.region, inst.instance_id).state
        except MochaAnsibleError as exc:
            guards[inst.instance_id], unread = "unread", str(exc)
    return guards, unread


def _print_json(live: list[aws.Instance], guards: dict[str, str], unread: str | None, emulated: bool) -> None:
    spent, complete = cost_so_far(live)
    rows = [
        {**i.as_dict(), "guard": guards.get(i.instance_id), "estimated_cost_usd": round(cost_so_far([i])[0], 4)}
        for i in live
    ]
    print(
        json.dumps(
            {
                "type": "status",
                "instances": rows,
                "estimated_cost_usd": round(spent, 4),
                "cost_complete": complete,
                "emulated": emulated,
                "guard_unread": unread,
            }
        )
    )


def _print_table(live: list[aws.Instance], guards: dict[str, str], unread: str | None) -> None:
    spent, complete = cost_so_far(live)
    header = f"{'ID':<21} {'TYPE':<13} {'STATE':<10} {'IP':<16} {'LAUNCHED':<17} {'UPTIME':>7} {'COST':>8}"
    print(f"{header}  DEPLOYMENT  EXPIRES           GUARD")
    for i in live:
        launched = i.launch_time.isoformat(timespec="minutes")[:16] if i.launch_time else "-"
        expires = i.expires.isoformat(timespec="minutes")[:16] if i.expires else "-"
        # Each column is what AWS answered: tags (deployment), and the guard's report from the host's console.
        print(
            printable(
                f"{i.instance_id:<21} {i.instance_type:<13} {i.state:<10} {i.public_ip or '-':<16} {launched:<17} "
                f"{i.uptime_hours():6.2f}h ${cost_so_far([i])[0]:7.2f}  {i.deployment or '-':<10}  "
                f"{expires:<16}  {guards.get(i.instance_id, '-')}"
            )
        )
    if unread:
        print(printable(f"GUARD unread: {unread}"))
    print(f"Estimated cost so far: ${spent:.2f}" + ("" if complete else " (some types are not in the price table)"))


def show(regions: list[str], deployment: str | None, owner: str | None, json_mode: bool) -> None:
    """Print the tagged instances of `regions` (one deployment's or all, one owner's or everyone's)."""
    instances = [i for r in regions for i in aws.footprint(r, deployment, owner).instances]
    live = [i for i in instances if i.state != "terminated"]
    url = endpoint.invented_by()
    emulated = url is not None
    guards, unread = guard_states(live)
    if json_mode:
        _print_json(live, guards, unread, emulated)
        return
    if emulated:
        print(
            f"EMULATED: the endpoint {url} is not AWS's own; these instances, addresses and costs are the emulator's"
            " (the cost is what AWS would bill; nothing is billed)."
        )
    if not live:
        print("No instances carry the mocha-ansible tags in " + ", ".join(regions) + ".")
        return
    _print_table(live, guards, unread)
