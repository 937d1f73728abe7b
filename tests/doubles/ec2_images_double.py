"""A test double for the one EC2 call the plan's AMI check makes (describe_images), answering like AWS for
an owner alias such as "amazon", which the emulator cannot give images it registers."""

from __future__ import annotations

import fnmatch
from typing import Any


class Ec2ImagesDouble:
    def __init__(self, owner: str, images: list[dict[str, Any]]) -> None:
        self.owner, self.images = owner, images

    def describe_images(self, *, Owners: list[str], Filters: list[dict[str, Any]]) -> dict[str, Any]:
        [pattern] = [f["Values"][0] for f in Filters if f["Name"] == "name"]
        if self.owner not in Owners:
            return {"Images": []}
        return {"Images": [i for i in self.images if fnmatch.fnmatchcase(i["Name"], pattern)]}
