"""The settings schema: defaults, config file + CLI flags merge, validation, extravars.

Precedence is defaults < config file < CLI flags. The defaults of every setting
that maps to a role variable are read from that role's ``defaults/main.yml``, the
role's public interface, so the CLI and a plain ``ansible-playbook`` run agree.
"""

from __future__ import annotations

import difflib
import getpass
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from mocha_ansible.errors import ConfigError
from mocha_ansible.project import ROLES, project_dir, role_python, role_yaml

STAGES: tuple[str, ...] = ("provision", "verify", "julia", "mocha")
ROLE_PREFIXES = tuple(f"{role}_" for role in ROLES)


AFTER_CHOICES = ("keep", "stop", "terminate")

# The AMI presets are ec2_gpu's (vars/main.yml): the role resolves them, and says why
# it refuses the ones it cannot manage.
_PRESETS: dict[str, dict[str, Any]] = role_yaml("ec2_gpu", "vars/main.yml")["ec2_gpu_ami_presets"]
AMI_PRESETS: tuple[str, ...] = tuple(name for name, preset in _PRESETS.items() if "refused" not in preset)

# Roles whose vars/input_patterns.yml holds the patterns of their variables.
_PATTERN_ROLES = ("ec2_gpu", "julia_build", "mocha_cifar")

# \Z, not $: $ also matches before a trailing newline.
_TAG_CHARS_RE = re.compile(r"^[\w .:/=+\-@]*\Z")
_GIT_ACCEPTED = "an https or git:// URL without user:password@, a file:/// URL, or an absolute path (no SSH)"
_HOST_RE = re.compile(r"^(?:[A-Za-z0-9_.-]+@)?[A-Za-z0-9.-]{1,253}\Z|^(?:[A-Za-z0-9_.-]+@)?\[?[0-9A-Fa-f:]+\]?\Z")


def _accepted(text: str) -> Any:
    """A setting's field metadata: what it accepts (errors and --help say it)."""
    return {"accepted": text}


def _role_setting(var: str, text: str) -> Any:
    """A setting that becomes role variable `var`: declared here once; ROLE_VARS and the
    CLI's flags are derived from it, its default comes from the role's defaults/main.yml."""
    return {"accepted": text, "role_var": var}


@cache
def input_patterns() -> dict[str, str]:
    """Role variable -> the regex its role's preflight asserts (roles/*/vars/input_patterns.yml)."""
    patterns: dict[str, str] = {}
    for role in _PATTERN_ROLES:
        patterns.update(role_yaml(role, "vars/input_patterns.yml")[f"{role}_input_patterns"])
    return patterns


def matches_role_pattern(var: str, value: Any) -> bool:
    """Whether `value` passes `var`'s pattern as the role's `is match(...)` judges it (re.match)."""
    return isinstance(value, str) and re.match(input_patterns()[var], value) is not None


def _setting_matches(setting: str, value: Any) -> bool:
    return matches_role_pattern(ROLE_VARS[setting], value)


@cache
def known_regions() -> frozenset[str]:
    """Every region of every partition that this botocore knows (its bundled endpoints data)."""
    import botocore.session

    session = botocore.session.get_session()
    return frozenset(
        region
        for partition in session.get_available_partitions()
        for region in session.get_available_regions("ec2", partition_name=partition)
    )


def region_problem(value: Any) -> str | None:
    """Why `value` is not a usable region name, or None: the role's pattern, then botocore's list."""
    if not _setting_matches("region", value):
        return "not an AWS region name" + (" (ISO regions are not supported)" if "-iso" in str(value) else "")
    if value not in known_regions():
        guess = difflib.get_close_matches(str(value), sorted(known_regions()), n=1)
        return "names no AWS region botocore knows" + (f" (did you mean {guess[0]!r}?)" if guess else "")
    return None


def cidr_problem(value: str, open_world: bool) -> str:
    """ec2_gpu's own CIDR check (its filter plugin), '' when it passes."""
    check = role_python("ec2_gpu", "filter_plugins/ec2_gpu_cidr.py").ec2_gpu_cidr_problem
    return str(check(value, open_world))


def _truthy(value: Any) -> bool:
    return value in (True, "true", "True", "yes", "on", 1, "1")


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

    @field_validator("region")
    @classmethod
    def _region(cls, v: str) -> str:
        problem = region_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("regions")
    @classmethod
    def _regions(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for region in v:
            problem = region_problem(region)
            if problem:
                raise ValueError(f"{region!r} {problem.replace('not an', 'is not an')}")
        return v

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, v: str) -> str:
        if not _setting_matches("instance_type", v):
            raise ValueError("not an EC2 instance type")
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

    @field_validator("key_name")
    @classmethod
    def _key_name(cls, v: str) -> str:
        if not _setting_matches("key_name", v):
            raise ValueError("not a valid key pair name")
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
        for key, value in v.items():
            if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
                raise ValueError(f"tag key {key!r} must be 1-128 characters and not start with aws:")
            if len(value) > 256:
                raise ValueError(f"tag {key!r} value is longer than 256 characters")
            for text in (key, value):
                if not _TAG_CHARS_RE.match(text) or not text.isascii():
                    raise ValueError(f"tag {key!r} has characters AWS or a shell would mangle: {text!r}")
        return v

    @field_validator("julia_version")
    @classmethod
    def _julia_version(cls, v: str) -> str:
        if not _setting_matches("julia_version", v):
            raise ValueError("not a release tag")
        return v

    @field_validator("julia_repo")
    @classmethod
    def _julia_repo(cls, v: str) -> str:
        if not _setting_matches("julia_repo", v):
            raise ValueError("not an accepted git URL or absolute path" + _url_hint(v))
        return v

    @field_validator("mocha_source")
    @classmethod
    def _mocha_source(cls, v: str) -> str:
        if not _setting_matches("mocha_source", v):
            raise ValueError("neither pkg nor an accepted git URL or absolute path" + _url_hint(v))
        return v

    @field_validator("dataset_url")
    @classmethod
    def _dataset_url(cls, v: str) -> str:
        if not _setting_matches("dataset_url", v):
            raise ValueError("not an accepted http, https or file:/// URL" + _url_hint(v))
        return v

    @field_validator("dataset_checksum")
    @classmethod
    def _dataset_checksum(cls, v: str) -> str:
        if not _setting_matches("dataset_checksum", v):
            raise ValueError("not ALGORITHM:HEX with a known algorithm and its digest's length")
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
        flagged = {var: name for name, var in ROLE_VARS.items()}
        for key, value in v.items():
            if not key.startswith(ROLE_PREFIXES):
                raise ValueError(f"{key!r} is not a role variable")
            if key in flagged:
                # Passed through -e it would skip the flag's checks, across fields too.
                name = flagged[key]
                raise ValueError(
                    f"{key} has a flag; use --{name.replace('_', '-')} (or the config key {name});"
                    f" accepted: role variables that have no flag"
                )
            problem = check_role_variable(key, value)
            if problem:
                raise ValueError(problem)
        return v

    @model_validator(mode="after")
    def _across_fields(self) -> Settings:
        family = self.instance_type.split(".", 1)[0]
        gpu_families = instance_type_facts()["ec2_gpu_gpu_families"]
        if self.cuda is True and self.target is None and family not in gpu_families:
            raise ValueError(
                f"cuda=true needs a GPU instance type, and {self.instance_type} has no GPU"
                f" [field: instance_type; accepted: a type from {', '.join(gpu_families)}]"
            )
        if self.target is None and "provision" in self.stages and family not in gpu_families and self.wants_gpu:
            # ec2_gpu refuses it too, but only in the provision stage: say so before the plan.
            raise ValueError(
                f"instance_type={self.instance_type} has no NVIDIA GPU [field: instance_type; accepted: a type from"
                f" {', '.join(gpu_families)}, or --no-cuda (or -e ec2_gpu_require_gpu=false) for a CPU-only run]"
            )
        open_world = _truthy(self.extra_vars.get("ec2_gpu_ssh_open_world", False))
        wide = cidr_problem(self.ssh_cidr, open_world)
        if wide:
            raise ValueError(
                f"ssh_cidr={self.ssh_cidr} {wide} [field: ssh_cidr; accepted: {_accepted_text('ssh_cidr')}]"
            )
        minor = ".".join(self.julia_version.lstrip("v").split(".")[:2])
        compat = role_yaml("mocha_cifar", "vars/mocha_compat.yml")["mocha_cifar_compat"]
        if "mocha" in self.stages and self.julia_version != "latest-stable" and minor not in compat:
            raise ValueError(
                f"julia_version={self.julia_version} has no Mocha release (Mocha was retired in 2018-12)"
                f" [field: julia_version; accepted: a tag of Julia {', '.join(sorted(compat))}, e.g. v0.5.0]"
            )
        if self.ssh_key is not None and self.target is None:
            raise ValueError("ssh_key only applies with target [field: ssh_key; accepted: unset without target]")
        if self.target is not None and self.after != "keep":
            raise ValueError(
                f"after={self.after} only applies to instances this tool launched, not to --target"
                " [field: after; accepted: keep with target]"
            )
        if self.spot and self.after == "stop":
            raise ValueError(
                "after=stop cannot stop a spot instance launched with the default one-time request"
                " [field: after; accepted: keep or terminate with spot]"
            )
        return self

    @property
    def wants_gpu(self) -> bool:
        """Whether ec2_gpu must launch a GPU type: not for --no-cuda or -e ec2_gpu_require_gpu=false."""
        return self.cuda is not False and _truthy(self.extra_vars.get("ec2_gpu_require_gpu", True))

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

_TYPE_WORDS = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "a string",
    "path": "a path",
    "list": "a list",
    "dict": "a mapping",
    "raw": "any value",
}


@cache
def role_options() -> dict[str, tuple[str, dict[str, Any]]]:
    """Every public role variable -> (its role, its spec in meta/argument_specs.yml)."""
    options: dict[str, tuple[str, dict[str, Any]]] = {}
    for role in ROLES:
        specs = role_yaml(role, "meta/argument_specs.yml")["argument_specs"]["main"]["options"]
        options.update({name: (role, spec) for name, spec in specs.items()})
    return options


def check_role_variable(name: str, value: Any) -> str | None:
    """The role's own argument spec judges a value passed with -e; None when it passes.

    The same validator ansible-core runs at play time, run before anything exists.
    """
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # type: ignore[import-untyped]

    known = role_options()
    if name not in known:
        role = next((r for r in ROLES if name.startswith(f"{r}_")), "?")
        names = [n for n, (r, _) in known.items() if r == role]
        guess = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {guess[0]!r}?)" if guess else ""
        return f"{name!r} is not a public variable of role {role}{hint}; see roles/{role}/README.md"
    role, spec = known[name]
    result = ArgumentSpecValidator({name: spec}).validate({name: value})
    if not result.error_messages:
        if name in input_patterns() and not matches_role_pattern(name, result.validated_parameters[name]):
            # The role's preflight asserts this pattern; refuse now, not after earlier stages ran.
            return (
                f"{name}={_short(value)} is invalid for role {role}{_url_hint(value)}; accepted: a value matching"
                f" {input_patterns()[name]} (roles/{role}/vars/input_patterns.yml)"
            )
        return None
    if spec.get("choices"):
        accepted = "one of " + ", ".join(str(c) for c in spec["choices"])
    else:
        kind = str(spec.get("type", "str"))
        accepted = _TYPE_WORDS.get(kind, kind) + (f" of {spec['elements']}" if spec.get("elements") else "")
    return f"{name}={_short(value)} is invalid for role {role}; accepted: {accepted}"


@cache
def instance_type_facts() -> dict[str, Any]:
    """ec2_gpu's table of GPU families, vCPUs and dated prices (one file, shared with the role)."""
    path = project_dir() / "roles" / "ec2_gpu" / "vars" / "instance_types.yml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def role_defaults(root: Path | None = None) -> dict[str, Any]:
    """The public defaults of every role, merged."""
    merged: dict[str, Any] = {}
    base = root or project_dir()
    for role in ROLES:
        path = base / "roles" / role / "defaults" / "main.yml"
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        merged.update(data)
    return merged


def default_values() -> dict[str, Any]:
    defaults = role_defaults()
    values: dict[str, Any] = {}
    for name, var in ROLE_VARS.items():
        if var in defaults:
            values[name] = defaults[var]
    if values.get("cuda") == "auto":
        values["cuda"] = None  # the role's "auto" is the settings' unset
    if not values.get("owner"):
        values["owner"] = _login_name()
    return values


def _login_name() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "unknown"
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", name).strip("-.")
    return cleaned or "unknown"


def known_keys() -> list[str]:
    return sorted(Settings.model_fields)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML config file into a mapping, or raise a one-line ConfigError."""
    if not str(path).strip():
        raise ConfigError(
            f"config: file {str(path)!r} is not readable (an empty path); accepted: a readable UTF-8 YAML file"
        )
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config: file {str(p)!r} does not exist", fix="pass --config PATH to a YAML file") from None
    except (PermissionError, IsADirectoryError, UnicodeDecodeError) as exc:
        reason = type(exc).__name__
        raise ConfigError(
            f"config: file {str(p)!r} is not readable ({reason}); accepted: a readable UTF-8 YAML file"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"config: {str(p)!r} is not valid YAML{where}; accepted: a YAML mapping of settings"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"config: {str(p)!r} holds a {type(data).__name__}, not a mapping; accepted: a YAML mapping of settings"
        )
    return dict(data)


def build_settings(file_values: Mapping[str, Any], flag_values: Mapping[str, Any], source: str = "config") -> Settings:
    """Merge defaults < file < flags and validate. Raises ConfigError naming the field."""
    for key in file_values:
        _check_known(str(key), source)
    merged: dict[str, Any] = default_values()
    merged.update(file_values)
    merged.update({k: v for k, v in flag_values.items() if v is not None})
    for key in ("stages", "regions"):
        if isinstance(merged.get(key), list):
            merged[key] = tuple(merged[key])
    try:
        return Settings(**merged)
    except ValidationError as exc:
        raise _config_error(exc, merged, file_values, source) from None


def _check_known(key: str, source: str) -> None:
    keys = known_keys()
    if key in keys:
        return
    guess = difflib.get_close_matches(key, keys, n=1)
    hint = f" (did you mean {guess[0]!r}?)" if guess else ""
    raise ConfigError(f"{source}: unknown key {key!r}{hint}; accepted keys: {', '.join(keys)}")


def _config_error(
    exc: ValidationError, merged: Mapping[str, Any], file_values: Mapping[str, Any], source: str
) -> ConfigError:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    if not loc:
        # A cross-field check; its message already names the field and what is accepted.
        message = str(err["msg"]).removeprefix("Value error, ")
        return ConfigError(f"settings: {message}")
    field = loc[0]
    where = source if field in file_values else "option"
    if field == "extra_vars":
        # The problem names the variable and its value; a role's spec also says what it accepts.
        problem = str(err["msg"]).removeprefix("Value error, ")
        tail = "" if "accepted:" in problem else f"; accepted: {_accepted_text(field)}"
        return ConfigError(f"{where}: extra_vars: {problem}{tail}")
    flag = f"--{field.replace('_', '-')}"
    name = field if where == source else f"{flag} ({field})"
    value = merged.get(field)
    accepted = _accepted_text(field)
    problem = str(err["msg"]).removeprefix("Value error, ")
    shown = _short(value)
    return ConfigError(f"{where}: {name}={shown} is invalid: {problem}; accepted: {accepted}")


def _accepted_text(field: str) -> str:
    info = Settings.model_fields.get(field)
    extra = info.json_schema_extra if info is not None and isinstance(info.json_schema_extra, dict) else {}
    return str(extra.get("accepted", "see --help"))


def _url_hint(value: Any) -> str:
    """A pointed reason for the commonest refusals of a URL."""
    text = str(value)
    if text.startswith("ssh://") or re.match(r"^[\w.-]+@[\w.-]+:", text):
        return " (SSH sources are not supported: the host holds no key for the git server)"
    if re.match(r"^\w+://[^/]*@", text):
        return " (user:password@ would be stored in run records and logs)"
    return ""


def _short(value: Any) -> str:
    text = json.dumps(value, default=str, ensure_ascii=True)
    return text if len(text) <= 80 else text[:77] + "..."
