"""What the route judge finds: each link's verdict, and the route as one line (mocha_ansible/route.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Link:
    name: str
    status: str  # "ok", "warn" or "fail"
    detail: str
    fix: str | None = None


@dataclass
class Route:
    links: list[Link] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    backend: str = "unknown"
    hours: float | None = None

    @property
    def broken(self) -> list[Link]:
        return [link for link in self.links if link.status == "fail"]

    def line(self) -> str:
        return "route: " + " -> ".join(self.parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line(),
            "backend": self.backend,
            "hours": self.hours,
            "links": [vars(x) for x in self.links],
        }


def major(version: str) -> int | None:
    found = re.match(r"\d+", str(version or ""))
    return int(found.group()) if found else None
