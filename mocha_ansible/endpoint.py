"""Which AWS endpoint the run talks to, and whether its addresses are real.

AWS's own endpoints report real instance addresses. Any other endpoint (an
emulator named by AWS_ENDPOINT_URL) makes its instances' public IPs up; they belong
to strangers, so nothing may connect to them. The host pattern is ec2_gpu's
(vars/main.yml), so the role and the package judge an endpoint alike.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

from mocha_ansible.project import role_yaml

# The EC2-specific variable wins over the general one, as in botocore.
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL")


def endpoint_url(environ: dict[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    for name in ENDPOINT_VARIABLES:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def invented_by(environ: dict[str, str] | None = None) -> str | None:
    """The endpoint's URL when the instance addresses it reports are made up (it is not AWS's
    own), else None: the one rule provision, status, ssh-config and logs apply."""
    url = endpoint_url(environ)
    return None if is_aws_own(url) else url


def is_aws_own(url: str | None) -> bool:
    """True for no override (boto3's own choice) or a host under AWS's domains."""
    if url is None:
        return True
    pattern = role_yaml("ec2_gpu", "vars/main.yml")["ec2_gpu_aws_endpoint_host_pattern"]
    return re.match(pattern, urlsplit(url).hostname or "") is not None
