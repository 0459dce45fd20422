"""What ``wsgisession check`` verifies of the ``file`` engine: its folder takes a new file, and its lock files open."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager

from ...checks import CheckResult, from_error, passed
from ...errors import StoreError
from ._io import TEMP_PREFIX


def check(folder: str, errors: Callable[[str], AbstractContextManager[object]],
          check_locks: Callable[[], None]) -> list[CheckResult]:
    """The folder (private, checked at start) takes a new file and its lock files open.

    ``errors`` turns a failure of the named operation into a StoreError, as the store's own calls do.
    """
    try:
        with errors("check (write)"):
            descriptor, path = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
            os.close(descriptor)
            os.unlink(path)
            check_locks()
    except StoreError as exc:
        return [from_error("write", exc, "SESSION_FILE_PATH", folder)]
    return [passed("folder", f"{folder} is the app's own"), passed("write", f"may write files in {folder}")]
