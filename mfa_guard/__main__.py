from mfa_guard.entry import run

run()
