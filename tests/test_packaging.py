"""The distribution as pip sees it: `deckgen` on PyPI is another project (see README)."""

from __future__ import annotations

import re
import tomllib

from tests.conftest import PROJECT


def test_extras_that_pull_the_project_itself_name_its_own_distribution() -> None:
    """`deckgen[test]` in an extra made pip install PyPI's unrelated `deckgen`, whose files
    replaced this package's command."""
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    own = project["name"]
    assert own == "deckgen-anki"
    for extra, requirements in project["optional-dependencies"].items():
        for requirement in requirements:
            name = re.match(r"[A-Za-z0-9._-]+", requirement)
            assert name is not None
            assert name[0] != "deckgen", f"[{extra}] asks for PyPI's deckgen: write {own}[…]"
