"""mfa-guard: a static analyzer for AWS IAM policies that enforce MFA."""

__version__ = "0.1.0"
