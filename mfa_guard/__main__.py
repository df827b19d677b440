from mfa_guard.cli import run

run()
