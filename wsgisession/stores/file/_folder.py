"""The folder of the ``file`` engine: a private default, and the check at start that only we can write in it.

Anyone who can write in the folder can plant a session file under a record id they
know (an old cookie of theirs then loads whatever they wrote), a FIFO, or the lock
files. So a folder must belong to the user the process runs as, and neither its
group nor others may write in it. The system temp dir, the old default, is neither.
"""

from __future__ import annotations

import os
import stat
import tempfile

from ...errors import ConfigurationError, SettingProblem

SETTING = "SESSION_FILE_PATH"
FIX = ("a folder of its own, owned by the user the app runs as, that group and others cannot write in"
        " (chmod 700 it, or set SESSION_FILE_PATH to such a folder)")


def default_folder() -> str:
    """``<temp dir>/wsgisession-<uid>``: one folder per user, made mode 0700 by :func:`private_folder`."""
    return os.path.join(tempfile.gettempdir(), f"wsgisession-{os.geteuid()}")


def private_folder(configured: str | None) -> str:
    """The real path of the folder to keep sessions in: ``configured``, or the default made if missing.

    Raises :class:`ConfigurationError` naming ``SESSION_FILE_PATH`` if it is not a
    folder, belongs to another user, or its group or others can write in it.
    """
    if configured is not None:
        path = os.path.realpath(configured)  # the folder a symlink names is the one checked and used
        return _checked(path, repr(configured), follow=True)
    path = default_folder()
    try:
        os.mkdir(path, 0o700)  # the umask can only take bits away
    except FileExistsError:
        pass  # made by an earlier start, or by someone else: checked below
    except OSError as exc:
        raise _refused(f"{path!r} (the default), which could not be made: {exc.strerror}") from exc
    # Others can write in the temp dir: a symlink there was planted, even if it names a folder of ours.
    return os.path.realpath(_checked(path, f"{path!r} (the default)", follow=False))


def _checked(path: str, shown: str, follow: bool) -> str:
    try:
        info = os.stat(path) if follow else os.lstat(path)
    except FileNotFoundError:
        raise _refused(f"{shown}, which does not exist") from None
    except OSError as exc:
        raise _refused(f"{shown}, which cannot be read: {exc.strerror}") from exc
    why = _why_not_private(info)
    if why is not None:
        raise _refused(f"{shown}, {why}")
    return path


def _why_not_private(info: os.stat_result) -> str | None:
    if stat.S_ISLNK(info.st_mode):
        return "a symlink"
    if not stat.S_ISDIR(info.st_mode):
        return "not a folder"
    if info.st_uid != os.geteuid():
        return f"owned by uid {info.st_uid}, not by the user the app runs as (uid {os.geteuid()})"
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"mode {stat.S_IMODE(info.st_mode):04o}: group or others can write in it"
    return None


def _refused(received: str) -> ConfigurationError:
    return ConfigurationError([SettingProblem(SETTING, FIX, received)])
