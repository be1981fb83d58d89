"""Sphinx configuration: the site is generated from the docstrings of spec/ and checks/."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))

project = "scoru-spec"
author = "scoru-spec developers"
copyright = "2026, scoru-spec developers"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode", "_ext_properties"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
nitpicky = False
exclude_patterns = ["_build"]
html_theme = "alabaster"
html_static_path: list[str] = []
suppress_warnings = ["autodoc.import_object"]
