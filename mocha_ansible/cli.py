"""Subcommands and their options: argv -> Settings and an Environment -> a command.

Exit codes: 0 ok, 1 a play failed, 2 bad input or config, 3 refused by a check against AWS or earlier runs,
130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from mocha_ansible import __version__, completion, environment, lifecycle
from mocha_ansible.arguments import Parser, lines_arg, name_arg, path_arg, region_arg
from mocha_ansible.commands import (
    cmd_bake,
    cmd_logs,
    cmd_results,
    cmd_ssh_config,
    cmd_start,
    cmd_status,
    cmd_stop,
    cmd_teardown,
)
from mocha_ansible.config import default_values
from mocha_ansible.environment import Environment
from mocha_ansible.errors import ExitCode, MochaAnsibleError
from mocha_ansible.preflight import enforce, run_preflight
from mocha_ansible.provision import Options, Provision, confirm_on_tty, print_plan
from mocha_ansible.settings import accepted_text
from mocha_ansible.settings_flags import add_settings_options, settings_from_args

EPILOG = (
    "exit codes: 0 ok, 1 a play failed or work was left undone, 2 bad input or a refused route (nothing created),"
    " 3 refused by a check against AWS or earlier runs (credentials, permissions, quota, AMI), 130 interrupted."
)
# Only the commands that take settings (provision, preflight) have --config.
SETTINGS_EPILOG = (
    EPILOG + "\nSettings come from defaults < --config FILE < flags. Every key: docs/reference.md, Configuration."
)
RUNS_DIR_HELP = "Where run directories go (default: $MOCHA_ANSIBLE_RUNS_DIR or ~/.local/state/mocha-ansible/runs)."
JSON_HELP = "Machine-readable output: JSON lines, each one object with a 'type' (docs/reference.md, JSON output)."
VERBOSE_HELP = "Ansible verbosity of the playbooks a command runs (-v to -vvvv)."
QUIET_HELP = "Only failures and the closing lines of a long command's progress."


def cmd_preflight(args: argparse.Namespace, env: Environment) -> int:
    settings = settings_from_args(args)
    env.validate(settings)
    # Judged as `provision --check` judges it: in the sandbox, its image's AMI and compiler
    # and SSH from loopback, not the AWS preset the sandbox never launches.
    settings = env.prepare(settings, check=True)
    env.connect()
    plan = run_preflight(settings, env)
    plan.creates = [f"{item}{env.plan_note}" for item in plan.creates]
    print_plan(plan, settings, args.json)
    enforce(plan)
    return ExitCode.OK


def cmd_provision(args: argparse.Namespace, env: Environment) -> int:
    settings = settings_from_args(args)
    if args.down:
        return env.down(args.json)
    env.validate(settings)
    options = Options(
        check=args.check,
        yes=args.yes,
        json=args.json,
        verbosity=args.verbose,
        quiet=args.quiet,
        runs_dir=args.runs_dir,
        ami_from_bake=args.ami_from_bake,
    )
    return Provision(settings, options, confirm_on_tty, env).run()


def cmd_completion(args: argparse.Namespace, env: Environment) -> int:
    parser = build_parser()
    print(completion.bash(parser) if args.shell == "bash" else completion.zsh(parser), end="")
    return ExitCode.OK


_Command = Callable[[argparse.Namespace, Environment], int]
_Adder = Callable[[str, str, _Command], argparse.ArgumentParser]


def _add_provision_commands(add: _Adder, defaults: dict[str, Any]) -> None:
    p = add("provision", "Run the pipeline: launch, verify CUDA, build Julia, install Mocha and train.", cmd_provision)
    p.epilog = SETTINGS_EPILOG
    add_settings_options(p, defaults)
    p.add_argument("--check", action="store_true", help="Dry run: preflight and plan only; creates nothing.")
    p.add_argument("--yes", "-y", action="store_true", help="Do not ask before creating billable resources.")
    environment.add_down_flag(p)
    p.add_argument(
        "--ami-from-bake", action="store_true",
        help="Launch from the newest AMI that `bake` made: Julia and Mocha are already there.",
    )  # fmt: skip

    p = add(
        "preflight",
        "Check credentials, offering, AMI and compatibility; print the plan. Creates nothing.",
        cmd_preflight,
    )
    p.epilog = SETTINGS_EPILOG
    add_settings_options(p, defaults)


_LOOKUP_COMMANDS = (
    ("status", "List every instance carrying the project's tags.", cmd_status),
    ("teardown", "Delete every instance, security group, key pair and launch template the tool created.", cmd_teardown),
    ("ssh-config", "Print (or --write) `Host mocha-N` blocks for ~/.ssh/config.", cmd_ssh_config),
)


def _add_region(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--region", action="append", type=region_arg, help=f"Region to look in (repeatable; {default}).")


def _add_lookup_commands(add: _Adder, defaults: dict[str, Any]) -> None:
    """status, teardown and ssh-config: they find the project's resources by tag."""
    for name, text, func in _LOOKUP_COMMANDS:
        p = add(name, text, func)
        _add_region(p, f"default: {defaults['region']} plus the regions earlier runs recorded")
        p.add_argument(
            "--deployment", type=name_arg("deployment"),
            help="Only this deployment's resources (default: all of the project's).",
        )  # fmt: skip
        owners = p.add_mutually_exclusive_group()
        owners.add_argument(
            "--owner",
            type=name_arg("owner"),
            help=f"Only this owner's resources (default: yours, {defaults['owner']}).",
        )
        owners.add_argument("--all-owners", action="store_true", help="Everyone's resources, not only yours.")
        environment.add_flag(p, "Use the embedded AWS emulator.")
        if name == "teardown":
            p.add_argument("--yes", "-y", action="store_true", help="Delete without asking.")
            p.add_argument("--amis", action="store_true", help="Also deregister baked AMIs and delete their snapshots.")
        if name == "ssh-config":
            p.add_argument(
                "--write", action="store_true", help="Add the blocks to --ssh-config, replacing earlier ones."
            )
            p.add_argument(
                "--ssh-config", default="~/.ssh/config", type=path_arg("file"),
                help="File --write edits (default: ~/.ssh/config).",
            )  # fmt: skip
        if name != "status":
            p.add_argument(
                "--key-dir", default="~/.ssh", type=path_arg("folder"),
                help="Where the role saved created keys (default: ~/.ssh).",
            )  # fmt: skip


def _add_power_commands(add: _Adder, defaults: dict[str, Any]) -> None:
    """stop and start, as `sky stop/start`: pause a deployment's billing and resume it."""
    for name, text, func in (
        ("stop", "Stop a deployment's instances: instance billing pauses; the volumes stay (and bill).", cmd_stop),
        ("start", START_HELP, cmd_start),
    ):
        p = add(name, text, func)
        _add_region(p, f"default: {defaults['region']} and the runs' regions")
        p.add_argument(
            "--deployment", default="default", type=name_arg("deployment"),
            help="Deployment to stop or start (default: default).",
        )  # fmt: skip
        p.add_argument(
            "--owner", type=name_arg("owner"), help=f"Whose instances (default: yours, {defaults['owner']})."
        )
        p.set_defaults(all_owners=False)
        p.add_argument("--key-dir", default="~/.ssh", type=path_arg("folder"),
                       help="Where the role saved created keys (default: ~/.ssh).")  # fmt: skip
        environment.add_flag(p, f"The sandbox's emulated instances and their containers: {name} them offline.")
        if name == "start":
            p.add_argument(
                "--max-hours", type=_max_hours_arg, metavar="H",
                help="Re-arm each stopped instance's cost guard to now + H hours "
                f"(default: the instance's own mocha-ansible:max-hours tag); {accepted_text('max_hours')}.",
            )  # fmt: skip


START_HELP = (
    "Start a stopped deployment again, re-arming its cost guard: before each stopped instance starts, its "
    "mocha-ansible:deadline tag moves to now + H hours (option below), and the guard on the host reads that tag "
    "at every check. "
    "An instance already running is left alone and keeps its deadline."
)


def _max_hours_arg(value: str) -> float:
    try:
        return lifecycle.max_hours(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_other_commands(add: _Adder, sub: Any, defaults: dict[str, Any]) -> None:
    p = add("bake", "Make an AMI of a converged instance, named after its Julia and Mocha versions.", cmd_bake)
    p.add_argument("--region", type=region_arg, help=f"Region of the instance (default: {defaults['region']}).")
    p.add_argument(
        "--deployment", default="default", type=name_arg("deployment"),
        help="Deployment to bake (default: default).",
    )  # fmt: skip
    environment.add_flag(p, "Use the embedded AWS emulator (and commit the container).")

    p = sub.add_parser(
        "completion", help="Print a shell completion script.", description='eval "$(mocha-ansible completion bash)"'
    )
    p.set_defaults(func=cmd_completion)
    p.add_argument("shell", choices=("bash", "zsh"), help="bash or zsh")

    p = add("results", "List runs, or show runs' stages and parsed training results (or --plot them).", cmd_results)
    p.add_argument("run_id", nargs="*", help="Run ids from the list, or 'latest'; several overlay in --plot.")
    p.add_argument("--plot", action="store_true", help="Write a PNG of objective and validation accuracy.")
    p.add_argument(
        "--out", metavar="FILE", type=path_arg("file"),
        help="PNG path (default: training.png in the first run's directory).",
    )  # fmt: skip


def _add_logs_command(add: _Adder, defaults: dict[str, Any]) -> None:
    p = add(
        "logs", "Where each host's build, test and training logs live, and their last lines (or --follow).", cmd_logs
    )
    p.add_argument("run", nargs="?", metavar="RUN", help="A provision run id or 'latest' (default: latest).")
    p.add_argument(
        "--host",
        help="Only this host, by exact name: on AWS its ssh-config alias (mocha-1) or instance id; in the sandbox its "
        "container (mocha-sandbox-i-...) or instance id.",
    )
    p.add_argument("--follow", "-f", action="store_true", help="Keep printing new lines (one host) until Ctrl-C.")
    p.add_argument("--lines", "-n", type=lines_arg, default=20, help="Last lines of each log (default: 20).")
    p.add_argument("--region", action="append", type=region_arg, help="Region to look in (default: the run's).")
    p.add_argument("--deployment", type=name_arg("deployment"), help="Only this deployment (default: the run's).")
    owners = p.add_mutually_exclusive_group()
    owners.add_argument(
        "--owner", type=name_arg("owner"), help=f"Only this owner's hosts (default: yours, {defaults['owner']})."
    )
    owners.add_argument("--all-owners", action="store_true", help="Everyone's hosts, not only yours.")
    environment.add_flag(p, "The sandbox's containers (default when RUN was a sandbox run).")
    p.add_argument(
        "--key-dir", default="~/.ssh", type=path_arg("folder"),
        help="Where the role saved created keys (default: ~/.ssh).",
    )  # fmt: skip


def _global_options(p: argparse.ArgumentParser) -> None:
    """--runs-dir, --json, -v and -q after the subcommand too, where people type them. SUPPRESS keeps a
    value given before the subcommand: argparse would otherwise reset it to the default here."""
    p.add_argument("--runs-dir", type=path_arg("folder"), default=argparse.SUPPRESS, help=RUNS_DIR_HELP)
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help=JSON_HELP)
    _verbosity_options(p, suppress=True)


def _verbosity_options(p: argparse.ArgumentParser, suppress: bool) -> None:
    loudness = p.add_mutually_exclusive_group()
    unset = argparse.SUPPRESS if suppress else None
    loudness.add_argument("-v", "--verbose", action="count", default=unset or 0, help=VERBOSE_HELP)
    loudness.add_argument("-q", "--quiet", action="store_true", default=unset or False, help=QUIET_HELP)


def build_parser() -> argparse.ArgumentParser:
    defaults = default_values()
    parser = Parser(
        prog="mocha-ansible",
        description="Provision an AWS GPU instance, verify CUDA, install Julia (the official binary by default, "
        "or built from source) and train Mocha.jl's CIFAR-10 example: the 2016 tutorial as Ansible.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--runs-dir", type=path_arg("folder"), help=RUNS_DIR_HELP)
    parser.add_argument("--json", action="store_true", help=JSON_HELP)
    _verbosity_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    def add(name: str, help_text: str, func: _Command) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOG)
        p.set_defaults(func=func)
        _global_options(p)
        return p

    _add_provision_commands(add, defaults)
    _add_lookup_commands(add, defaults)
    _add_other_commands(add, sub, defaults)
    _add_logs_command(add, defaults)
    _add_power_commands(add, defaults)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return ExitCode.BAD_INPUT
        env = environment.from_args(args)
        try:
            return int(args.func(args, env))
        finally:
            # Only a provision that is not --check creates what an emulator must keep.
            env.release(keep=args.command == "provision" and not args.check and not args.down)
    except MochaAnsibleError as exc:
        # Every problem at once, each on its own line in the one format (git's and cargo's).
        for line in str(exc).splitlines():
            print(f"mocha-ansible: error: {line}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("mocha-ansible: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
