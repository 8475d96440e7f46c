"""Benchmarks: envsecrets side by side with the original agent's model and
other loaders, against the same servers behind the same latency proxy.

Run with ``tox -e bench`` or ``python -m benchmarks`` from the repository
root; the table goes to stdout and to ``docs/performance.md``.
"""
