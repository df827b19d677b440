"""Install mfa-guard the way pre-commit does, for the benchmark to time.

A development checkout is usually an editable install. Its import hook is
set up by a `.pth` file that imports `pathlib` and `importlib.util` when
any Python of that environment starts, which added about 40 ms to every
start on the benchmark machine, `python -c pass` included. pre-commit
installs a hook's package from a built wheel, without that hook, so the
benchmark does the same: it builds a wheel of this checkout and installs
it into a new virtual environment under the work folder.

The dependencies are not installed again. A `.pth` file puts the
development environment's `site-packages` on the new environment's path
after its own, so the installed mfa-guard is the one that is imported.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def install_wheel(work: Path) -> Path:
    """Build mfa-guard, install it into `work/venv-installed` and return the folder of its scripts."""
    venv = work / "venv-installed"
    scripts = venv / "bin"
    if not (scripts / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)

    wheels = work / "wheel"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(wheels),
            str(REPOSITORY),
        ],
        check=True,
    )
    wheel = max(wheels.glob("mfa_guard-*.whl"), key=lambda path: path.stat().st_mtime)
    subprocess.run(
        [
            str(scripts / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--force-reinstall",
            str(wheel),
        ],
        check=True,
    )

    site = subprocess.run(
        [
            str(scripts / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dependencies = sysconfig.get_paths()["purelib"]
    Path(site, "mfa-guard-bench-dependencies.pth").write_text(
        dependencies + "\n", encoding="utf-8"
    )
    return scripts
