"""Adding the session's headers to the application's: Vary merged, Cache-Control made private."""

from __future__ import annotations

Header = tuple[str, str]

PRIVATE: Header = ("Cache-Control", "private")


def add_session_headers(headers: list[Header], extra: list[Header]) -> list[Header]:
    """``headers`` with the session's ``extra`` headers added.

    ``Vary: Cookie`` is added unless the response already varies on Cookie (or on *).
    A response that sets or deletes the session cookie is made ``Cache-Control: private``:
    a shared cache must never keep another user's cookie (``public`` and ``s-maxage``
    are dropped; ``private`` and ``no-store`` are kept as they are).
    """
    if not extra:
        return headers
    vary = cache_control = False
    for name, _ in headers:  # one pass: most responses have neither header
        lowered = name.lower()
        if lowered == "vary":
            vary = True
        elif lowered == "cache-control":
            cache_control = True
    if vary and varies_on_cookie(headers):
        extra = [header for header in extra if header[0] != "Vary"]
    for name, _ in extra:
        if name == "Set-Cookie":
            break
    else:
        return headers + extra
    if not cache_control:
        return [*headers, *extra, PRIVATE]
    return _private(headers + extra)


def varies_on_cookie(headers: list[Header]) -> bool:
    """True if a ``Vary`` header names Cookie (or *)."""
    return any(name.lower() == "vary" and any(item.strip().lower() in ("cookie", "*") for item in value.split(","))
               for name, value in headers)


def _private(headers: list[Header]) -> list[Header]:
    directives = [item.strip() for name, value in headers if name.lower() == "cache-control"
                  for item in value.split(",") if item.strip()]
    if any(item.lower() in ("private", "no-store") for item in directives):
        return headers
    kept = [item for item in directives if item.lower() != "public" and not item.lower().startswith("s-maxage")]
    others = [(name, value) for name, value in headers if name.lower() != "cache-control"]
    return [*others, ("Cache-Control", ", ".join(["private", *kept]))]
