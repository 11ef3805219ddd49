"""Deterministic sample data for a retail business whose customers live in siloed systems.

`generate(out_dir, customers=..., seed=...)` writes the raw landing files of
every source declared in the dbt sources YAML, the ground truth of who is
behind each record, and a manifest. See README.md in this folder.
"""

from cdp_demo.sample_data.generator import GeneratedFile, GenerationResult, generate

__all__ = ["GeneratedFile", "GenerationResult", "generate"]
