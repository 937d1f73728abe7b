"""The subcommands that find the project's resources by tag, or read its runs.

status, teardown, ssh-config, bake and results: each turns its parsed arguments
into plain values for the module that owns the data and its rendering, and asks
the Environment the CLI chose (mocha_ansible/environment.py) for what differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from mocha_ansible import aws, endpoint, host_logs, lifecycle, results, results_view, ssh_config, status, teardown_view
from mocha_ansible.config import default_values
from mocha_ansible.environment import FLAG, Environment, for_run
from mocha_ansible.errors import ConfigError, ExitCode, PreflightRefused
from mocha_ansible.invocation import command
from mocha_ansible.progress import make_progress
from mocha_ansible.provision import confirm_on_tty
from mocha_ansible.runner import Cancel


def _regions(args: argparse.Namespace) -> list[str]:
    """--region, or else the default region plus every region an earlier run could use."""
    if args.region:
        return list(dict.fromkeys(args.region))
    return lifecycle.recorded_regions(results.runs_root(args.runs_dir), default_values()["region"])


def _owner(args: argparse.Namespace) -> str | None:
    """Whose resources status, teardown and ssh-config see: yours, --owner's, or with --all-owners everyone's."""
    if args.all_owners:
        return None
    return str(args.owner or default_values()["owner"])


def _key_dir(args: argparse.Namespace, env: Environment) -> Path:
    """Where the role keeps created keys: --key-dir (bake has none: ~/.ssh), or the environment's own folder."""
    return env.key_dir(Path(getattr(args, "key_dir", "~/.ssh")).expanduser())


def cmd_status(args: argparse.Namespace, env: Environment) -> int:
    env.connect()
    status.show(_regions(args), args.deployment, _owner(args), args.json)
    return ExitCode.OK


def cmd_bake(args: argparse.Namespace, env: Environment) -> int:
    env.connect()
    root = results.runs_root(args.runs_dir)
    versions = lifecycle.converged_versions(root, args.deployment)
    if versions is None:
        raise PreflightRefused(
            f"bake: no successful provision of deployment {args.deployment!r} with training results under {root}",
            fix=command("provision", "--deployment", args.deployment),
        )
    name, tags = lifecycle.bake_label(args.deployment, versions)
    run_dir = results.new_run_dir(root)
    cancel = Cancel()
    with cancel.installed():
        report = lifecycle.bake(
            args.region or default_values()["region"], args.deployment, name, tags, owner=default_values()["owner"],
            key_dir=_key_dir(args, env), progress=make_progress(args.json, args.quiet), run_dir=run_dir, cancel=cancel,
        )  # fmt: skip
    if cancel.requested is not None:
        return ExitCode.INTERRUPTED
    if report is None:
        print(f"Bake failed; see the log under {run_dir}/ansible.")
        return ExitCode.PLAY_FAILED
    env.after_bake(report["source"], report["image_id"])
    if args.json:
        print(json.dumps({"type": "baked", **report}))
    else:
        print(f"Baked {report['image_id']} ({name}) from {report['source']}.")
        launch = command("provision", *env.flags, "--deployment", args.deployment, "--ami-from-bake")
        print(f"Launch from it with: {launch}")
    return ExitCode.OK


def cmd_teardown(args: argparse.Namespace, env: Environment) -> int:
    env.connect()
    regions = _regions(args)
    before = [aws.footprint(r, args.deployment, _owner(args)) for r in regions]
    if all(fp.empty and not (args.amis and fp.images) for fp in before):
        teardown_view.print_nothing(before, args.amis, args.json)
        return ExitCode.OK
    teardown_view.print_doomed(before, env.containers(args.deployment), args.amis, args.json)
    if not args.yes and not confirm_on_tty("Delete all of the above?", refusal="teardown: refusing to delete"):
        # Exit 0 is for "nothing is left" (docs/reference.md, teardown): what was listed remains.
        print("Nothing deleted: what is listed above is still there (and may bill).")
        return ExitCode.PLAY_FAILED
    run_dir = results.new_run_dir(results.runs_root(args.runs_dir))
    cancel = Cancel()
    with cancel.installed():
        res = lifecycle.teardown(
            regions, args.deployment, owner=_owner(args), key_dir=_key_dir(args, env),
            progress=make_progress(args.json, args.quiet), run_dir=run_dir, cancel=cancel, environment=env,
            amis=args.amis,
        )  # fmt: skip
    if cancel.requested is not None:
        return ExitCode.INTERRUPTED
    if args.amis:
        env.after_amis_deleted([i["id"] for fp in before for i in fp.images])
    return teardown_view.print_outcome(before, res, args.amis, run_dir, args.json)


def cmd_ssh_config(args: argparse.Namespace, env: Environment) -> int:
    env.connect()
    regions, owner = _regions(args), _owner(args)
    instances = [i for r in regions for i in aws.footprint(r, args.deployment, owner).instances]
    text = ssh_config.ssh_config_text(instances, _key_dir(args, env), env)
    path = Path(args.ssh_config).expanduser() if args.write else None
    if path is not None:
        ssh_config.write_managed_block(path, text)
    if args.json:
        written = str(path) if path is not None else None
        print(json.dumps({"type": "ssh-config", "hosts": text.count("Host "), "config": text, "written": written}))
    elif path is None:
        sys.stdout.write(text or "# no running instance with a public IP\n")
    else:
        print(f"Wrote {text.count('Host ')} host block(s) to {path}")
    return ExitCode.OK


def _power(args: argparse.Namespace, env: Environment, state: str) -> int:
    """stop/start a deployment: pause billing (the volumes stay, and bill) or resume it.

    The cost guard on the instance powers it off at its absolute deadline, which it reads from the
    mocha-ansible:deadline tag at every check (ec2_gpu's user-data). `start` re-arms it: before
    starting a stopped instance it moves that tag to now + max-hours (lifecycle.rearm_plan).
    """
    env.connect()
    regions, owner = _regions(args), str(_owner(args))
    instances = [i for r in regions for i in aws.footprint(r, args.deployment, owner).instances]
    live = [i for i in instances if i.state not in ("terminated", "shutting-down")]
    if not live:
        raise PreflightRefused(
            f"{state}: no instance of deployment {args.deployment!r} (owner {owner}) in {', '.join(regions)}",
            fix=command("status", *env.flags, "--all-owners"),
        )
    spot = [i.instance_id for i in live if i.spot]
    if state == "stopped" and spot:
        # EC2 answers UnsupportedOperation for a one-time spot instance, after the others
        # of the fleet would already have stopped: refuse before any of them changes.
        raise ConfigError(
            f"stop: deployment {args.deployment!r} runs one-time spot instance(s) {', '.join(spot)}, "
            "which EC2 cannot stop (accepted: on-demand instances)",
            fix=command("teardown", *env.flags, "--deployment", args.deployment),
        )
    plans = [lifecycle.Rearm(i, kept="stopped") for i in live]
    if state == "running":
        # Judged for every instance before any tag or instance changes: a refusal changes nothing.
        plans = lifecycle.rearm_plan(live, args.max_hours, datetime.now(UTC))
        lifecycle.rearm(plans)
    run_dir = results.new_run_dir(results.runs_root(args.runs_dir))
    cancel = Cancel()
    with cancel.installed():
        ok = lifecycle.power(
            regions, args.deployment, state, owner=owner, key_dir=_key_dir(args, env),
            progress=make_progress(args.json, args.quiet), run_dir=run_dir, cancel=cancel,
        )  # fmt: skip
    if cancel.requested is not None:
        return ExitCode.INTERRUPTED
    if ok:  # the sandbox's containers follow their emulated instances
        (env.after_stop if state == "stopped" else env.after_start)(args.deployment)
    guard = {p.instance.instance_id: _minutes(p.deadline or p.instance.expires) for p in plans}
    if args.json:
        kind = "stop" if state == "stopped" else "start"
        print(json.dumps({"type": kind, "deployment": args.deployment, "ok": ok, "guard_deadlines": guard}))
    elif not ok:
        print(f"{state} failed; see the log under {run_dir}/ansible.")
    elif state == "stopped":
        resume = command("start", *env.flags, "--deployment", args.deployment)
        print(f"Stopped {len(live)} instance(s); the volumes are kept (and billed). Resume: {resume}")
    else:
        for plan in plans:
            at = guard[plan.instance.instance_id] or "never (no guard)"
            if plan.instance.state in ("running", "pending"):
                print(f"{plan.instance.instance_id} was already running; its cost guard still powers it off at {at}.")
            elif plan.deadline is not None:
                print(f"Started {plan.instance.instance_id}; its cost guard, re-armed, powers it off at {at}.")
            else:
                print(f"Started {plan.instance.instance_id}; its cost guard powers it off at {at} ({plan.kept}).")
    return ExitCode.OK if ok else ExitCode.PLAY_FAILED


def _minutes(when: datetime | None) -> str | None:
    return when.isoformat(timespec="minutes") if when else None


def cmd_stop(args: argparse.Namespace, env: Environment) -> int:
    return _power(args, env, "stopped")


def cmd_start(args: argparse.Namespace, env: Environment) -> int:
    return _power(args, env, "running")


def cmd_logs(args: argparse.Namespace, env: Environment) -> int:
    """The latest provision's (or RUN's) hosts, reached as the roles reached them; log paths from that run."""
    if args.follow and args.json:
        raise ConfigError("logs: --follow and --json exclude each other; accepted: one of them")
    root = results.runs_root(args.runs_dir)
    runs = [r for r in results.list_runs(root) if r.record.get("command") == "provision"]
    run = results_view.choose(runs, [args.run or "latest"], root, latest_trained=False)[0] if args.run or runs else None
    env = for_run(args, run.record if run is not None else {})
    role_vars = host_logs.run_vars(run)
    deployment = args.deployment or (run and role_vars.get("ec2_gpu_deployment")) or None
    specs = host_logs.log_specs(role_vars)
    if not env.hosts_by_address:  # the container is the machine: docker exec, as the roles connect
        return host_logs.show(
            host_logs.pick(host_logs.container_hosts(deployment), args.host), specs, args.lines, args.follow, args.json
        )
    env.connect()
    url = endpoint.invented_by()
    if url is not None:
        raise ConfigError(
            f"logs: the endpoint {url} is not AWS's own: its instance addresses are made up and belong to"
            f" strangers, so logs connects to none of them; accepted: AWS's own endpoint, or {FLAG}"
        )
    regions = list(dict.fromkeys(args.region)) if args.region else [str(role_vars.get("ec2_gpu_region"))]
    with host_logs.private_dir() as folder:
        hosts = host_logs.aws_hosts(
            regions, deployment, _owner(args), key_dir=_key_dir(args, env), env=env, folder=Path(folder)
        )
        return host_logs.show(host_logs.pick(hosts, args.host), specs, args.lines, args.follow, args.json)


def cmd_results(args: argparse.Namespace, env: Environment) -> int:
    """Runs are read from disk: the environment plays no part."""
    root = results.runs_root(args.runs_dir)
    runs = results.list_runs(root)
    if not args.run_id:
        if args.plot:
            raise ConfigError("results: --plot needs a run; accepted: results latest --plot, or several run ids")
        results_view.print_runs(runs, root, args.json)
        return ExitCode.OK
    chosen = results_view.choose(runs, args.run_id, root)
    if args.plot:
        results_view.plot_runs(chosen, args.out, args.json)
        return ExitCode.OK
    for run in chosen:
        results_view.show_run(run, args.json)
    return ExitCode.OK
