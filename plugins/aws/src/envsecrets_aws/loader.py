"""botocore's data loader, told which services exist.

To load one service model, botocore's ``Loader`` first lists every service
it could load: ~400 folders, each listed again (about 40% of building a
Secrets Manager client, paid by every ``run``). This loader answers that
list with the services this plugin's clients use (and those its credential
providers create clients for), and loads every file from botocore's own
data exactly as before: nothing is copied or pruned.
"""

from __future__ import annotations

import os
from typing import Any

from botocore.loaders import Loader

#: The clients a session of this plugin builds: Secrets Manager and RDS
#: (auth tokens), and those botocore's credential providers build (STS for
#: assumed roles and web identity, SSO and SSO-OIDC, sign-in for `aws login`).
SERVICES = ("rds", "secretsmanager", "signin", "sso", "sso-oidc", "sts")


class ServicesLoader(Loader):
    """A :class:`botocore.loaders.Loader` whose service list is :data:`SERVICES`."""

    def list_available_services(self, type_name: str) -> list[str]:
        return list(SERVICES)


def install(session: Any) -> None:
    """Make *session* (a botocore session) load its data through a
    :class:`ServicesLoader` over the same search path as botocore's own
    (``AWS_DATA_PATH`` first, as :func:`botocore.loaders.create_loader`)."""
    data_path = session.get_config_variable("data_path")
    extra = [
        os.path.expanduser(os.path.expandvars(path)) for path in (data_path or "").split(os.pathsep)
    ]
    session.register_component(
        "data_loader", ServicesLoader(extra_search_paths=extra if data_path else None)
    )
