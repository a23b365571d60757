"""Shared by the hostile-input tests: a tally of how many generated inputs each test tried,
printed at the end of the run (figures for the README)."""

from collections import Counter

import pytest

TALLY = pytest.StashKey[Counter]()


@pytest.fixture
def tally(request) -> Counter:
    return request.config.stash.setdefault(TALLY, Counter())


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    counts = config.stash.get(TALLY, None)
    if not counts:
        return
    terminalreporter.write_sep("-", "hostile inputs tried")
    for name, count in sorted(counts.items()):
        terminalreporter.write_line(f"{name}: {count}")
    for tool in ("schemathesis", "importer"):
        total = sum(count for name, count in counts.items() if name.startswith(tool))
        if total:
            terminalreporter.write_line(f"total, {tool}: {total}")
