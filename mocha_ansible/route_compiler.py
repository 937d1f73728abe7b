"""The route judge's compiler links: which GCC builds the Julia tag, on the host or in the
era's toolchain container (julia_build's own rules and tables). A part of route._Judge."""

from __future__ import annotations

from typing import Any

from mocha_ansible.role_vars import truthy
from mocha_ansible.route_model import Link, Route, major
from mocha_ansible.settings import Settings


class CompilerLinks:
    """The judge's state these links read, and the links they add."""

    s: Settings
    extra: dict[str, Any]
    t: dict[str, Any]
    jb: Any  # julia_build's filter plugin module
    host_gcc: str | None
    preset: dict[str, Any] | None
    route: Route

    def add(self, name: str, status: str, detail: str, fix: str | None = None) -> None:
        self.route.links.append(Link(name, status, detail, fix))

    def _compiler(self, tag: str, method: str) -> None:
        if truthy(self.extra.get("julia_build_allow_unsupported_gcc")):
            self.add("julia", "warn", "the compiler is not checked (julia_build_allow_unsupported_gcc)")
            return
        row = self.jb.julia_build_gcc_range(tag, self.t["gcc"])
        if tag == "latest-stable" or row is None:
            self.add("julia", "warn", f"{tag}: the compiler is checked on the host, before the build")
            return
        if self.s.julia_toolchain == "container":
            self._container(tag, method)
            return
        if self.host_gcc is not None:
            refusal = self.jb.julia_build_gcc_check(tag, self.host_gcc, self.t["gcc"])
            self.add("julia", "fail" if refusal else "ok", refusal or f"{method} build with GCC {self.host_gcc}",
                     fix=self._host_fix(tag) if refusal else None)  # fmt: skip
            return
        if self.preset is None:
            self.add("julia", "warn", f"{self.s.ami}: its compiler is checked on the host, before the build")
            return
        limit = int(row["gcc_max_major"]) if row.get("gcc_max_major") else None
        gcc = str(self.preset.get("gcc", ""))
        if limit is None or (major(gcc) or 99) <= limit:
            self.add("julia", "ok", f"{method} build of {tag} with {self.s.ami}'s GCC {gcc}")
            return
        installable = [str(g) for g in self.preset.get("gcc_installable") or []]
        older = [g for g in installable if (major(g) or 99) <= limit]
        self.add(
            "julia", "fail",
            f"Julia {tag} needs GCC <= {limit}, and {self.s.ami} has GCC {gcc}"
            + (f" (gcc-{older[0]} is in its archive, but julia_build builds with the default compiler)"
               if older else f" (installable: {', '.join(installable) or 'none'})"),
            fix=self._host_fix(tag),
        )  # fmt: skip

    def _host_fix(self, tag: str) -> str:
        """A host compiler out of range: the era's container builds it, or the official binary."""
        row = self.jb.julia_build_gcc_range(tag, self.t["toolchain"])
        era = f" (builds in {row['image']}, GCC {row['gcc']})" if row else ""
        return f"--julia-toolchain container{era}, or --julia-from binary (the official build of the same release)"

    def _container(self, tag: str, method: str) -> None:
        """The build runs in an image: its GCC is judged, not the host's (issue 16)."""
        image = str(self.extra.get("julia_build_toolchain_image") or "")
        row = self.jb.julia_build_gcc_range(tag, self.t["toolchain"])
        if image and (row is None or image != row["image"]):
            self.route.parts.append(f"built in {image}")
            self.add("julia", "warn", f"{image}: its compiler is checked in the container, before the build")
            return
        if row is None:
            self.add(
                "julia", "fail", f"no toolchain image is tabled for Julia {tag} (julia_build/vars/julia_toolchain.yml)",
                fix="-e julia_build_toolchain_image=IMAGE, or --julia-toolchain host",
            )  # fmt: skip
            return
        self.route.parts.append(f"built in {row['image']} (GCC {row['gcc']})")
        refusal = self.jb.julia_build_gcc_check(tag, str(row["gcc"]), self.t["gcc"])
        built = f"{method} build of {tag} in container {row['image']} with its GCC {row['gcc']}"
        self.add("julia", "fail" if refusal else "ok", refusal or built)
