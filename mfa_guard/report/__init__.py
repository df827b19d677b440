"""Reporters: the only code that formats findings for output."""
