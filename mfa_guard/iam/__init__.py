"""The offline IAM engine: scenarios, action and resource matching, conditions and decisions.

Submodules are imported directly (`mfa_guard.iam.evaluate`). This package
imports nothing itself, so loading one submodule does not load the others.
"""
