"""TEST DOUBLE: an instant clock for Ansible module processes.

amazon.aws's ec2_instance backs off on InsufficientInstanceCapacity with
AWSRetry.jittered_backoff (module_utils/cloud.py: 10 retries, 3 s doubling, at most
60 s, full jitter: about 196 s a zone), and botocore backs off on every HTTP 5xx reply
before that. A test of the zone failover wants the real modules' real retries, not
their wall time. With this folder on PYTHONPATH, a module process (an AnsiballZ
payload) gets a time.sleep that returns at once and appends the seconds it was asked
to sleep to $MOCHA_ANSIBLE_INSTANT_CLOCK_LOG, so a test can still see that the
back-off happened (mocha_ansible.runner hands MOCHA_ANSIBLE_* variables on to Ansible).

Only module processes: the controller's own loops poll with short sleeps and would
spin if these returned at once. With pipelining (ansible.cfg) a module is read from
stdin, so its argv[0] is empty; copied to a file, it is AnsiballZ_<name>.py.
"""

import os
import sys
import time

_log = os.environ.get("MOCHA_ANSIBLE_INSTANT_CLOCK_LOG")
_script = sys.argv[0] if sys.argv else ""
if _log and (_script == "" or os.path.basename(_script).startswith("AnsiballZ_")):

    def _sleep(seconds: float) -> None:
        with open(_log, "a", encoding="ascii") as f:
            f.write(f"{float(seconds)!r}\n")

    time.sleep = _sleep
