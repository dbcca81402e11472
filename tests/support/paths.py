"""Where the project and its published reference documents are."""

from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]

# The UBI schemas, samples and index mappings, as published (docs/reference/ubi/README.md says where from).
UBI_REFERENCE = PROJECT / "docs" / "reference" / "ubi"
