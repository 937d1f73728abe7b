"""TEST DOUBLE: moto in server mode with fault injection and API-call counting.

Moto serves the EC2 wire protocol but never runs out of capacity or throttles.
This wrapper starts moto's ThreadedMotoServer in the test process and patches its
request dispatch so a test can say, for example, "RunInstances in us-east-1a
answers InsufficientInstanceCapacity" or "the next two RunInstances answer
RequestLimitExceeded". Every call is counted per service and action, and each
RunInstances also per zone. It carries the EC2 rules the sandbox's emulator adds to moto
(mocha_ansible/emulator_ec2.py).

An injected error comes with the HTTP status EC2 gives its code: EC2's error reference
sorts codes into client errors (HTTP 4xx) and server errors (HTTP 5xx), and the
capacity codes are server errors
(https://docs.aws.amazon.com/ec2/latest/devguide/errors-overview.html, "Server error
codes"; the EC2 SDKs label InsufficientInstanceCapacity "Server : There are not enough
available instances"). botocore retries every 5xx reply before the caller sees it
(botocore/data/_retry.json, general_server_error), so a server-error fault is seen
by more calls than the caller makes.
"""

from __future__ import annotations

import logging
import os
import threading
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import BaseResponse
from moto.core.utils import camelcase_to_underscores
from moto.server import ThreadedMotoServer

from mocha_ansible import emulator_ec2
from mocha_ansible.emulator import Emulator, free_port

logging.getLogger("werkzeug").setLevel(logging.CRITICAL)


# EC2's server error codes among those the tests inject (source: the module docstring).
SERVER_ERRORS = frozenset({"InsufficientInstanceCapacity", "InsufficientCapacity", "InternalError", "Unavailable"})


class InjectedFault(ServiceException):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


@dataclass
class Fault:
    action: str  # e.g. RunInstances
    code: str  # e.g. InsufficientInstanceCapacity
    zone: str | None = None  # only calls aimed at this availability zone
    region: str | None = None  # only calls to this region
    times: int = -1  # how many calls fail; -1 means all of them
    message: str = "injected by tests/doubles/faulty_emulator.py"


@dataclass
class FaultyEmulator:
    port: int
    faults: list[Fault] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)  # "service:Action" -> calls
    launches: Counter[str] = field(default_factory=Counter)  # zone -> RunInstances aimed at it
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: Any = None

    @property
    def _endpoint(self) -> Emulator:
        # The same address, environment and reset as the sandbox's emulator.
        return Emulator(pid=os.getpid(), port=self.port)

    @property
    def url(self) -> str:
        return self._endpoint.url

    def env(self) -> dict[str, str]:
        return self._endpoint.env()

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.calls.clear()
            self.launches.clear()
        self._endpoint.reset()
        # A test may have turned IAM checks on (emulator.enforce_iam); the next one starts without.
        req = urllib.request.Request(
            f"{self.url}/moto-api/reset-auth", data=b"inf", method="POST", headers={"Content-Type": "text/plain"}
        )
        with urllib.request.urlopen(req, timeout=10):
            pass

    def _zone_of(self, response: BaseResponse) -> str | None:
        zone = response._get_param("Placement.AvailabilityZone")
        subnet_id = response._get_param("SubnetId")
        for nic in response._get_param("NetworkInterfaces", []) or []:
            subnet_id = subnet_id or nic.get("SubnetId")
        if not zone and subnet_id:
            zone = response.ec2_backend.get_subnet(subnet_id).availability_zone  # type: ignore[attr-defined]
        return zone

    def _fault_for(self, action: str, response: BaseResponse) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.action != action or fault.times == 0:
                    continue
                if fault.zone is not None and self._zone_of(response) != fault.zone:
                    continue
                if fault.region is not None and response.region != fault.region:
                    continue
                if fault.times > 0:
                    fault.times -= 1
                return fault
        return None

    def start(self) -> FaultyEmulator:
        original = BaseResponse.call_action
        emulator = self

        def call_action(response: BaseResponse) -> Any:
            action = response._get_action()
            service = type(response).__module__.split(".")[1]
            zone = emulator._zone_of(response) if action == "RunInstances" else None
            with emulator._lock:
                emulator.calls[f"{service}:{action}"] += 1
                if zone:
                    emulator.launches[zone] += 1
            fault = emulator._fault_for(action, response)
            if fault is None:
                return original(response)

            def fail() -> Any:
                raise InjectedFault(fault.code, f"{fault.message} ({fault.code})")

            # call_action turns a ServiceException from the action into an AWS error reply,
            # with moto's status for a client error; a server error gets EC2's 500.
            setattr(response, camelcase_to_underscores(action), fail)
            status, headers, body = original(response)
            if fault.code in SERVER_ERRORS:
                status = headers["status"] = 500
            return status, headers, body

        BaseResponse.call_action = call_action  # type: ignore[method-assign]
        # The EC2 rules moto lacks (volumes and snapshots, spot market and stop), as the
        # sandbox's emulator has them.
        emulator_ec2.install()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()


def start_faulty_emulator() -> FaultyEmulator:
    return FaultyEmulator(port=free_port()).start()
