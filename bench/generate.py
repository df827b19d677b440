"""Write a synthetic infrastructure repository for benchmarks and scale tests.

The tree mixes Terraform module directories, CloudFormation templates in
YAML and JSON, standalone JSON policies, and files without IAM policies:
Kubernetes manifests, Helm templates, `package.json` and `tsconfig.json`.
Terraform policies are heredocs, `jsonencode` calls or
`data "aws_iam_policy_document"` blocks, with variables and locals in
sibling files. The same seed and size
always give the same bytes.

`planted.jsonl` in the output folder lists every file that contains a
policy, whether the policy is about MFA, and the rule ids mfa-guard must
report in it. mfa-guard does not read `.jsonl` files.

Usage: python -m bench.generate OUTPUT_DIR [--files 2000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench import policies
from bench.policies import Policy

MANIFEST_NAME = "planted.jsonl"

# Share of all files for each kind; the rest are files without IAM policies.
TERRAFORM_SHARE = 0.35
CLOUDFORMATION_YAML_SHARE = 0.10
CLOUDFORMATION_JSON_SHARE = 0.05
JSON_POLICY_SHARE = 0.15

# Share of Terraform modules and CloudFormation templates without IAM resources.
NON_IAM_SHARE = 0.3

WORDS = [
    "alpha",
    "billing",
    "cache",
    "data",
    "edge",
    "fleet",
    "gateway",
    "hub",
    "ingest",
    "jobs",
    "kiosk",
    "ledger",
    "media",
    "notify",
    "orders",
    "payments",
    "queue",
    "reports",
    "search",
    "tickets",
    "users",
    "vault",
    "web",
    "xfer",
    "yield",
    "zone",
]


@dataclass
class Planted:
    """One file that contains a policy, and the rule ids a scan must report in it."""

    path: str
    format: str
    policy: str
    mfa: bool
    expected: list[str] = field(default_factory=list)


@dataclass
class Generator:
    root: Path
    rng: random.Random
    mfa_share: float
    mistake_share: float
    files: int = 0
    planted: list[Planted] = field(default_factory=list)
    names: set[str] = field(default_factory=set)

    def write(self, relative: str, text: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.files += 1

    def unique(self, prefix: str) -> str:
        """Return a new name such as `orders-ledger-17` under `prefix`."""
        while True:
            name = f"{self.rng.choice(WORDS)}-{self.rng.choice(WORDS)}-{self.rng.randrange(1000)}"
            if f"{prefix}/{name}" not in self.names:
                self.names.add(f"{prefix}/{name}")
                return name

    def pick_policy(self) -> Policy:
        if self.rng.random() < self.mfa_share:
            if self.rng.random() < self.mistake_share:
                return self.rng.choice(policies.MISTAKES)()
            return self.rng.choice(policies.CORRECT_MFA)()
        return self.rng.choice(policies.PLAIN)()

    def plant(self, path: str, kind: str, policy: Policy) -> None:
        entry = Planted(path, kind, policy.name, policy.mfa, list(policy.expected))
        self.planted.append(entry)


def generate_tree(
    root: Path,
    files: int = 2000,
    seed: int = 1,
    mfa_share: float = 0.4,
    mistake_share: float = 0.5,
) -> list[Planted]:
    """Write a repository of about `files` files under `root` and return what was planted.

    `mfa_share` is the share of IAM policies that are about MFA, and
    `mistake_share` the share of those that contain a mistake. Writes the
    manifest to `root / MANIFEST_NAME`; an existing `root` is replaced.
    """
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    generator = Generator(root, random.Random(seed), mfa_share, mistake_share)

    steps: list[tuple[float, Callable[[Generator], None]]] = [
        (TERRAFORM_SHARE, write_terraform_module),
        (CLOUDFORMATION_YAML_SHARE, write_cloudformation_yaml),
        (CLOUDFORMATION_JSON_SHARE, write_cloudformation_json),
        (JSON_POLICY_SHARE, write_json_policy),
    ]
    for share, step in steps:
        target = generator.files + round(files * share)
        while generator.files < target:
            step(generator)

    noise = [write_kubernetes_app, write_helm_chart, write_node_app]
    while generator.files < files:
        generator.rng.choice(noise)(generator)

    lines = [json.dumps(asdict(entry), sort_keys=True) for entry in generator.planted]
    (root / MANIFEST_NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return generator.planted


def read_manifest(root: Path) -> list[Planted]:
    text = (root / MANIFEST_NAME).read_text(encoding="utf-8")
    return [Planted(**json.loads(line)) for line in text.splitlines() if line]


def write_terraform_module(generator: Generator) -> None:
    name = generator.unique("terraform")
    folder = f"terraform/modules/{name}"
    resource = name.replace("-", "_")
    generator.write(f"{folder}/variables.tf", _variables_tf(name))
    if generator.rng.random() < NON_IAM_SHARE:
        generator.write(f"{folder}/main.tf", _storage_tf(resource))
        return

    policy = generator.pick_policy()
    style = generator.rng.choice(["heredoc", "jsonencode", "document"])
    if style == "jsonencode" and "NotAction" in str(policy.value):
        generator.write(f"{folder}/locals.tf", _locals_tf(policy.value))
        body = _jsonencode_tf(resource, policy.value, "local.exempt_actions")
    elif style == "jsonencode":
        body = _jsonencode_tf(resource, policy.value, None)
    elif style == "heredoc":
        body = _heredoc_tf(resource, policy.value)
    else:
        body = _document_tf(resource, policy.value)
    generator.write(f"{folder}/main.tf", body)
    if generator.rng.random() < 0.5:
        generator.write(f"{folder}/outputs.tf", _outputs_tf(resource))
    generator.plant(f"{folder}/main.tf", f"terraform-{style}", policy)


def _variables_tf(name: str) -> str:
    return f"""variable "environment" {{
  description = "Deployment environment"
  type        = string
  default     = "prod"
}}

variable "name_prefix" {{
  description = "Prefix of every resource name"
  type        = string
  default     = "{name}"
}}

variable "tags" {{
  type = map(string)
  default = {{
    team    = "platform"
    service = "{name}"
  }}
}}
"""


def _locals_tf(value: dict[str, Any]) -> str:
    actions = next(
        statement["NotAction"]
        for statement in value["Statement"]
        if "NotAction" in statement
    )
    items = "\n".join(f"    {policies.hcl_string(action)}," for action in actions)
    return f"""locals {{
  exempt_actions = [
{items}
  ]
  common_tags = merge(var.tags, {{ environment = var.environment }})
}}
"""


def _jsonencode_tf(resource: str, value: dict[str, Any], exempt: str | None) -> str:
    rendered = policies.hcl_value(value, 2)
    if exempt is not None:
        # Replace the NotAction list with a reference to the locals file.
        start = rendered.index("NotAction = [")
        end = rendered.index("]", start) + 1
        rendered = rendered[:start] + f"NotAction = {exempt}" + rendered[end:]
    return f"""resource "aws_iam_policy" "{resource}" {{
  name        = "${{var.name_prefix}}-policy"
  description = "Managed by Terraform"
  policy = jsonencode({rendered})
}}

{_group_tf(resource, "aws_iam_policy." + resource + ".arn")}
"""


def _heredoc_tf(resource: str, value: dict[str, Any]) -> str:
    return f"""resource "aws_iam_policy" "{resource}" {{
  name   = "${{var.name_prefix}}-policy"
  policy = {policies.heredoc(value, 2)}
}}

{_group_tf(resource, "aws_iam_policy." + resource + ".arn")}
"""


def _document_tf(resource: str, value: dict[str, Any]) -> str:
    return f"""{policies.policy_document_block(resource, value)}

resource "aws_iam_policy" "{resource}" {{
  name   = "${{var.name_prefix}}-policy"
  policy = data.aws_iam_policy_document.{resource}.json
}}

{_group_tf(resource, "aws_iam_policy." + resource + ".arn")}
"""


def _group_tf(resource: str, policy_arn: str) -> str:
    return f"""resource "aws_iam_group" "{resource}" {{
  name = "${{var.name_prefix}}-group"
}}

resource "aws_iam_group_policy_attachment" "{resource}" {{
  group      = aws_iam_group.{resource}.name
  policy_arn = {policy_arn}
}}"""


def _storage_tf(resource: str) -> str:
    return f"""resource "aws_s3_bucket" "{resource}" {{
  bucket = "${{var.name_prefix}}-${{var.environment}}"
  tags   = var.tags
}}

resource "aws_s3_bucket_versioning" "{resource}" {{
  bucket = aws_s3_bucket.{resource}.id
  versioning_configuration {{
    status = "Enabled"
  }}
}}

resource "aws_sns_topic" "{resource}" {{
  name = "${{var.name_prefix}}-events"
}}
"""


def _outputs_tf(resource: str) -> str:
    return f"""output "policy_arn" {{
  description = "ARN of the managed policy"
  value       = aws_iam_policy.{resource}.arn
}}
"""


def _template(generator: Generator, name: str) -> tuple[dict[str, Any], Policy | None]:
    """Return a CloudFormation template, with a managed policy unless it has no IAM."""
    logical = "".join(part.capitalize() for part in name.split("-") if part.isalpha())
    resources: dict[str, Any] = {
        f"{logical}Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": {"Fn::Sub": "${Environment}-" + name}},
        },
        f"{logical}Topic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": {"Fn::Sub": "${Environment}-" + name}},
        },
    }
    policy = None
    if generator.rng.random() >= NON_IAM_SHARE:
        policy = generator.pick_policy()
        resources[f"{logical}Group"] = {"Type": "AWS::IAM::Group"}
        resources[f"{logical}Policy"] = {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "Description": f"Policy of {name}",
                "Groups": [{"Ref": f"{logical}Group"}],
                "PolicyDocument": policy.value,
            },
        }
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Resources of {name}",
        "Parameters": {"Environment": {"Type": "String", "Default": "prod"}},
        "Resources": resources,
        "Outputs": {
            "BucketArn": {"Value": {"Fn::GetAtt": [f"{logical}Bucket", "Arn"]}}
        },
    }
    return template, policy


def write_cloudformation_yaml(generator: Generator) -> None:
    name = generator.unique("cloudformation")
    path = f"cloudformation/{name}.yaml"
    template, policy = _template(generator, name)
    generator.write(path, yaml.safe_dump(template, sort_keys=False, width=88))
    if policy is not None:
        generator.plant(path, "cloudformation-yaml", policy)


def write_cloudformation_json(generator: Generator) -> None:
    name = generator.unique("cloudformation")
    path = f"cloudformation/{name}.template.json"
    template, policy = _template(generator, name)
    generator.write(path, json.dumps(template, indent=2) + "\n")
    if policy is not None:
        generator.plant(path, "cloudformation-json", policy)


def write_json_policy(generator: Generator) -> None:
    name = generator.unique("policies")
    path = f"policies/{name}.json"
    policy = generator.pick_policy()
    generator.write(path, json.dumps(policy.value, indent=2) + "\n")
    generator.plant(path, "json-policy", policy)


def write_kubernetes_app(generator: Generator) -> None:
    name = generator.unique("k8s")
    variables = "\n".join(
        f'            - name: SETTING_{index}\n              value: "{generator.rng.randrange(10**6)}"'
        for index in range(generator.rng.randrange(5, 30))
    )
    deployment = f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app: {name}
spec:
  replicas: {generator.rng.randrange(1, 6)}
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
    spec:
      containers:
        - name: {name}
          image: registry.example.com/{name}:1.{generator.rng.randrange(50)}.0
          env:
{variables}
"""
    service = f"""apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector:
    app: {name}
  ports:
    - port: 80
      targetPort: 8080
"""
    generator.write(f"k8s/{name}/deployment.yaml", deployment)
    generator.write(f"k8s/{name}/service.yaml", service)


def write_helm_chart(generator: Generator) -> None:
    name = generator.unique("charts")
    folder = f"charts/{name}"
    generator.write(
        f"{folder}/Chart.yaml",
        f"apiVersion: v2\nname: {name}\nversion: 0.{generator.rng.randrange(20)}.0\n",
    )
    generator.write(
        f"{folder}/values.yaml",
        f"replicaCount: 2\nimage:\n  repository: registry.example.com/{name}\n  tag: latest\n",
    )
    generator.write(
        f"{folder}/templates/deployment.yaml",
        f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ include "{name}.fullname" . }}}}
spec:
  replicas: {{{{ .Values.replicaCount }}}}
  template:
    spec:
      containers:
        - name: {{{{ .Chart.Name }}}}
          image: "{{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag }}}}"
          {{{{- with .Values.resources }}}}
          resources:
            {{{{- toYaml . | nindent 12 }}}}
          {{{{- end }}}}
""",
    )


def write_node_app(generator: Generator) -> None:
    name = generator.unique("apps")
    dependencies = {
        f"@example/{generator.rng.choice(WORDS)}-{index}": f"^{generator.rng.randrange(1, 9)}.0.0"
        for index in range(generator.rng.randrange(5, 40))
    }
    package = {
        "name": name,
        "version": "1.0.0",
        "private": True,
        "scripts": {"build": "tsc -p .", "test": "jest"},
        "dependencies": dependencies,
    }
    generator.write(f"apps/{name}/package.json", json.dumps(package, indent=2) + "\n")
    generator.write(
        f"apps/{name}/tsconfig.json",
        '{\n  // TypeScript settings\n  "compilerOptions": {"strict": true, "outDir": "dist"}\n}\n',
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "output", type=Path, help="folder to write (replaced if it exists)"
    )
    parser.add_argument(
        "--files", type=int, default=2000, help="number of files (default: 2000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    parser.add_argument(
        "--mfa-share",
        type=float,
        default=0.4,
        help="share of IAM policies that are about MFA (default: 0.4)",
    )
    parser.add_argument(
        "--mistake-share",
        type=float,
        default=0.5,
        help="share of MFA policies with a planted mistake (default: 0.5)",
    )
    args = parser.parse_args()
    planted = generate_tree(
        args.output, args.files, args.seed, args.mfa_share, args.mistake_share
    )
    mistakes = sum(1 for entry in planted if entry.expected)
    mfa = sum(1 for entry in planted if entry.mfa)
    print(
        f"wrote {args.output}: {len(planted)} files with policies, {mfa} about MFA, "
        f"{mistakes} with planted mistakes; manifest {args.output / MANIFEST_NAME}"
    )


if __name__ == "__main__":
    main()
