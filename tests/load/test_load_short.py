"""The short load run: 40 clients for ~3 s on each row of the short matrix (issue 7, "Load").

Every client has its own cookie jar and sends its requests one after another, so no two
requests of one session overlap: every increment must land in the client's own session,
exactly once, and no answer may be a 5xx. ``python -m tests.load.load_run --full`` is the long
version (200 clients, 30 s per row, every engine x worker class).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.load.clients import table_row
from tests.load.load_run import SHORT_CLIENTS, SHORT_MATRIX, SHORT_SECONDS, run_row

pytestmark = pytest.mark.live


@pytest.mark.parametrize(("engine_id", "worker_class"), SHORT_MATRIX)
def test_no_update_is_lost_or_foreign_and_no_5xx(tmp_path: Path, engine_id: str, worker_class: str) -> None:
    result = run_row(engine_id, worker_class, SHORT_CLIENTS, SHORT_SECONDS, tmp_path)
    print(table_row(result))
    assert result.requests > SHORT_CLIENTS, table_row(result)
    assert result.consistency_problems() == []
    assert result.lost == result.extra == result.foreign == 0
    assert result.server_errors == 0, result.statuses
    assert result.statuses.keys() == {200}, result.statuses
