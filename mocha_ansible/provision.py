"""`provision`: preflight and plan, the playbook stages, results, then what happens after.

Each step is a stage in the progress display with its own timing. Where the
instances live (AWS, or an emulator and local containers) is the Environment
the CLI chose (mocha_ansible/environment.py); everything else is one code path.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

from mocha_ansible import aws, endpoint, lifecycle, results
from mocha_ansible.cost import cost_so_far
from mocha_ansible.environment import FLAG, Aws, Environment, next_steps, teardown_command
from mocha_ansible.errors import ConfigError, ExitCode, MochaAnsibleError, PreflightRefused
from mocha_ansible.invocation import command
from mocha_ansible.pipeline import PipelineResult, run_pipeline
from mocha_ansible.preflight import Plan, enforce, judge_route, run_preflight
from mocha_ansible.progress import Timeline, make_progress
from mocha_ansible.runner import Cancel
from mocha_ansible.settings import Settings


@dataclass(frozen=True)
class Options:
    check: bool = False
    yes: bool = False
    json: bool = False
    verbosity: int = 0
    quiet: bool = False
    runs_dir: str | None = None
    ami_from_bake: bool = False


def print_plan(plan: Plan, settings: Settings, json_mode: bool) -> None:
    if json_mode:
        print(json.dumps({"type": "plan", **plan.as_dict(), "extravars": settings.to_extravars()}), flush=True)
        return
    if plan.route is not None:
        print(plan.route.line())
    print("Preflight:")
    for c in plan.checks:
        print(f"  [{c.status:>4}] {c.name}: {c.detail}" + (f" (fix: {c.fix})" if c.fix else ""))
    if plan.creates:
        print("Will create:")
        for item in plan.creates:
            print(f"  - {item}")
    if plan.cost.get("known"):
        cost = plan.cost
        print(
            f"Estimated cost: ${cost['usd_per_hour']:.2f}/hour, at most ${cost['usd_cap']:.2f} "
            f"before auto-terminate ({cost['label']})"
        )
        hours = plan.route.hours if plan.route is not None else None
        if hours is not None:
            # The expected cost follows --after: keep bills the instance until the cap, not just the work.
            if settings.after == "keep":
                print(f"Expected: about {hours:.1f} h of work; with --after keep the instance bills until the"
                      f" {float(settings.max_hours):g} h cap (or `teardown`): about ${cost['usd_cap']:.2f}"
                      " (estimate)")  # fmt: skip
            else:
                billed = min(hours, float(settings.max_hours))
                then = "stops then" + (" (its volumes still bill while stopped)" if settings.after == "stop" else "")
                print(f"Expected: about {hours:.1f} h of work, about ${billed * cost['usd_per_hour']:.2f}"
                      f" (estimate); with --after {settings.after} the instance's billing {then}")  # fmt: skip
    elif plan.cost:
        print(f"Estimated cost: unknown for {plan.cost['instance_type']} (not in the price table)")
    print(f"Stages: {', '.join(plan.stages)}", flush=True)


def _regions(settings: Settings) -> list[str]:
    """Every region the deployment may be in: its own, then the failover candidates."""
    return lifecycle.regions(settings.region, settings.regions)


def _live(settings: Settings) -> list[aws.Instance]:
    return [
        i
        for r in _regions(settings)
        for i in aws.instances(r, settings.deployment, settings.owner)
        if i.state not in ("terminated", "shutting-down")
    ]


class Provision:
    def __init__(
        self,
        settings: Settings,
        options: Options,
        confirm: Callable[[str], bool],
        environment: Environment | None = None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.confirm = confirm
        self.env = environment or Aws()
        self.progress = make_progress(options.json, options.quiet)
        self.timeline = Timeline(self.progress)
        # Where ec2_gpu saves a created key: -e ec2_gpu_key_dir wins, so teardown deletes it there too.
        default = self.env.key_dir(Path("~/.ssh"))
        self.key_dir = Path(str(settings.extra_vars.get("ec2_gpu_key_dir", default))).expanduser()

    def say(self, text: str) -> None:
        self.progress.message(text)

    def run(self) -> int:
        opts, env = self.options, self.env
        if env.prepare_stage is not None:
            with self.timeline.stage(env.prepare_stage):
                self.settings = env.prepare(self.settings, check=opts.check, say=self.say)
        if opts.ami_from_bake:
            self._use_baked_ami()
        # The route is judged on the stages asked for, before an emulator trims them.
        chosen = judge_route(self.settings, env)
        if env.hosts_by_address and self.settings.target is None:
            self._keep_off_emulated_addresses()
        with self.timeline.stage("preflight"):
            plan = run_preflight(self.settings, chosen=chosen)
        plan.creates = [f"{item}{env.plan_note}" for item in plan.creates]
        print_plan(plan, self.settings, opts.json)
        enforce(plan)
        if opts.check:
            self.say("--check: stopping after the plan; nothing was created.")
            return ExitCode.OK
        billable = plan.creates and env.billed
        if billable and not opts.yes and not self.confirm("Create these billable resources?"):
            self.say("Nothing created.")
            return ExitCode.OK
        return self._converge()

    def _keep_off_emulated_addresses(self) -> None:
        """Against an emulator, stop after the provision stage: its instances' addresses are made up."""
        url = endpoint.invented_by()
        if url is None:
            return
        stages = self.settings.stages
        host_stages = [st for st in stages if st != "provision"]
        if not host_stages:
            return
        if "provision" not in stages:
            raise ConfigError(
                f"option: --stages={','.join(stages)} needs real instances, and the endpoint {url} is not AWS's own"
                f" (its instance addresses are made up); accepted: --stages provision, or {FLAG}"
            )
        self.say(
            f"The endpoint {url} is not AWS's own: the addresses it reports are made up and belong to strangers,"
            f" so nothing connects to them. Running the provision stage only, without the SSH wait (skipping"
            f" {', '.join(host_stages)}); {FLAG} runs those stages in local containers."
        )
        self.settings = self.settings.model_copy(update={"stages": ("provision",)})

    def _use_baked_ami(self) -> None:
        image = aws.newest_baked_image(self.settings.region, self.settings.owner)
        if image is None:
            raise PreflightRefused(
                f"provision: --ami-from-bake found no baked AMI in {self.settings.region}",
                fix=f"converge once, then `{command('bake')}`",
            )
        self.settings = self.settings.model_copy(update={"ami": image["id"]})
        self.say(f"Launching from baked AMI {image['id']} ({image['name']})")
        self.env.use_baked(image["id"])

    def _converge(self) -> int:
        opts, s = self.options, self.settings
        before = {i.instance_id for i in _live(s)} if s.target is None else set()
        run_dir = results.new_run_dir(results.runs_root(opts.runs_dir))
        record: dict[str, Any] = {
            "command": "provision",
            **self.env.run_facts(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "extravars": s.to_extravars(),
            "stages": list(s.stages),
            "status": "running",
        }
        results.write_record(run_dir, record)
        for line in self.env.notes(s):
            self.say(line)
        cancel = Cancel()
        with cancel.installed():
            outcome = run_pipeline(
                s, self.progress, run_dir, cancel=cancel, verbosity=opts.verbosity, environment=self.env
            )
            self.timeline.stages += outcome.stages
            results_status = "skipped"
            if cancel.requested is None:
                with self.timeline.stage("results") as stage:
                    stage["status"] = results_status = self._report_results(run_dir, outcome)
            code = self._conclude(outcome, run_dir, cancel, before, results_ok=results_status != "failed")
        record["stage_results"] = [vars(st) for st in self.timeline.stages]
        record["recap"] = {h: vars(r) for h, r in outcome.recap.items()}
        record["status"] = {ExitCode.OK: "ok", ExitCode.INTERRUPTED: "interrupted"}.get(ExitCode(code), "failed")
        record["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        results.write_record(run_dir, record)
        self.progress.finished(outcome.recap, str(run_dir))
        self._timing_summary()
        return code

    def _report_results(self, run_dir: Path, outcome: PipelineResult) -> str:
        reports = results.host_reports(run_dir)
        for host, files in sorted(reports.items()):
            self.say(f"  {host}: {', '.join(sorted(files))} in {run_dir / 'hosts' / host}")
            if isinstance(files.get("results"), dict):
                self.say(f"  {host}: {results.training_summary(files['results'])}")
        trained = "mocha" in self.settings.stages
        missing = [h for h in outcome.recap if h != "localhost" and "results" not in reports.get(h, {})]
        return "failed" if trained and outcome.ok and missing else ("ok" if reports else "skipped")

    def _conclude(
        self, outcome: PipelineResult, run_dir: Path, cancel: Cancel, before: set[str], *, results_ok: bool = True
    ) -> int:
        s = self.settings
        if cancel.requested is not None:
            self._what_exists("Interrupted.")
            return ExitCode.INTERRUPTED
        if not results_ok:
            # Training ran but its numbers did not come home: a failure, and the hosts are kept for them.
            self.say("The results stage failed: a host trained but sent back no results.json.")
        if not outcome.ok or not results_ok:
            if not outcome.ok and not outcome.run.failed_tasks:
                # ansible-playbook stopped before any task failed (a syntax error, a missing
                # executable, an unreachable inventory): its own last words are the reason.
                self.say("ansible-playbook failed before any task did; its last output:")
                for line in outcome.run.output_tail():
                    self.say(f"  {line}")
            if s.destroy_on_failure and s.target is None:
                self._destroy(run_dir, cancel, before)
            else:
                self._what_exists("A stage failed.")
            return ExitCode.PLAY_FAILED
        with self.timeline.stage("after") as stage:
            ok = self._after(run_dir, cancel)
            stage["status"] = "ok" if ok else "failed"
        return ExitCode.OK if ok else ExitCode.PLAY_FAILED

    def _teardown_command(self) -> str:
        return teardown_command(self.env, self.settings.deployment)

    def _what_exists(self, headline: str) -> None:
        s = self.settings
        if s.target is not None:
            self.say(f"{headline} Resume with the same command; {s.target} keeps what converged.")
            return
        try:
            live = _live(s)
        except MochaAnsibleError as exc:
            self.say(f"{headline} Could not list what exists ({exc}).")
            self.say(f"Resume with the same command once AWS answers, or remove it all: {self._teardown_command()}")
            return
        self.say(f"{headline} {len(live)} instance(s) of deployment {s.deployment!r} exist now:")
        for inst in live:
            self.say(f"  {inst.instance_id} {inst.instance_type} {inst.state} in {inst.region}")
        self.say(
            f"Resume with the same command (nothing is launched twice), or remove it all: {self._teardown_command()}"
        )

    def _destroy(self, run_dir: Path, cancel: Cancel, before: set[str]) -> None:
        s = self.settings
        if before:
            self.say(
                f"--destroy-on-failure: keeping deployment {s.deployment!r}; its instances existed before this run "
                f"({', '.join(sorted(before))}). Remove them with: {self._teardown_command()}"
            )
            return
        with self.timeline.stage("destroy") as stage:
            res = lifecycle.teardown(
                _regions(s),
                s.deployment,
                owner=s.owner,
                key_dir=self.key_dir,
                progress=self.progress,
                run_dir=run_dir,
                cancel=cancel,
                environment=self.env,
            )
            stage["status"] = "ok" if res.ok else "failed"
        if res.ok:
            self.say(f"--destroy-on-failure: deleted everything deployment {s.deployment!r} had.")
        else:
            self._what_exists("--destroy-on-failure could not delete everything.")

    def _after(self, run_dir: Path, cancel: Cancel) -> bool:
        s = self.settings
        if s.target is not None:
            return True
        live = _live(s)
        spent, complete = cost_so_far(live)
        note = ("" if complete else " (some types are not in the price table)") + self.env.cost_note
        self.say(f"Estimated cost so far: ${spent:.2f}{note}")
        regions = _regions(s)
        if s.after == "keep":
            for inst in live:
                expires = inst.expires.astimezone(UTC).isoformat(timespec="minutes") if inst.expires else "never"
                self.say(f"Kept: {inst.instance_id} ({inst.state}) auto-terminates at {expires}")
            self.say(f"Tear down with: {self._teardown_command()}")
            steps = next_steps(self.env, s.deployment)
            width = max(len(cmd) for cmd, _ in steps)
            self.say("Next steps:")
            for cmd, why in steps:
                self.say(f"  {cmd:<{width}}  # {why}")
            return True
        if s.after == "stop":
            ok = lifecycle.power(
                regions, s.deployment, "stopped", owner=s.owner,
                key_dir=self.key_dir, progress=self.progress, run_dir=run_dir, cancel=cancel,
            )  # fmt: skip
            self.env.after_stop(s.deployment)
            self.say(
                f"Stopped {len(live)} instance(s); the volumes are kept (and billed). Resume with the same command."
            )
            return ok
        res = lifecycle.teardown(
            regions, s.deployment, owner=s.owner,
            key_dir=self.key_dir, progress=self.progress, run_dir=run_dir, cancel=cancel,
            environment=self.env,
        )  # fmt: skip
        self.say("Terminated: nothing of the deployment is left." if res.ok else "Teardown left resources behind.")
        return res.ok

    def _timing_summary(self) -> None:
        if not self.options.json:
            for line in self.timeline.summary():
                self.say(line)


def confirm_on_tty(question: str, refusal: str = "provision: refusing to create billable resources") -> bool:
    """Ask on a terminal; without one, refuse (exit 2) with `refusal`, naming the command and what it would do."""
    if not sys.stdin.isatty():
        raise ConfigError(f"{refusal} without confirmation on a non-interactive stdin", fix="add --yes")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
