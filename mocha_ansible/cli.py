"""Subcommands and their options: argv -> Settings -> a command.

Exit codes: 0 ok, 1 a play failed, 2 bad input or config, 3 preflight refused,
130 interrupted.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from mocha_ansible import __version__, aws, completion, endpoint, lifecycle, plot, results, sandbox
from mocha_ansible.errors import ConfigError, ExitCode, MochaAnsibleError, PreflightRefused
from mocha_ansible.preflight import enforce, run_preflight
from mocha_ansible.progress import make_progress
from mocha_ansible.provision import Options, Provision, confirm_on_tty, cost_so_far, print_plan
from mocha_ansible.results import training_summary
from mocha_ansible.runner import Cancel
from mocha_ansible.settings import (
    STAGES,
    Settings,
    build_settings,
    default_values,
    load_config_file,
    matches_role_pattern,
    region_problem,
)

EPILOG = """exit codes: 0 ok, 1 a play failed, 2 bad input or config, 3 preflight refused, 130 interrupted.
Settings come from defaults < --config FILE < flags. See README.md for the config schema."""


EXTRA_VARS_FORMS = "@FILE, a JSON/YAML mapping, or KEY=VALUE"


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like every other bad input."""

    def error(self, message: str) -> Any:
        raise ConfigError(f"{self.prog}: {message}", fix=f"{self.prog} --help")


def _help(name: str, defaults: dict[str, Any]) -> str:
    text = Settings.model_fields[name].description or ""
    if name in defaults:
        text += f" (default: {defaults[name]})"
    return text


def _number(kind: type[int] | type[float], field: str) -> Callable[[str], int | float]:
    """An argparse type whose error says what the setting accepts."""

    def convert(value: str) -> int | float:
        try:
            return kind(value)
        except ValueError:
            accepted = (Settings.model_fields[field].json_schema_extra or {})["accepted"]  # type: ignore[index]
            raise argparse.ArgumentTypeError(f"{value!r} is not a number; accepted: {accepted}") from None

    convert.__name__ = kind.__name__
    return convert


def _csv(value: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in value.split(",") if p.strip())


def _key_value(value: str) -> tuple[str, str]:
    key, sep, val = value.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"{value!r} is not KEY=VALUE; accepted: KEY=VALUE, e.g. team=vision")
    return key, val


def _region_arg(value: str) -> str:
    """--region of the subcommands that take no settings, judged as provision judges it."""
    problem = region_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(
            f"{value!r} {problem.replace('not an', 'is not an')}; accepted: an AWS region name such as us-east-1"
        )
    return value


def _name_arg(var: str) -> Callable[[str], str]:
    """--deployment/--owner: the role's own name pattern. An empty value must not widen to "all"."""

    def convert(value: str) -> str:
        if not matches_role_pattern(var, value) or not value:
            raise argparse.ArgumentTypeError(
                f"{value!r} is not a valid name; accepted: letters, digits, '.', '_' and '-' (at most 63)"
            )
        return value

    convert.__name__ = "name"
    return convert


def _path_arg(kind: str) -> Callable[[str], str]:
    """A path option: not empty or blank, and not an existing thing of the wrong kind."""

    def convert(value: str) -> str:
        path = Path(value.strip()).expanduser()
        wrong = path.exists() and (path.is_dir() if kind == "file" else not path.is_dir())
        if not value.strip() or value != value.strip() or wrong:
            what = "is empty" if not value.strip() else f"is not a {kind}" if wrong else "has blanks around it"
            raise argparse.ArgumentTypeError(f"{value!r} {what}; accepted: the path of a {kind}")
        return value

    convert.__name__ = kind
    return convert


def parse_extra_vars(values: Sequence[str]) -> dict[str, Any]:
    """ansible-playbook's -e forms: @FILE, a YAML/JSON mapping, or KEY=VALUE words."""
    out: dict[str, Any] = {}
    for raw in values:
        if not raw.strip():
            raise ConfigError(f"option: --extra-vars={raw!r} is empty; accepted: {EXTRA_VARS_FORMS}")
        if raw.startswith("@"):
            out.update(load_config_file(raw[1:]))
            continue
        stripped = raw.strip()
        if stripped.startswith("{"):
            try:
                data = yaml.safe_load(stripped)
            except yaml.YAMLError:
                data = None
            if not isinstance(data, dict):
                raise ConfigError(f"option: --extra-vars={raw!r} is not a mapping; accepted: {EXTRA_VARS_FORMS}")
            out.update(data)
            continue
        for word in stripped.split():
            key, sep, val = word.partition("=")
            if not sep or not key:
                raise ConfigError(f"option: --extra-vars word {word!r} is not KEY=VALUE; accepted: {EXTRA_VARS_FORMS}")
            out[key] = yaml.safe_load(val) if val else ""
    return out


def _add_settings_options(p: argparse.ArgumentParser, defaults: dict[str, Any]) -> None:
    g = p.add_argument_group("settings (flags override --config, which overrides defaults)")
    g.add_argument("--config", metavar="FILE", help="YAML file of settings (keys as the flags, with _ for -)")
    g.add_argument("--region", help=_help("region", defaults))
    g.add_argument("--regions", type=_csv, help=_help("regions", defaults))
    g.add_argument("--instance-type", help=_help("instance_type", defaults))
    g.add_argument("--ami", help=_help("ami", defaults))
    g.add_argument("--key-name", help=_help("key_name", defaults))
    g.add_argument("--ssh-cidr", help=_help("ssh_cidr", defaults))
    g.add_argument("--count", type=_number(int, "count"), help=_help("count", defaults))
    g.add_argument("--spot", action=argparse.BooleanOptionalAction, default=None, help=_help("spot", defaults))
    g.add_argument("--max-hours", type=_number(float, "max_hours"), help=_help("max_hours", defaults))
    g.add_argument(
        "--tag", action="append", type=_key_value, metavar="KEY=VALUE", dest="tags", help="Extra tag (repeatable)."
    )
    g.add_argument("--owner", help=_help("owner", defaults))
    g.add_argument("--deployment", help=_help("deployment", defaults))
    g.add_argument("--julia-version", help=_help("julia_version", defaults))
    g.add_argument("--pkg-manager", help=_help("pkg_manager", defaults))
    g.add_argument("--cuda", action=argparse.BooleanOptionalAction, default=None, help=_help("cuda", defaults))
    g.add_argument("--max-iter", type=_number(int, "max_iter"), help=_help("max_iter", defaults))
    g.add_argument("--julia-repo", metavar="URL", help=_help("julia_repo", defaults))
    g.add_argument("--mocha-source", metavar="SOURCE", help=_help("mocha_source", defaults))
    g.add_argument("--dataset-url", metavar="URL", help=_help("dataset_url", defaults))
    g.add_argument("--dataset-checksum", metavar="ALGO:HEX", help=_help("dataset_checksum", defaults))
    g.add_argument("--after", help=_help("after", {"after": "keep"}) + " keep|stop|terminate.")
    g.add_argument(
        "--destroy-on-failure", action=argparse.BooleanOptionalAction, default=None,
        help=_help("destroy_on_failure", {"destroy_on_failure": False}),
    )  # fmt: skip
    g.add_argument("--target", help=_help("target", defaults))
    g.add_argument("--ssh-key", help=_help("ssh_key", defaults))
    g.add_argument("--stages", type=_csv, help=_help("stages", {"stages": ",".join(STAGES)}))
    g.add_argument(
        "-e", "--extra-vars", action="append", default=[], metavar="VARS",
        help=f"Role variables: {EXTRA_VARS_FORMS} (repeatable). Names must start with a role prefix.",
    )  # fmt: skip
    g.add_argument(
        "--sandbox", action="store_true",
        help="No AWS account, no GPU: the embedded AWS emulator on 127.0.0.1, and a local Docker container "
        "for each instance.",
    )  # fmt: skip


_FLAG_FIELDS = (
    "region", "regions", "instance_type", "ami", "key_name", "ssh_cidr", "count", "spot", "max_hours",
    "owner", "deployment", "julia_version", "pkg_manager", "cuda", "max_iter", "target", "ssh_key", "stages",
    "julia_repo", "mocha_source", "dataset_url", "dataset_checksum", "after", "destroy_on_failure",
)  # fmt: skip


def settings_from_args(args: argparse.Namespace) -> Settings:
    file_values: dict[str, Any] = {}
    source = "config"
    if args.config is not None:
        file_values = load_config_file(args.config)
        source = str(args.config)
    flags: dict[str, Any] = {name: getattr(args, name) for name in _FLAG_FIELDS}
    if args.tags:
        flags["tags"] = (
            {**file_values.get("tags", {}), **dict(args.tags)}
            if isinstance(file_values.get("tags"), dict)
            else dict(args.tags)
        )
    extra = parse_extra_vars(args.extra_vars)
    if extra:
        base = file_values.get("extra_vars")
        flags["extra_vars"] = {**base, **extra} if isinstance(base, dict) else extra
    return build_settings(file_values, flags, source=source)


def _use_sandbox(args: argparse.Namespace) -> None:
    if getattr(args, "sandbox", False):
        emu = sandbox.start_emulator()
        os.environ.update(emu.env())


def cmd_preflight(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    _use_sandbox(args)
    plan = run_preflight(settings)
    print_plan(plan, settings, args.json)
    enforce(plan)
    return ExitCode.OK


def cmd_provision(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if args.down:
        if not args.sandbox:
            raise ConfigError("provision: --down only applies with --sandbox; accepted: --sandbox --down")
        gone = sandbox.down()
        print(
            f"Sandbox down: removed {len(gone['containers'])} container(s); "  # type: ignore[arg-type]
            + (
                "stopped the emulator and deleted its state."
                if gone["emulator_stopped"]
                else "no emulator was running."
            )
        )
        return ExitCode.OK
    if args.sandbox and settings.target is not None:
        raise ConfigError("provision: --sandbox and --target exclude each other; accepted: one of them")
    options = Options(
        sandbox=args.sandbox,
        check=args.check,
        yes=args.yes,
        json=args.json,
        verbosity=args.verbose,
        runs_dir=args.runs_dir,
        ami_from_bake=args.ami_from_bake,
    )
    return Provision(settings, options, confirm_on_tty).run()


def _regions(args: argparse.Namespace) -> list[str]:
    """--region, or else the default region plus every region an earlier run could use.

    Capacity failover may have put a fleet in a fallback region; status and teardown
    must look there too, or it would bill unseen.
    """
    if args.region:
        return list(dict.fromkeys(args.region))
    found = [default_values()["region"]]
    for run in results.list_runs(results.runs_root(args.runs_dir)):
        extravars = run.record.get("extravars", {})
        found += [extravars.get("ec2_gpu_region", found[0]), *extravars.get("ec2_gpu_regions", [])]
    return list(dict.fromkeys(r for r in found if isinstance(r, str)))


def _owner(args: argparse.Namespace) -> str | None:
    """Whose resources status, teardown and ssh-config see: yours, --owner's, or with --all-owners everyone's."""
    if args.all_owners:
        return None
    return str(args.owner or default_values()["owner"])


def _guard_states(live: Sequence[aws.Instance]) -> tuple[dict[str, str], str | None]:
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


def cmd_status(args: argparse.Namespace) -> int:
    _use_sandbox(args)
    regions = _regions(args)
    instances = [i for r in regions for i in aws.footprint(r, args.deployment, _owner(args)).instances]
    live = [i for i in instances if i.state != "terminated"]
    spent, complete = cost_so_far(live)
    url = endpoint.endpoint_url()
    emulated = not endpoint.is_aws_own(url)
    guards, unread = _guard_states(live)
    if args.json:
        rows = [
            {**i.as_dict(), "guard": guards.get(i.instance_id), "estimated_cost_usd": round(cost_so_far([i])[0], 4)}
            for i in live
        ]
        print(
            json.dumps(
                {
                    "instances": rows,
                    "estimated_cost_usd": round(spent, 4),
                    "cost_complete": complete,
                    "emulated": emulated,
                    "guard_unread": unread,
                }
            )
        )
        return ExitCode.OK
    if emulated:
        print(
            f"EMULATED: the endpoint {url} is not AWS's own; these instances, addresses and costs are the emulator's"
            " (the cost is what AWS would bill; nothing is billed)."
        )
    if not live:
        print("No instances carry the mocha-ansible tags in " + ", ".join(regions) + ".")
        return ExitCode.OK
    header = f"{'ID':<21} {'TYPE':<13} {'STATE':<10} {'IP':<16} {'LAUNCHED':<17} {'UPTIME':>7} {'COST':>8}"
    print(f"{header}  DEPLOYMENT  EXPIRES           GUARD")
    for i in live:
        launched = i.launch_time.isoformat(timespec="minutes")[:16] if i.launch_time else "-"
        expires = i.expires.isoformat(timespec="minutes")[:16] if i.expires else "-"
        print(
            f"{i.instance_id:<21} {i.instance_type:<13} {i.state:<10} {i.public_ip or '-':<16} {launched:<17} "
            f"{i.uptime_hours():6.2f}h ${cost_so_far([i])[0]:7.2f}  {i.deployment or '-':<10}  "
            f"{expires:<16}  {guards.get(i.instance_id, '-')}"
        )
    if unread:
        print(f"GUARD unread: {unread}")
    print(f"Estimated cost so far: ${spent:.2f}" + ("" if complete else " (some types are not in the price table)"))
    return ExitCode.OK


def _converged_versions(root: Path, deployment: str) -> dict[str, str] | None:
    """Julia and Mocha versions of the newest successful provision of `deployment`."""
    for run in reversed(results.list_runs(root)):
        extravars = run.record.get("extravars", {})
        if run.status != "ok" or extravars.get("ec2_gpu_deployment", "default") != deployment:
            continue
        for files in results.host_reports(run.path).values():
            trained = files.get("results")
            if isinstance(trained, dict) and trained.get("julia") and trained.get("mocha"):
                return {"julia": str(trained["julia"]), "mocha": str(trained["mocha"])}
    return None


def cmd_bake(args: argparse.Namespace) -> int:
    _use_sandbox(args)
    root = results.runs_root(args.runs_dir)
    versions = _converged_versions(root, args.deployment)
    if versions is None:
        raise PreflightRefused(
            f"bake: no successful provision of deployment {args.deployment!r} with training results under {root}",
            fix=f"mocha-ansible provision --deployment {args.deployment}",
        )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"mocha-ansible-{args.deployment}-julia-{versions['julia']}-mocha-{versions['mocha']}-{stamp}"
    tags = {"mocha-ansible:julia": versions["julia"], "mocha-ansible:mocha": versions["mocha"]}
    run_dir = results.new_run_dir(root)
    key_dir = sandbox.state_dir() / "keys" if args.sandbox else Path("~/.ssh").expanduser()
    cancel = Cancel()
    with cancel.installed():
        report = lifecycle.bake(
            args.region or default_values()["region"], args.deployment, name, tags, owner=default_values()["owner"],
            key_dir=key_dir, progress=make_progress(args.json), run_dir=run_dir, cancel=cancel,
        )  # fmt: skip
    if cancel.requested is not None:
        return ExitCode.INTERRUPTED
    if report is None:
        print(f"Bake failed; see the log under {run_dir}/ansible.")
        return ExitCode.PLAY_FAILED
    if args.sandbox:
        sandbox.commit_container(report["source"], report["image_id"])
    if args.json:
        print(json.dumps({"type": "baked", **report}))
    else:
        print(f"Baked {report['image_id']} ({name}) from {report['source']}.")
        print("Launch from it with: mocha-ansible provision --ami-from-bake")
    return ExitCode.OK


def cmd_teardown(args: argparse.Namespace) -> int:
    _use_sandbox(args)
    regions = _regions(args)
    before = [aws.footprint(r, args.deployment, _owner(args)) for r in regions]
    if all(fp.empty and not (args.amis and fp.images) for fp in before):
        print("Nothing to tear down: no resource carries the mocha-ansible tags.")
        return ExitCode.OK
    if args.sandbox:
        for name in sandbox.containers(args.deployment):
            print(f"  container      {name} (sandbox)")
    for fp in before:
        for i in fp.instances:
            if i.state != "terminated":
                print(f"  instance       {i.instance_id} ({i.instance_type}, {i.state}) in {fp.region}")
        for sg in fp.security_groups:
            print(f"  security group {sg['id']} ({sg['name']}) in {fp.region}")
        for kp in fp.key_pairs:
            print(f"  key pair       {kp['name']} in {fp.region}")
        for lt in fp.launch_templates:
            print(f"  launch template {lt['name']} in {fp.region}")
        for image in fp.images if args.amis else []:
            print(f"  baked AMI      {image['id']} ({image['name']}) and its snapshots in {fp.region}")
    if not args.yes and not confirm_on_tty("Delete all of the above?", refusal="teardown: refusing to delete"):
        print("Nothing deleted.")
        return ExitCode.OK
    progress = make_progress(args.json)
    run_dir = results.new_run_dir(results.runs_root(args.runs_dir))
    cancel = Cancel()
    key_dir = sandbox.state_dir() / "keys" if args.sandbox else Path(args.key_dir).expanduser()
    with cancel.installed():
        res = lifecycle.teardown(
            regions, args.deployment, owner=_owner(args), key_dir=key_dir, progress=progress, run_dir=run_dir,
            cancel=cancel,
            sandbox_mode=args.sandbox, amis=args.amis,
        )  # fmt: skip
    if cancel.requested is not None:
        return ExitCode.INTERRUPTED
    if args.sandbox and args.amis:
        sandbox.remove_baked_images(i["id"] for fp in before for i in fp.images)
    kept = [i for fp in before for i in fp.images] if not args.amis else []
    if kept:
        print(f"  kept {len(kept)} baked AMI(s); `teardown --amis` deregisters them and deletes their snapshots")
    for name in res.containers:
        print(f"  removed container {name}")
    if res.left:
        for fp in res.left:
            print(
                f"Still present in {fp.region}: {len(fp.instances)} instances, "
                f"{len(fp.security_groups)} security groups, {len(fp.key_pairs)} key pairs, "
                f"{len(fp.launch_templates)} launch templates"
            )
        print(f"See the log under {run_dir}/ansible for why.")
        return ExitCode.PLAY_FAILED
    print("Teardown complete: nothing carrying the mocha-ansible tags is left.")
    return ExitCode.OK if res.ok else ExitCode.PLAY_FAILED


SSH_BEGIN = "# BEGIN mocha-ansible (managed by `mocha-ansible ssh-config --write`)"
SSH_END = "# END mocha-ansible"


_SSH_USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\Z")


def _ssh_config_problem(inst: aws.Instance) -> str | None:
    """Why an instance's AWS-side values may not go into ~/.ssh/config (anyone who may tag it wrote them)."""
    user = inst.tags.get("mocha-ansible:ssh-user", "ubuntu")
    if not _SSH_USER_RE.match(user):
        return f"tag mocha-ansible:ssh-user={json.dumps(user)} is not a login name"
    if inst.deployment and not matches_role_pattern("ec2_gpu_deployment", inst.deployment):
        return f"tag {aws.TAG_DEPLOYMENT}={json.dumps(inst.deployment)} is not a deployment name"
    try:
        ipaddress.ip_address(str(inst.public_ip))
    except ValueError:
        return f"public address {json.dumps(inst.public_ip)} is not an IP address"
    return None


def ssh_config_text(instances: Sequence[aws.Instance], key_dir: Path, sandbox_mode: bool = False) -> str:
    """Host blocks for the running instances; one whose tags would smuggle in config lines is left out."""
    blocks = []
    for n, inst in enumerate(sorted(instances, key=lambda i: i.instance_id), start=1):
        if not inst.public_ip or inst.state != "running":
            continue
        problem = _ssh_config_problem(inst)
        if problem:
            print(f"mocha-ansible: warning: skipping {inst.instance_id}: {problem}", file=sys.stderr)
            continue
        deployment = inst.deployment or "default"
        lines = [
            f"Host mocha-{n}" if len(instances) < 2 or deployment == "default" else f"Host mocha-{deployment}-{n}",
            f"  HostName {inst.public_ip}",
            f"  User {inst.tags.get('mocha-ansible:ssh-user', 'ubuntu')}",
        ]
        if sandbox_mode:
            # The emulated address leads nowhere; the container is the machine.
            lines.append(f"  # sandbox: no sshd; use `docker exec -it mocha-sandbox-{inst.instance_id} bash`")
        key = key_dir / f"mocha-ansible-{deployment}.pem"
        if key.exists():
            lines.append(f"  IdentityFile {key}")
            lines.append("  IdentitiesOnly yes")
        # The pin the playbooks use (ec2_gpu discover.yml): first key seen per instance id, in a file teardown deletes.
        lines.append(f'  UserKnownHostsFile "{key_dir / f"mocha-ansible-{deployment}.known_hosts"}"')
        lines.append(f"  HostKeyAlias {inst.instance_id}")
        lines.append("  StrictHostKeyChecking accept-new")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + ("\n" if blocks else "")


def cmd_ssh_config(args: argparse.Namespace) -> int:
    _use_sandbox(args)
    instances = [i for r in _regions(args) for i in aws.footprint(r, args.deployment, _owner(args)).instances]
    key_dir = sandbox.state_dir() / "keys" if args.sandbox else Path(args.key_dir).expanduser()
    text = ssh_config_text(instances, key_dir, sandbox_mode=args.sandbox)
    if not args.write:
        sys.stdout.write(text or "# no running instance with a public IP\n")
        return ExitCode.OK
    path = Path(args.ssh_config).expanduser()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if SSH_BEGIN in old and SSH_END in old:
        head, _, rest = old.partition(SSH_BEGIN)
        _, _, tail = rest.partition(SSH_END)
        old = head.rstrip("\n") + ("\n" if head.strip() else "") + tail.lstrip("\n")
    new = (old.rstrip("\n") + "\n\n" if old.strip() else "") + f"{SSH_BEGIN}\n{text}{SSH_END}\n"
    path.write_text(new, encoding="utf-8")
    os.chmod(path, 0o600)
    print(f"Wrote {text.count('Host ')} host block(s) to {path}")
    return ExitCode.OK


def cmd_results(args: argparse.Namespace) -> int:
    root = results.runs_root(args.runs_dir)
    runs = results.list_runs(root)
    if not args.run_id:
        if args.plot:
            raise ConfigError("results: --plot needs a run; accepted: results latest --plot, or several run ids")
        if args.json:
            print(
                json.dumps([{"run_id": r.run_id, "status": r.status, "command": r.record.get("command")} for r in runs])
            )
        elif not runs:
            print(f"No runs under {root}.")
        else:
            for r in runs:
                print(f"{r.run_id}  {r.status:<11} {r.record.get('command', '-')}")
        return ExitCode.OK
    chosen = []
    for wanted in args.run_id:
        match = [r for r in runs if r.run_id == wanted or (wanted == "latest" and r is runs[-1])]
        if not match:
            known = ", ".join(r.run_id for r in runs[-5:]) or "none"
            raise ConfigError(f"results: no run {wanted!r} under {root}; accepted: latest or a run id ({known})")
        chosen.append(match[0])
    if args.plot:
        return _plot(chosen, args)
    for run in chosen:
        _show_run(run, args.json)
    return ExitCode.OK


def _show_run(run: results.RunSummary, json_mode: bool) -> None:
    reports = results.host_reports(run.path)
    if json_mode:
        print(json.dumps({"run_id": run.run_id, "record": run.record, "hosts": reports}, default=str))
        return
    print(f"run {run.run_id}: {run.status}")
    for stage in run.record.get("stage_results", []):
        print(f"  {stage['stage']:<10} {stage['status']:<11} {stage['seconds']:7.1f}s")
    for host, files in reports.items():
        print(f"  {host}: {', '.join(sorted(files))}")
        if "results" in files:
            print(f"    {training_summary(files['results'])}")
            objective = plot.curves(files["results"])["objective"][1]
            if objective:
                mark = f" ({results.DOUBLE_SOURCE})" if results.from_double(files["results"]) else ""
                print(f"    objective{mark} {plot.sparkline(objective)} {objective[0]:.3f} -> {objective[-1]:.3f}")


def _plot(chosen: list[results.RunSummary], args: argparse.Namespace) -> int:
    series = [
        (f"{run.run_id} {host}" if len(chosen) > 1 else host, files["results"])
        for run in chosen
        for host, files in results.host_reports(run.path).items()
        if "results" in files
    ]
    if not series:
        raise ConfigError(
            f"results: run {chosen[0].run_id} has no training results to plot; accepted: a run whose mocha stage ran"
        )
    path = Path(args.out).expanduser() if args.out else chosen[0].path / "training.png"
    plot.plot_runs(series, path)
    print(json.dumps({"type": "plot", "path": str(path), "series": len(series)}) if args.json else f"Wrote {path}")
    return ExitCode.OK


def cmd_completion(args: argparse.Namespace) -> int:
    parser = build_parser()
    print(completion.bash(parser) if args.shell == "bash" else completion.zsh(parser), end="")
    return ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    defaults = default_values()
    parser = _Parser(
        prog="mocha-ansible",
        description="Provision an AWS GPU instance, verify CUDA, build Julia from source and train "
        "Mocha.jl's CIFAR-10 example: the 2016 tutorial as Ansible.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--runs-dir",
        type=_path_arg("folder"),
        help="Where run directories go (default: $MOCHA_ANSIBLE_RUNS_DIR or ~/.local/state/mocha-ansible/runs).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, help_text: str, func: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOG)
        p.set_defaults(func=func)
        p.add_argument("--json", action="store_true", help="Machine-readable output (JSON lines).")
        return p

    p = add("provision", "Run the pipeline: launch, verify CUDA, build Julia, install Mocha and train.", cmd_provision)
    _add_settings_options(p, defaults)
    p.add_argument("--check", action="store_true", help="Dry run: preflight and plan only; creates nothing.")
    p.add_argument("--yes", "-y", action="store_true", help="Do not ask before creating billable resources.")
    p.add_argument("-v", "--verbose", action="count", default=0, help="Ansible verbosity (-v to -vvvv).")
    p.add_argument(
        "--down", action="store_true", help="With --sandbox: remove its containers and the emulator's state."
    )
    p.add_argument(
        "--ami-from-bake", action="store_true",
        help="Launch from the newest AMI that `bake` made: Julia and Mocha are already there.",
    )  # fmt: skip

    p = add(
        "preflight",
        "Check credentials, offering, AMI and compatibility; print the plan. Creates nothing.",
        cmd_preflight,
    )
    _add_settings_options(p, defaults)

    for name, text, func in (
        ("status", "List every instance carrying the project's tags.", cmd_status),
        (
            "teardown",
            "Delete every instance, security group, key pair and launch template the tool created.",
            cmd_teardown,
        ),
        ("ssh-config", "Print (or --write) `Host mocha-N` blocks for ~/.ssh/config.", cmd_ssh_config),
    ):
        p = add(name, text, func)
        p.add_argument(
            "--region", action="append", type=_region_arg,
            help=f"Region to look in (repeatable; default: {defaults['region']}).",
        )  # fmt: skip
        p.add_argument(
            "--deployment", type=_name_arg("ec2_gpu_deployment"),
            help="Only this deployment's resources (default: all of the project's).",
        )  # fmt: skip
        owners = p.add_mutually_exclusive_group()
        owners.add_argument("--owner", help=f"Only this owner's resources (default: yours, {defaults['owner']}).")
        owners.add_argument("--all-owners", action="store_true", help="Everyone's resources, not only yours.")
        p.add_argument("--sandbox", action="store_true", help="Use the embedded AWS emulator.")
        if name == "teardown":
            p.add_argument("--yes", "-y", action="store_true", help="Delete without asking.")
            p.add_argument("--amis", action="store_true", help="Also deregister baked AMIs and delete their snapshots.")
        if name == "ssh-config":
            p.add_argument(
                "--write", action="store_true", help="Add the blocks to --ssh-config, replacing earlier ones."
            )
            p.add_argument(
                "--ssh-config", default="~/.ssh/config", type=_path_arg("file"),
                help="File --write edits (default: ~/.ssh/config).",
            )  # fmt: skip
        if name != "status":
            p.add_argument(
                "--key-dir", default="~/.ssh", type=_path_arg("folder"),
                help="Where the role saved created keys (default: ~/.ssh).",
            )  # fmt: skip

    p = add("bake", "Make an AMI of a converged instance, named after its Julia and Mocha versions.", cmd_bake)
    p.add_argument("--region", type=_region_arg, help=f"Region of the instance (default: {defaults['region']}).")
    p.add_argument(
        "--deployment", default="default", type=_name_arg("ec2_gpu_deployment"),
        help="Deployment to bake (default: default).",
    )  # fmt: skip
    p.add_argument("--sandbox", action="store_true", help="Use the embedded AWS emulator (and commit the container).")

    p = sub.add_parser(
        "completion", help="Print a shell completion script.", description='eval "$(mocha-ansible completion bash)"'
    )
    p.set_defaults(func=cmd_completion)
    p.add_argument("shell", choices=("bash", "zsh"), help="bash or zsh")

    p = add("results", "List runs, or show runs' stages and parsed training results (or --plot them).", cmd_results)
    p.add_argument("run_id", nargs="*", help="Run ids from the list, or 'latest'; several overlay in --plot.")
    p.add_argument("--plot", action="store_true", help="Write a PNG of objective and validation accuracy.")
    p.add_argument(
        "--out", metavar="FILE", type=_path_arg("file"),
        help="PNG path (default: training.png in the first run's directory).",
    )  # fmt: skip
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return ExitCode.BAD_INPUT
        return int(args.func(args))
    except MochaAnsibleError as exc:
        print(f"mocha-ansible: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("mocha-ansible: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
