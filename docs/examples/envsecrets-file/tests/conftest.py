"""Test configuration: load the envsecrets provider contract kit.

The kit is an opt-in pytest plugin. Loaded here, in the top-level conftest,
pytest rewrites its assertions, so that a failing contract check shows the
values it compared.
"""

pytest_plugins = ["envsecrets.testing"]
