"""What instances have cost so far, from the price column of ec2_gpu's instance-type table."""

from __future__ import annotations

from mocha_ansible import aws
from mocha_ansible.role_vars import instance_type_facts


def cost_so_far(instances: list[aws.Instance]) -> tuple[float, bool]:
    """Estimated dollars spent by `instances` so far, and whether every type was priced."""
    table = instance_type_facts()["ec2_gpu_instance_types"]
    total, complete = 0.0, True
    for inst in instances:
        price = (table.get(inst.instance_type) or {}).get("usd_per_hour")
        if price is None:
            complete = False
            continue
        total += float(price) * inst.uptime_hours()
    return total, complete
