"""The same small app in each framework, for the server matrix (tests/frameworks/test_servers.py).

Every app answers these routes, keeping what it does in the session:

- ``GET /state``: the session's data as JSON (``HEAD`` too: headers only).
- ``POST /login``: ``cycle_key()``, then ``user`` from the form field ``username``.
- ``GET /count``: adds one to ``count`` and answers it.
- ``GET /stream``: sets ``stream`` to ``"started"``, answers :data:`~.common.STREAM_CHUNKS` from a
  generator, and sets ``stream`` to ``"finished"`` after the last chunk.
- ``GET /stream-late``: the same body, touching the session only after the last chunk (``late``
  becomes ``"finished"``).
- ``GET /file``: adds one to ``files`` and answers the file ``FRAMEWORKS_PAYLOAD_FILE`` names through
  ``wsgi.file_wrapper``.
- ``GET /boom``: sets ``boom`` and raises: the 500 must save nothing.
- ``POST /logout``: ``flush()``.

Each module's ``app`` is the framework's app inside SessionMiddleware (with_flask: ``extension`` and
``middleware``, the two Flask wirings), with werkzeug's LintMiddleware on both sides; the session
settings come from the ``WSGISESSION_*`` variables (examples/settings.py).
"""
