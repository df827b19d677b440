"""Mutated policies, templates and Terraform modules never break a scan.

Run a long campaign with, for example:
MFA_GUARD_FUZZ_EXAMPLES=3000 python -m pytest tests/fuzz -q
"""

import json

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.harness import (
    FUZZ_SETTINGS,
    TOKENS,
    byte_mutations,
    dump_value,
    hcl_mutations,
    parsed_templates,
    read_seeds,
    seed_folders,
    value_mutations,
)

JSON_SEEDS = read_seeds(
    "tests/fixtures/headline/*.json",
    "tests/fixtures/cloudformation/*.json",
    "tests/fixtures/plan/*.json",
    "examples/json/*.json",
)
YAML_SEEDS = read_seeds(
    "tests/fixtures/headline/*.yaml",
    "tests/fixtures/cloudformation/*.yaml",
    "examples/cloudformation/*.yaml",
)
TERRAFORM_SEEDS = seed_folders("tests/fixtures/terraform/*") + [
    {"main.tf": data} for data in read_seeds("tests/fixtures/headline/*.tf")
]
JSON_VALUES = [json.loads(seed) for seed in JSON_SEEDS]
YAML_VALUES = parsed_templates(YAML_SEEDS)


def terraform_example(draw, mutate):
    files = dict(draw(st.sampled_from(TERRAFORM_SEEDS)))
    name = draw(
        st.sampled_from(sorted(n for n in files if n.endswith((".tf", ".tf.json"))))
    )
    files[name] = draw(mutate(files[name]))
    return files


@FUZZ_SETTINGS
@given(
    st.sampled_from(JSON_SEEDS).flatmap(
        lambda seed: byte_mutations(seed, TOKENS["json"])
    )
)
def test_json_bytes(fuzz, data):
    fuzz.check({"policy.json": data})


@FUZZ_SETTINGS
@given(st.sampled_from(JSON_VALUES).flatmap(value_mutations))
def test_json_values(fuzz, value):
    fuzz.check({"policy.json": dump_value(value, "json")})


@FUZZ_SETTINGS
@given(
    st.sampled_from(YAML_SEEDS).flatmap(
        lambda seed: byte_mutations(seed, TOKENS["yaml"])
    )
)
def test_cloudformation_bytes(fuzz, data):
    fuzz.check({"template.yaml": data})


@FUZZ_SETTINGS
@given(
    st.sampled_from(YAML_VALUES).flatmap(value_mutations),
    st.sampled_from(["yaml", "json"]),
)
def test_cloudformation_values(fuzz, value, style):
    name = "template.yaml" if style == "yaml" else "template.json"
    fuzz.check({name: dump_value(value, style)})


@FUZZ_SETTINGS
@given(st.data())
def test_terraform_bytes(fuzz, data):
    files = terraform_example(
        data.draw, lambda text: byte_mutations(text, TOKENS["hcl"])
    )
    fuzz.check(files)


@FUZZ_SETTINGS
@given(st.data())
def test_terraform_values(fuzz, data):
    files = terraform_example(data.draw, hcl_mutations)
    fuzz.check(files)
