"""The SSH CIDR check, shared by the role's preflight and mocha_ansible's settings.

A regex cannot see host bits, and amazon.aws turns a CIDR with host bits (1.2.3.4/0)
into its network (0.0.0.0/0): so the address is parsed, strictly, here.
Pure Python, so the package imports it straight from the role.
"""

from __future__ import annotations

import ipaddress

# Narrowest allowed openness without the world-open opt-in: one /24 of IPv4 addresses,
# one /56 of IPv6 (what a provider typically hands one customer).
MIN_PREFIX = {4: 24, 6: 56}


def ec2_gpu_cidr_problem(cidr, open_world=False):
    """'' when `cidr` may be the SSH source; else why not (one line, no value repeated)."""
    text = "" if cidr is None else str(cidr)
    if text == "":
        return ""  # the role detects the caller's own address as a /32
    if "/" not in text:
        return "has no prefix length"
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        return f"does not parse as a CIDR without host bits ({exc})"
    if network.prefixlen < MIN_PREFIX[network.version] and not open_world:
        if network.prefixlen == 0:
            return "opens SSH to the whole internet without the opt-in ec2_gpu_ssh_open_world=true"
        return (
            f"opens SSH to {network.num_addresses} addresses (/{network.prefixlen} is wider than"
            f" /{MIN_PREFIX[network.version]}) without the opt-in ec2_gpu_ssh_open_world=true"
        )
    return ""


def ec2_gpu_cidr_key(cidr):
    """The security group rule key for `cidr`: cidr_ipv6 for IPv6, cidr_ip for IPv4."""
    return "cidr_ipv6" if ":" in str(cidr) else "cidr_ip"


class FilterModule:
    def filters(self):
        return {"ec2_gpu_cidr_problem": ec2_gpu_cidr_problem, "ec2_gpu_cidr_key": ec2_gpu_cidr_key}
