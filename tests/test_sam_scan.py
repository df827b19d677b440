"""A SAM function's inline policy statements are checked like any other policy."""

import pytest

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  AdminFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Runtime: python3.12
      CodeUri: src/
      Policies:
        - S3ReadPolicy:
            BucketName: reports
        - Version: "2012-10-17"
          Statement:
            - Sid: DenyAllExceptListedIfNoMFA
              Effect: Deny
              NotAction:{extra}
                - iam:CreateVirtualMFADevice
                - iam:EnableMFADevice
                - iam:GetUser
                - iam:ListMFADevices
                - iam:ListVirtualMFADevices
                - iam:ResyncMFADevice
              Resource: "*"
              Condition:
                BoolIfExists:
                  aws:MultiFactorAuthPresent: "false"
"""


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("", [("password-change-blocked", 15, 15)]),
        ("\n                - iam:ChangePassword", []),
    ],
)
def test_sam_inline_policy(tmp_path, run_scan, extra, expected):
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE.format(extra=extra))
    result = run_scan(path)
    assert result.located() == expected
    if expected:
        assert result.findings[0]["policy"] == "AdminFunction.Policies[1]"
