"""The provider contract: test classes every plugin runs against its backend.

An opt-in pytest plugin: a provider's test suite loads it in its top-level
``conftest.py`` (so that pytest rewrites the kit's assertions into readable
failures), as tox's own ``tox.pytest`` is loaded::

    pytest_plugins = ["envsecrets.testing"]

Installing envsecrets loads nothing into other projects' test sessions. A
provider author subclasses :class:`ProviderContract`, names the provider
class and seeds a few secrets; the inherited tests check every promise the
core relies on::

    from envsecrets.testing import ProviderContract

    class TestFileProvider(ProviderContract):
        provider_class = FileProvider

        @pytest.fixture
        def contract_environ(self, tmp_path):
            return {"ENVSECRETS_FILE_DIR": str(tmp_path)}

        @pytest.fixture
        def contract_secrets(self, tmp_path):
            (tmp_path / "token").write_text("ab12-cd34-ef56")
            return {"token": "ab12-cd34-ef56"}

A plugin that adds commands subclasses :class:`CommandsContract` the same
way.

The package defines no test and no module-level fixture: loading it adds
nothing to a suite but the classes it subclasses. Its imports are the
standard library, pytest and the envsecrets package.
"""

from __future__ import annotations

from typing import ClassVar

from envsecrets.testing._commands import CommandsContract
from envsecrets.testing._fetching import FetchChecks
from envsecrets.testing._listing import ListingChecks
from envsecrets.testing._logging import LoggingChecks
from envsecrets.testing._support import HEAVY_MODULES

__all__ = ["HEAVY_MODULES", "CommandsContract", "ProviderContract"]


class ProviderContract(FetchChecks, LoggingChecks, ListingChecks):
    """Tests every provider must pass; subclass it in your test suite.

    Set :attr:`provider_class` and define the fixtures:

    ``contract_secrets`` (required)
        Seeds secrets in the backend and returns a mapping of secret NAME to
        the document stored: a string (a literal secret, or JSON text) or a
        mapping (a JSON object). Seed at least one literal and one JSON
        object holding strings, a number, a boolean, ``null`` and a nested
        object; use distinctive values of 6 characters or more, since the
        contract searches error messages and logs for them.
    ``contract_environ`` (default: empty)
        The environment the provider is built with (addresses, tokens...).
    ``missing_name`` (default: a random name)
        A NAME that does not exist in the backend.
    ``contract_credentials`` (default: a sentinel per declared credential)
        Credential variable -> value, searched for in every error and log.
    ``contract_failing_environ`` (default: credentials without the other settings)
        An environment in which fetches fail, for the credential check.
    ``contract_listed_names`` (default: every seeded NAME)
        The names that ``list_names`` must find.

    Class attributes tune the checks: :attr:`whole_document_references`,
    :attr:`exact_numbers`, :attr:`heavy_modules`, :attr:`threads`,
    :attr:`fetches_per_thread`, :attr:`provider_plugin`, :attr:`quiet_loggers`. Override
    :meth:`reference` when a provider writes references differently.
    """

    __test__: ClassVar[bool] = False
