import os
import warnings

import pytest

from mfa_guard.engine.rules import load_rules
from mfa_guard.engine.runner import Analyzer
from mfa_guard.parallel import WorkerPool
from tests.fuzz.harness import TIMEOUT, FuzzRunner


@pytest.fixture(scope="session")
def fuzz(tmp_path_factory):
    """A runner whose worker pool lives for the whole fuzz session."""
    root = tmp_path_factory.mktemp("fuzz")
    with WorkerPool(Analyzer(load_rules()), 2, debug=True, timeout=TIMEOUT) as pool:
        runner = FuzzRunner(pool, root)
        yield runner
    if "MFA_GUARD_FUZZ_EXAMPLES" in os.environ:
        # A campaign reports its size, so that its record can give the count.
        warnings.warn(f"fuzz campaign: {runner.count} inputs scanned", stacklevel=1)
    if runner.crashes:
        warnings.warn(
            f"{len(runner.crashes)} of {runner.count} examples crashed a worker "
            f"(reported as parse errors); inputs saved in {root / 'crashes'}",
            stacklevel=1,
        )
    if runner.known:
        warnings.warn(
            f"{len(runner.known)} of {runner.count} examples hit a known defect; "
            f"inputs saved in {root / 'known'}",
            stacklevel=1,
        )
