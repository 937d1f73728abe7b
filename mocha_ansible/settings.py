"""The settings schema: defaults, config file + CLI flags merge, validation, extravars.

Precedence is defaults < config file < CLI flags. The defaults of every setting
that maps to a role variable are read from that role's ``defaults/main.yml``, the
role's public interface, so the CLI and a plain ``ansible-playbook`` run agree.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from mocha_ansible.project import role_yaml
from mocha_ansible.role_vars import (
    ROLE_PREFIXES,
    cidr_problem,
    instance_type_problem,
    matches_role_pattern,
    region_problem,
    truthy,
    url_hint,
)
from mocha_ansible.settings_rules import cross_field_problem, extra_vars_problem, tags_problem

STAGES: tuple[str, ...] = ("provision", "verify", "julia", "mocha")


AFTER_CHOICES = ("keep", "stop", "terminate")

# The AMI presets are ec2_gpu's (vars/main.yml): the role resolves them, and says why
# it refuses the ones it cannot manage.
_PRESETS: dict[str, dict[str, Any]] = role_yaml("ec2_gpu", "vars/main.yml")["ec2_gpu_ami_presets"]
AMI_PRESETS: tuple[str, ...] = tuple(name for name, preset in _PRESETS.items() if "refused" not in preset)

_GIT_ACCEPTED = "an https or git:// URL without user:password@, a file:/// URL, or an absolute path (no SSH)"
_HOST_RE = re.compile(r"^(?:[A-Za-z0-9_.-]+@)?[A-Za-z0-9.-]{1,253}\Z|^(?:[A-Za-z0-9_.-]+@)?\[?[0-9A-Fa-f:]+\]?\Z")


# Settings whose role pattern alone judges them -> what a refusal says.
_PATTERN_PROBLEMS = {
    "instance_type": "not an EC2 instance type",
    "key_name": "not a valid key pair name",
    "julia_version": "not a release tag",
    "julia_repo": "not an accepted git URL or absolute path",
    "mocha_source": "neither pkg nor an accepted git URL or absolute path",
    "dataset_url": "not an accepted http, https or file:/// URL",
    "dataset_checksum": "not ALGORITHM:HEX with a known algorithm and its digest's length",
}
_URL_SETTINGS = ("julia_repo", "mocha_source", "dataset_url")
# Settings that must name something botocore's data lists -> its check.
_KNOWN_NAMES = {"region": region_problem, "instance_type": instance_type_problem}


def _accepted(text: str) -> Any:
    """A setting's field metadata: what it accepts (errors and --help say it)."""
    return {"accepted": text}


def _role_setting(var: str, text: str) -> Any:
    """A setting that becomes role variable `var`: declared here once; ROLE_VARS and the
    CLI's flags are derived from it, its default comes from the role's defaults/main.yml."""
    return {"accepted": text, "role_var": var}


def _setting_matches(setting: str, value: Any) -> bool:
    return matches_role_pattern(ROLE_VARS[setting], value)


class Settings(BaseModel):
    """Everything a run needs, validated. Field descriptions double as --help text."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    region: str = Field(
        description="AWS region to launch in.",
        json_schema_extra=_role_setting("ec2_gpu_region", "an AWS region name such as us-east-1 (no ISO regions)"),
    )
    regions: tuple[str, ...] = Field(
        description="Further regions tried in order when no zone of --region has capacity.",
        json_schema_extra=_role_setting(
            "ec2_gpu_regions", "a comma-separated list of AWS region names such as us-west-2"
        ),
    )
    instance_type: str = Field(
        description="EC2 instance type (docs/compatibility.md#instance-types). The tutorial's p2.xlarge (K80)"
        " needs a driver no current image ships; preflight judges the type against the AMI.",
        json_schema_extra=_role_setting(
            "ec2_gpu_instance_type", "an EC2 instance type such as g4dn.xlarge (a GPU family unless --no-cuda)"
        ),
    )
    ami: str = Field(
        description=f"AMI id (ami-...) or a preset: {', '.join(AMI_PRESETS)}.",
        json_schema_extra=_role_setting("ec2_gpu_ami", f"an ami-xxxxxxxx id or one of {', '.join(AMI_PRESETS)}"),
    )
    key_name: str = Field(
        description="Existing EC2 key pair to use; empty makes (and later deletes) one for the run.",
        json_schema_extra=_role_setting(
            "ec2_gpu_key_name", "a key pair name of letters, digits, '.', '_' and '-', or empty"
        ),
    )
    ssh_cidr: str = Field(
        description="Who may SSH in (CIDR); empty detects your own address as a /32.",
        json_schema_extra=_role_setting(
            "ec2_gpu_ssh_cidr",
            "an IPv4 CIDR of /24 or narrower (203.0.113.7/32) or an IPv6 CIDR of /56 or narrower, without host bits;"
            " empty detects your address; wider needs -e ec2_gpu_ssh_open_world=true",
        ),
    )
    count: Annotated[int, Field(ge=1, le=32)] = Field(
        description="How many identical instances to converge.",
        json_schema_extra=_role_setting("ec2_gpu_count", "an integer from 1 to 32"),
    )
    spot: bool = Field(
        description="Launch spot instances.", json_schema_extra=_role_setting("ec2_gpu_spot", "true or false")
    )
    max_hours: Annotated[float, Field(gt=0, le=720)] = Field(
        description="Hours after which each instance shuts itself down (and terminates).",
        json_schema_extra=_role_setting("ec2_gpu_max_hours", "a number of hours greater than 0 and at most 720"),
    )
    tags: dict[str, str] = Field(
        description="Extra tags for every AWS resource the run creates.",
        json_schema_extra=_role_setting(
            "ec2_gpu_tags", "a mapping of tag keys to values; letters, digits, spaces and _.:/=+-@"
        ),
    )
    owner: str = Field(
        description="Owner tag on every resource; defaults to your login name.",
        json_schema_extra=_role_setting("ec2_gpu_owner", "a name of letters, digits, '.', '_' and '-' (at most 63)"),
    )
    deployment: str = Field(
        description="Name of this fleet; re-runs find its instances by it, so nothing is launched twice.",
        json_schema_extra=_role_setting(
            "ec2_gpu_deployment", "a name of letters, digits, '.', '_' and '-' (at most 63)"
        ),
    )
    julia_version: str = Field(
        description="Julia tag to build, or latest-stable (the newest vX.Y.Z without -rc/-alpha/-beta).",
        json_schema_extra=_role_setting("julia_build_version", "a tag like v0.5.0 (or v0.6.0-rc1), or latest-stable"),
    )
    julia_from: Literal["binary", "source", "source-full"] = Field(
        description="How Julia is obtained: the official binary tarball (sha256-pinned), the git tag built from"
        " source (the tutorial's way), or the release's -full source tarball (no dependency hosts contacted).",
        json_schema_extra=_role_setting("julia_build_method", "binary, source or source-full"),
    )
    julia_toolchain: Literal["host", "container"] = Field(
        description="Where a source build compiles: the host's GCC, or a container of the Julia release's era"
        " (image per minor from roles/julia_build/vars/julia_toolchain.yml), for old Julia on a modern host.",
        json_schema_extra=_role_setting("julia_build_toolchain", "host or container"),
    )
    pkg_manager: Literal["apt", "yum", "auto"] = Field(
        description="Package-manager flavor of the host; auto follows its facts.",
        json_schema_extra=_role_setting("julia_build_pkg_manager", "apt, yum or auto"),
    )
    cuda: bool | None = Field(
        default=None,
        description="Mocha's GPU backend: on, off, or unset to follow what cuda_verify finds.",
        json_schema_extra=_role_setting("mocha_cifar_cuda", "true, false, or unset"),
    )
    max_iter: Annotated[int, Field(ge=1, le=10_000_000)] = Field(
        description="CIFAR-10 training iterations. The example's own 70000 outlives the default"
        " --max-hours on the CPU backend; preflight checks the estimate against the cap.",
        json_schema_extra=_role_setting("mocha_cifar_max_iter", "an integer from 1 to 10000000"),
    )
    julia_repo: str = Field(
        description="Julia git repository: upstream, a mirror, or a local path (offline, the sandbox).",
        json_schema_extra=_role_setting("julia_build_repo_url", _GIT_ACCEPTED),
    )
    mocha_source: str = Field(
        description="Where Mocha comes from: pkg (Julia's package manager) or a git URL/path of a Mocha tree.",
        json_schema_extra=_role_setting("mocha_cifar_source", "pkg, " + _GIT_ACCEPTED),
    )
    dataset_url: str = Field(
        description="CIFAR-10 binary archive to download (a mirror or a file:// URL works too).",
        json_schema_extra=_role_setting(
            "mocha_cifar_dataset_url", "an http, https or file:/// URL without user:password@"
        ),
    )
    dataset_checksum: str = Field(
        description="Checksum the dataset download must match.",
        json_schema_extra=_role_setting(
            "mocha_cifar_dataset_checksum",
            "ALGORITHM:HEX with md5, sha1, sha224, sha256, sha384 or sha512 and that digest's length of lowercase hex",
        ),
    )
    after: Literal["keep", "stop", "terminate"] = Field(
        default="keep",
        description="What happens to the instances after a successful run.",
        json_schema_extra=_accepted(", ".join(AFTER_CHOICES)),
    )
    destroy_on_failure: bool = Field(
        default=False,
        description="When a stage fails, tear down the instances this run launched.",
        json_schema_extra=_accepted("true or false"),
    )
    target: str | None = Field(
        default=None,
        description="Configure an existing host instead of launching: localhost, HOST or USER@HOST.",
        json_schema_extra=_accepted("localhost, a hostname or an IP, optionally prefixed with USER@"),
    )
    ssh_key: str | None = Field(
        default=None,
        description="Private key file for --target over SSH.",
        json_schema_extra=_accepted("the path of a readable private key file"),
    )
    stages: tuple[str, ...] = Field(
        default=STAGES,
        description=f"Stages to run, in pipeline order: {','.join(STAGES)}.",
        json_schema_extra=_accepted(f"a comma-separated subset of {','.join(STAGES)}"),
    )
    extra_vars: dict[str, Any] = Field(
        default_factory=dict,
        description="Role variables passed straight through (names must start with a role prefix).",
        json_schema_extra=_accepted(f"role variables whose names start with {', '.join(ROLE_PREFIXES)}"),
    )

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for region in v:
            problem = region_problem(region)
            if problem:
                raise ValueError(f"{region!r} {problem.replace('not an', 'is not an')}")
        return v

    @field_validator(*_PATTERN_PROBLEMS)
    @classmethod
    def _role_pattern(cls, v: str, info: ValidationInfo) -> str:
        """Settings judged by their role's own pattern (roles/*/vars/input_patterns.yml)."""
        name = str(info.field_name)
        if not _setting_matches(name, v):
            raise ValueError(_PATTERN_PROBLEMS[name] + (url_hint(v) if name in _URL_SETTINGS else ""))
        return v

    @field_validator(*_KNOWN_NAMES)
    @classmethod
    def _known_name(cls, v: str, info: ValidationInfo) -> str:
        """A name botocore knows, or a guess at the one meant (instance_type after its role pattern, above)."""
        problem = _KNOWN_NAMES[str(info.field_name)](v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("ami")
    @classmethod
    def _ami(cls, v: str) -> str:
        refused = _PRESETS.get(v, {}).get("refused")
        if refused:
            raise ValueError(" ".join(str(refused).split()))
        if v not in AMI_PRESETS and not _setting_matches("ami", v):
            raise ValueError("neither an AMI id nor a preset")
        return v

    @field_validator("owner", "deployment")
    @classmethod
    def _name(cls, v: str, info: ValidationInfo) -> str:
        if not v or not _setting_matches(str(info.field_name), v):
            raise ValueError("not a valid name")
        return v

    @field_validator("ssh_cidr")
    @classmethod
    def _ssh_cidr(cls, v: str) -> str:
        # The width is judged across fields, once the world-open opt-in (-e) is known.
        problem = cidr_problem(v, open_world=True)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        problem = tags_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("target")
    @classmethod
    def _target(cls, v: str | None) -> str | None:
        if v is not None and not _HOST_RE.match(v):
            raise ValueError("not a host name or address")
        return v

    @field_validator("ssh_key")
    @classmethod
    def _ssh_key(cls, v: str | None) -> str | None:
        if v is not None:
            path = Path(v).expanduser()
            if not path.is_file():
                raise ValueError("no such file")
            try:
                path.open("rb").close()
            except OSError:
                raise ValueError("is not readable") from None
        return v

    @field_validator("stages")
    @classmethod
    def _stages(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in v if s not in STAGES]
        if unknown or not v:
            raise ValueError(f"unknown stage {unknown[0]!r}" if unknown else "is empty")
        return tuple(s for s in STAGES if s in v)

    @field_validator("extra_vars")
    @classmethod
    def _extra_vars(cls, v: dict[str, Any]) -> dict[str, Any]:
        problem = extra_vars_problem(v, ROLE_VARS)
        if problem:
            raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _across_fields(self) -> Settings:
        problem = cross_field_problem(self, accepted_text)
        if problem:
            raise ValueError(problem)
        return self

    @property
    def wants_gpu(self) -> bool:
        """Whether ec2_gpu must launch a GPU type: not for --no-cuda or -e ec2_gpu_require_gpu=false."""
        return self.cuda is not False and truthy(self.extra_vars.get("ec2_gpu_require_gpu", True))

    def to_extravars(self) -> dict[str, Any]:
        """Role variables for this run. Secrets never go here."""
        dumped = self.model_dump()
        dumped["regions"] = list(self.regions)
        out = {var: dumped[name] for name, var in ROLE_VARS.items() if dumped[name] is not None}
        if not self.wants_gpu:
            # --no-cuda is a CPU-only run: ec2_gpu may launch a type without a GPU.
            out["ec2_gpu_require_gpu"] = False
        if self.cuda is False:
            # ... and cuda_verify reports what it finds instead of failing a host without a driver.
            out["cuda_verify_required"] = False
        out.update(self.extra_vars)
        return out


# Setting name -> the role variable it becomes, from each field's declaration.
ROLE_VARS: dict[str, str] = {
    name: str(info.json_schema_extra["role_var"])
    for name, info in Settings.model_fields.items()
    if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("role_var")
}


def accepted_text(field: str) -> str:
    info = Settings.model_fields.get(field)
    extra = info.json_schema_extra if info is not None and isinstance(info.json_schema_extra, dict) else {}
    return str(extra.get("accepted", "see --help"))
