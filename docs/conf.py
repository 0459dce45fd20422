"""Sphinx configuration: Markdown pages (MyST), the API from the docstrings, the settings table from the code.

Build (strict: any warning, a broken link or a missing reference fails it)::

    .venv/bin/sphinx-build -W --keep-going -n -b html docs docs/_build/html
"""

from __future__ import annotations

import sys
from pathlib import Path

import wsgisession

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "wsgi-session"
author = "The wsgi-session maintainers"
copyright = "2026, The wsgi-session maintainers"
release = version = wsgisession.__version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "settings_reference"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "browser/README.md"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
# The included README section starts at H3 (README's "### From 0.1.0 to 0.2.0"): not a defect.
suppress_warnings = ["myst.header"]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_inherit_docstrings = False  # MutableMapping's "D.get(k[,d]) -> ..." docstrings are not ours
autodoc_default_options = {"members": True}

# Strict mode checks our own references; names from the standard library and the dependencies
# are not documented here (no network, hence no intersphinx).
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r".*\[.*"),  # pieces of generic annotations
    (r"py:.*", r"wsgisession\.(.*\.)?_.*"),  # private modules and names
    (r"py:.*", r"(_typeshed|enum|typing|collections|datetime|decimal|uuid|logging|threading|werkzeug|redis|sqlalchemy"
               r"|pymemcache|itsdangerous|opentelemetry)(\..*)?"),
    (r"py:.*", r"(Any|Callable|Iterable|Iterator|Mapping|MutableMapping|Sequence|WSGIApplication|WSGIEnvironment"
               r"|StartResponse|datetime|timedelta|Decimal|UUID|Path|Self|T|TypeVar|Protocol|MeterProvider)"),
]

html_theme = "furo"
html_title = f"wsgi-session {release}"
