"""The rule engine: loads YAML rule files and runs them against policy documents."""
