"""Every venue fixture says where it comes from: a repository at a commit, a package at a version, or a
documentation page - never the sandbox."""
from __future__ import annotations

import json
import re

import pytest

from tests.fixtures.venues import ROOT, names

VENUES = ("kalshi", "limitless", "opinion", "polymarket", "predictfun")
PROVENANCE = re.compile(r"[\w.-]+/[\w.-]+@[0-9a-f]{7,40}|[\w.-]+==\d+(\.\d+)+|https?://\S+")


@pytest.mark.parametrize("venue", VENUES)
def test_each_fixture_names_its_source(venue):
    files = names(venue)
    assert files, f"no fixtures for {venue}"
    for name in files:
        doc = json.loads((ROOT / venue / f"{name}.json").read_text())
        source = str(doc.get("_source") or "")
        assert PROVENANCE.search(source), f"{venue}/{name}: _source names no repository@commit, package==version or URL"
        assert "sandbox" not in source.lower(), f"{venue}/{name}: a fixture must not come from the sandbox"
