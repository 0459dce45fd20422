"""Benchmarks of wsgisession's own pieces, importing its private modules.

Run as ``python -m benchmarks.internals.perkey`` and ``python -m benchmarks.internals.pieces``.
They break when the modules they time move; the comparison with other libraries in
``benchmarks/`` uses the public API only.
"""
