"""The whole route judged before anything is billed: image -> driver -> GPU,
Julia method -> compiler, Mocha -> backend -> cuDNN, and time -> auto-terminate.

Every fact comes from the roles' own tables (docs/compatibility.md lists them with
their sources); this module only joins them. A broken link is bad input: the CLI
exits 2 naming the link and its fix, before any AWS call.
"""

from __future__ import annotations

import math
from typing import Any

from mocha_ansible.project import role_python, role_yaml
from mocha_ansible.role_vars import instance_type_facts, julia_minor, truthy
from mocha_ansible.route_compiler import CompilerLinks
from mocha_ansible.route_model import Route, major
from mocha_ansible.settings import Settings


def _tables() -> dict[str, Any]:
    return {
        "presets": role_yaml("ec2_gpu", "vars/main.yml")["ec2_gpu_ami_presets"],
        "types": instance_type_facts()["ec2_gpu_instance_types"],
        "releases": role_yaml("julia_build", "vars/julia_releases.yml"),
        "commits": role_yaml("julia_build", "vars/julia_commits.yml")["julia_build_commits"],
        "gcc": role_yaml("julia_build", "vars/julia_gcc.yml")["julia_build_gcc_defaults"],
        "toolchain": role_yaml("julia_build", "vars/julia_toolchain.yml")["julia_build_toolchain_images"],
        "mocha": role_yaml("mocha_cifar", "vars/mocha_compat.yml")["mocha_cifar_compat"],
        "example": role_yaml("mocha_cifar", "vars/example_patches.yml")["mocha_cifar_example_patches"],
        "speed": role_yaml("mocha_cifar", "vars/backend_speed.yml"),
        "compat_layer": role_yaml("mocha_cifar", "vars/cudnn_compat.yml"),
    }


class _Judge(CompilerLinks):
    """One evaluation: the settings, the tables, and what each link found."""

    def __init__(self, settings: Settings, host_gcc: str | None, sandbox: bool) -> None:
        self.s, self.extra, self.t = settings, settings.extra_vars, _tables()
        # julia_build's own rules (official repository, -full tarball, compiler), loaded once.
        self.jb = role_python("julia_build", "filter_plugins/julia_build.py")
        self.host_gcc, self.sandbox = host_gcc, sandbox
        self.route = Route()
        self.preset: dict[str, Any] | None = self.t["presets"].get(settings.ami)
        self.itype: dict[str, Any] | None = self.t["types"].get(settings.instance_type)
        self.launching = settings.target is None and "provision" in settings.stages

    # -- image -> driver -> instance GPU ------------------------------------------
    def driver(self) -> None:
        s, preset, itype = self.s, self.preset, self.itype
        gpus = int(itype.get("gpus", 0)) if itype else None
        gpu = f"{itype['gpu']}, sm_{itype['compute_cap'].replace('.', '')}" if itype and gpus else "no GPU"
        self.route.parts.append(f"{s.instance_type} ({gpu if itype else 'not in the table'})")
        if s.target is not None:
            self.route.parts[-1] = f"existing host {s.target}"
            self.add("driver", "ok", "an existing host: cuda_verify judges its driver")
            return
        if preset is None:
            what = "the sandbox image" if self.sandbox else f"AMI {s.ami}"
            self.route.parts.insert(0, what)
            status = "ok" if self.sandbox else "warn"
            self.add("driver", status, f"{what}: driver, compiler and cuDNN unknown until the host is checked")
            return
        driver = str(preset.get("nvidia_driver") or "")
        self.route.parts.insert(
            0,
            f"{s.ami} ({preset.get('distro', '?')}, driver {driver or 'none'}, CUDA {preset.get('cuda') or 'none'},"
            f" GCC {preset.get('gcc', '?')})",
        )
        needs_gpu = s.cuda is not False and truthy(self.extra.get("cuda_verify_required", True))
        if not needs_gpu:
            self.add("driver", "ok", f"CPU run: {s.ami}'s driver is not needed")
            return
        if not driver:
            self.add(
                "driver", "fail", f"ami={s.ami} has no NVIDIA driver, and cuda_verify requires a working GPU",
                fix="--ami dlami-ubuntu (driver present), or --no-cuda for a CPU run",
            )  # fmt: skip
            return
        family = s.instance_type.split(".", 1)[0]
        families = list(preset.get("driver_gpu_families") or [])
        if gpus and family not in families:
            self.add(
                "driver", "fail",
                f"ami={s.ami}'s driver {driver} does not support {s.instance_type} ({itype and itype['gpu']});"
                f" the image lists {', '.join(families)}",
                fix="--instance-type g4dn.xlarge (or another listed family); a K80 (p2) needs driver <= 470,"
                " which no current Deep Learning AMI ships",
            )  # fmt: skip
            return
        self.add("driver", "ok", f"{s.ami} ships driver {driver}, which supports {family}")

    # -- Julia version and method -> compiler ------------------------------------
    def julia(self) -> None:
        s = self.s
        method, tag = s.julia_from, s.julia_version
        minutes = self.t["releases"]["julia_build_method_minutes"].get(method, {}).get("minutes")
        self.route.parts.append(f"Julia {tag} by {method}" + (f" (~{minutes} min, estimate)" if minutes else ""))
        if "julia" not in s.stages:
            return
        releases = self.t["releases"]["julia_build_releases"]
        release = releases.get(tag)
        key = method.replace("-", "_")
        if method != "source":
            entry = (release or {}).get(key) or {}
            url = self.extra.get(f"julia_build_{key}_url") or entry.get("url")
            checksum = self.extra.get(f"julia_build_{key}_checksum") or entry.get("sha256")
            if not url or not checksum:
                listed = sorted(t for t, r in releases.items() if (r.get(key) or {}).get("sha256"))
                self.add(
                    "julia", "fail",
                    f"julia_version={tag} has no checksummed {method} tarball in the release table"
                    + (f" ({entry['note']})" if entry.get("note") else ""),
                    fix=(f"a version that has one ({', '.join(listed)}), or " if listed else "")
                    + f"-e julia_build_{key}_checksum=sha256:HEX" + ("" if url else f" -e julia_build_{key}_url=URL")
                    + (", or --julia-from binary" if method != "binary" else ""),
                )  # fmt: skip
                return
        if method == "binary":
            self.add("julia", "ok", f"official binary of {tag}, sha256 pinned; no compiler needed")
            return
        if method == "source" and release and (release.get("git") or {}).get("deps_reachable") is False:
            # The tag's make would fetch dependencies from hosts that are gone: julia_build seeds
            # deps/srccache from the release's -full tarball, and the tag's own deps/checksums
            # check every file (julia_releases.yml, git.deps_verified_by), where the row says the
            # -full tarball holds them (git.deps_from). A mirror or local repository brings its
            # own dependency sources unless a -full URL is given for it.
            official = self.jb.julia_build_official_repo(s.julia_repo, self.t["commits"]["official_repos"])
            full_url = self.jb.julia_build_deps_full_url(
                release, method, self.extra.get("julia_build_source_full_url"), official
            )
            if full_url:
                self.route.parts.append(
                    f"git tag {tag}; dependency sources from {full_url.rstrip('/').rsplit('/', 1)[-1]},"
                    " each checked against the tag's deps/checksums"
                )
            elif official:
                git = release["git"]
                from_full = git.get("deps_from") == "source_full"
                self.add(
                    "julia", "fail",
                    f"a git-tag build of {tag} downloads dependencies from hosts that are gone ({git.get('source')})"
                    + (" and no -full tarball is known to take them from" if from_full
                       else " and the release table names no other source for them (git.deps_from)"),
                    fix=("-e julia_build_source_full_url=URL (the release's -full tarball), " if from_full else "")
                    + "--julia-from source-full or --julia-from binary",
                )  # fmt: skip
                return
        self._compiler(tag, method)

    # -- Mocha version -> backend -> cuDNN ---------------------------------------
    def mocha(self) -> None:
        s = self.s
        entry = self.t["mocha"].get(julia_minor(s.julia_version))
        if entry is None:
            self.route.parts.append("Mocha: none for this Julia")
            return
        mocha = "v" + str(self.extra.get("mocha_cifar_version") or entry["mocha"]).removeprefix("v")
        minor = julia_minor(s.julia_version)
        if minor not in self.t["example"].get(mocha, {}):
            # The role runs the CIFAR-10 example only with the fixes tabled for this pair.
            accepted = ", ".join(tag for tag, minors in self.t["example"].items() if minor in minors)
            self.add(
                "mocha", "fail",
                f"mocha_cifar_version={mocha} has no row for Julia {minor} in"
                " roles/mocha_cifar/vars/example_patches.yml, so its CIFAR-10 example is unchecked there",
                fix=f"-e mocha_cifar_version=TAG with TAG one of {accepted}, or unset (Pkg resolves {entry['mocha']})",
            )  # fmt: skip
            self.route.parts.append(f"Mocha {mocha} (no example row for Julia {minor})")
            return
        no_hdf5 = self.preset is not None and self.preset.get("hdf5_packaged") is False
        if no_hdf5 and not self.extra.get("mocha_cifar_hdf5_packages"):
            distro = (self.preset or {}).get("distro")
            self.add(
                "mocha", "fail", f"ami={self.s.ami} ({distro}) has no HDF5 package, which Mocha needs",
                fix="-e 'mocha_cifar_hdf5_packages=[...]' naming HDF5 packages from a repository you add,"
                " or --ami dlami-ubuntu",
            )  # fmt: skip
            self.route.parts.append(f"Mocha {mocha} (no HDF5)")
            return
        cudnn = str(self.preset.get("cudnn") or "") if self.preset else ""
        gpu_host = bool(self.itype and int(self.itype.get("gpus", 0)))
        fits = cudnn != "" and int(entry["cudnn_min"]) <= (major(cudnn) or 0) < int(entry["cudnn_below"])
        extra = self.extra
        layer = truthy(extra.get("mocha_cifar_cudnn_compat")) or bool(extra.get("mocha_cifar_cudnn_redist_url"))
        if s.cuda is False or not gpu_host:
            self.route.backend, why = "cpu", "--no-cuda" if s.cuda is False else "no GPU"
        elif fits or layer:
            self.route.backend, why = "gpu", "experimental cuDNN route" if layer and not fits else f"cuDNN {cudnn}"
        elif self.preset is None:
            self.route.backend, why = ("gpu" if s.cuda else "auto"), "cuDNN checked on the host"
        else:
            needed = f"cuDNN {entry['cudnn_min']}"
            have = f"this image's cuDNN {cudnn}" if cudnn else "this image has no cuDNN"
            if s.cuda is True:
                self.add(
                    "mocha", "fail", f"cuda=true, but {have} lacks Mocha {mocha}'s calls (needs {needed})",
                    fix="--no-cuda (the CPU backend), or (experimental) -e mocha_cifar_cudnn_compat=true, or"
                    f" -e mocha_cifar_cudnn_redist_url=URL -e mocha_cifar_cudnn_redist_checksum=sha256:HEX"
                    f" (a cuDNN {entry['cudnn_min']} redistributable)",
                )  # fmt: skip
                self.route.parts.append(f"Mocha {mocha} GPU (broken)")
                return
            self.route.backend, why = "cpu", f"{have} lacks Mocha {mocha}'s calls (needs {needed})"
        if self.route.backend == "cpu":
            threads = self.itype["vcpus"] if self.itype else "all"
            label = f"CPU + native extension, {threads} threads: {why}"
        elif self.route.backend == "auto":
            label = "backend chosen on the host: GPU only with a cuDNN of Mocha's generation"
        else:
            label = f"{self.route.backend.upper()}: {why}"
        self.route.parts.append(f"Mocha {mocha} {label}; max_iter={s.max_iter}")
        self.add("mocha", "ok", f"Mocha {mocha} on {label}")
        if self.route.backend == "cpu" and gpu_host:
            self._cheaper_cpu_type()

    def _cheaper_cpu_type(self) -> None:
        """The CPU backend leaves the GPU idle: name the cheapest CPU type with as many vCPUs."""
        here = self.itype or {}
        cpu_types = [
            (float(row["usd_per_hour"]), name)
            for name, row in self.t["types"].items()
            if not int(row.get("gpus", 0)) and row.get("usd_per_hour") is not None
            and int(row["vcpus"]) >= int(here.get("vcpus", 0))
        ]  # fmt: skip
        cheaper = sorted(c for c in cpu_types if c[0] < float(here.get("usd_per_hour") or 0))
        if cheaper:
            price, name = cheaper[0]
            self.add(
                "cost", "ok",
                f"the CPU backend leaves {self.s.instance_type}'s GPU idle; {name} (${price:g}/h against"
                f" ${float(here['usd_per_hour']):g}/h) runs this route for less: --instance-type {name} --no-cuda",
            )  # fmt: skip

    # -- build + training time -> auto-terminate ---------------------------------
    def time(self) -> None:
        s, speed = self.s, self.t["speed"]
        per = speed["mocha_cifar_backend_speed"]
        row = per["gpu"] if self.route.backend == "gpu" else per["cpu_native"]
        minutes = float(self.t["releases"]["julia_build_method_minutes"][s.julia_from]["minutes"])
        minutes += float(speed["mocha_cifar_setup_minutes"]["minutes"])
        training = s.max_iter / 200 * float(row["seconds_per_200"]) / 3600
        hours = minutes / 60 + training
        self.route.hours = round(hours, 2)
        cap = "" if not self.launching else f" of {s.max_hours:g} h"
        self.route.parts.append(f"~{hours:.1f} h (estimate){cap}")
        if not self.launching or truthy(self.extra.get("ec2_gpu_disable_auto_terminate")) or self.sandbox:
            self.add("time", "ok", f"about {hours:.1f} h by the table's estimates")
            return
        if hours <= s.max_hours:
            self.add("time", "ok", f"about {hours:.1f} h by the table's estimates, within max_hours={s.max_hours:g}")
            return
        if self.route.backend == "auto":
            # The host decides the backend; the CPU figure is only the slower bound.
            self.add("time", "warn", f"up to about {hours:.1f} h if the host trains on the CPU (estimate)")
            return
        room = s.max_hours - minutes / 60
        fitting = max(0, int(room * 3600 / float(row["seconds_per_200"]) * 200) // 1000 * 1000)
        self.add(
            "time", "fail",
            f"max_iter={s.max_iter} needs about {hours:.1f} h on the {self.route.backend} backend"
            f" ({row['seconds_per_200']} s per 200 iterations, estimate), and each instance terminates after"
            f" max_hours={s.max_hours:g}",
            fix=(f"--max-iter {fitting} or less, or " if fitting else "") + f"--max-hours {math.ceil(hours)}",
        )  # fmt: skip


def evaluate(settings: Settings, host_gcc: str | None = None, sandbox: bool = False) -> Route:
    """The route this run takes, link by link. `host_gcc`: a compiler known in advance (the sandbox's)."""
    judge = _Judge(settings, host_gcc, sandbox)
    judge.driver()
    judge.julia()
    if "mocha" in settings.stages:
        judge.mocha()
        judge.time()
    return judge.route
