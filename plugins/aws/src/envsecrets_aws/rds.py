"""The ``_aws_iam_rds`` provider: RDS IAM authentication tokens, signed
locally by botocore's RDS presigner (no network call), valid 15 minutes.

    _aws_iam_rds:USER@HOST:PORT          a token for USER at HOST:PORT
    USER=_aws_iam_rds:NAME               NAME itself (the original's pair...)
    PASS=_aws_iam_rds:authtoken          ...and a token for the HOST, PORT and
                                         USER variables of the same set

The pair is the original agent's "AWS IAM Role" connection method; its
``authtoken`` asks the core for the sibling variables HOST, PORT and USER
(:meth:`envsecrets.Provider.siblings`), resolved first, whatever they hold.
The region comes from an RDS host name, else from ``AWS_REGION`` or the
profile. The credentials are those of the ``_aws`` provider: the same
settings, the same chain, the same process-wide botocore session.

A token is a password: never cached (``cacheable = False``; a session
receives a fresh one, valid its full 15 minutes), never logged (botocore's
DEBUG lines carry the signature: redacted), never quoted in a message, nor
are the HOST, PORT and USER values it was made from (they may be secrets).
botocore is imported on the first token, and the RDS service model is
loaded only then.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import envsecrets
from envsecrets import ProviderError, ReferenceSyntaxError, logs
from envsecrets.errors import quote_reference
from envsecrets_aws import redact
from envsecrets_aws.errors import AWSCredentialsError, config_error
from envsecrets_aws.provider import _BUILD_LOCK, _botocore_session, _ignore_endpoints
from envsecrets_aws.settings import CREDENTIALS, SETTINGS, AWSConfigurationError, Settings

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient

__all__ = [
    "SIBLINGS",
    "TOKEN_NAME",
    "TOKEN_SECONDS",
    "Endpoint",
    "RDSEndpointError",
    "RDSIAMProvider",
    "region_of",
]

log = logging.getLogger(__name__)

#: The NAME of the original's token reference, ``PASS=_aws_iam_rds:authtoken``.
TOKEN_NAME = "authtoken"  # noqa: S105 (a NAME, not a password)
#: The variables of its set that the token is made for.
SIBLINGS = ("HOST", "PORT", "USER")
#: How long a token is valid (botocore signs with ``X-Amz-Expires=900``).
TOKEN_SECONDS = 900

# The patterns are compiled on first use (re's cache), not when the plugin
# is imported: a run without _aws_iam_rds references never pays for them.
#: ``USER@HOST:PORT`` (the user runs to the last ``@``), then an optional KEY.
_ENDPOINT = r"(?P<name>(?P<user>.+)@(?P<host>[^@:]*):(?P<port>[^:]*))(?::(?P<key>.*))?"
#: A DNS host name or an IPv4 address: what a token can be signed for.
_HOST = r"(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.?"
#: An AWS region name: ``us-east-1``, ``us-gov-west-1``, ``eu-isoe-west-1``.
_REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]+"
#: The domains of RDS endpoints, as label lists (commercial and China).
_RDS_DOMAINS = (("rds", "amazonaws", "com"), ("rds", "amazonaws", "com", "cn"))

#: botocore.auth logs the SigV4 signature at DEBUG: the last part of a token.
_SIGNATURE = r"(?i)(?:x-amz-signature=|signature:\s*)(?P<secret>[0-9a-f]{64})"
#: What botocore.auth logs while it signs (the canonical request holds the
#: HOST and USER, which may be secrets; the signature is the token's).
_SIGNING_LINES = ("CanonicalRequest:", "StringToSign:", "Signature:")
_QUIET = "<redacted by envsecrets-aws: an RDS IAM auth token's host, user and signature>"

_signing = threading.local()


class RDSEndpointError(ProviderError):
    """HOST, PORT and USER cannot make an RDS IAM auth token (missing,
    malformed, no region)."""


class Endpoint:
    """What one token is signed for. The repr shows nothing: a HOST may come
    from a secret. A plain class: a dataclass costs ~1 ms to define, on the
    start-up path of every run that loads the plugin."""

    __slots__ = ("host", "port", "user")

    def __init__(self, user: str, host: str, port: int) -> None:
        self.user = user
        self.host = host
        self.port = port

    def __repr__(self) -> str:
        return "<Endpoint>"


def region_of(host: str) -> str | None:
    """The region in an RDS endpoint's host name, else ``None``.

    Instances ``NAME.ID.REGION.rds.amazonaws.com``, clusters
    ``NAME.cluster-ID.REGION...`` (``cluster-ro-``, ``cluster-custom-``),
    proxies ``NAME.proxy-ID.REGION...`` and their endpoints
    (``NAME.endpoint.proxy-ID.REGION...``): the label before ``rds``.
    """
    labels = host.lower().rstrip(".").split(".")
    for domain in _RDS_DOMAINS:
        if tuple(labels[-len(domain) :]) == domain and len(labels) >= len(domain) + 3:
            region = labels[-len(domain) - 1]
            return region if re.fullmatch(_REGION, region) else None
    return None


class RDSIAMProvider(envsecrets.Provider):
    """RDS IAM authentication tokens for PostgreSQL, MySQL and MariaDB on
    RDS and Aurora, and RDS Proxy; generated in this process, no request."""

    prefix = "aws_iam_rds"
    description = (
        "RDS IAM auth tokens, signed locally (_aws_iam_rds:USER@HOST:PORT; "
        "USER=_aws_iam_rds:NAME with PASS=_aws_iam_rds:authtoken)."
    )
    settings: ClassVar[frozenset[str]] = SETTINGS
    credentials: ClassVar[frozenset[str]] = CREDENTIALS
    cacheable: ClassVar[bool] = False
    name_hint: ClassVar[str] = TOKEN_NAME

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__(environ)
        self._lock = threading.Lock()
        self._settings: Settings | None = None
        self._closed = False

    # -- references ----------------------------------------------------------

    @classmethod
    def split(cls, rest: str) -> tuple[str, str | None]:
        """``USER@HOST:PORT[:KEY]``, or ``NAME[:KEY]`` split at the last colon.

        :raise ReferenceSyntaxError: for an ``@`` form that is not
            ``USER@HOST:PORT`` with a valid host and port.
        """
        if "@" not in rest:
            return super().split(rest)
        match = re.fullmatch(_ENDPOINT, rest, re.DOTALL)
        if match is None:
            raise ReferenceSyntaxError(
                "expected _aws_iam_rds:USER@HOST:PORT (a token for USER at HOST:PORT)"
            )
        try:
            _endpoint(match["user"], match["host"], match["port"], "the reference's")
        except RDSEndpointError as error:
            raise ReferenceSyntaxError(str(error)) from None
        key = match["key"]
        if key == "":
            raise ReferenceSyntaxError("the key after the last ':' is empty")
        return match["name"], key

    @classmethod
    def siblings(cls, name: str) -> tuple[str, ...]:
        """``authtoken`` needs the HOST, PORT and USER of its set."""
        return SIBLINGS if name == TOKEN_NAME else ()

    # -- documents -----------------------------------------------------------

    def fetch(self, name: str) -> envsecrets.Document:
        """A token for ``USER@HOST:PORT``; any other NAME is the DB user
        name itself (the original's ``USER=_aws_iam_rds:NAME``)."""
        if name == TOKEN_NAME:
            raise RDSEndpointError(
                f"_{self.prefix}:{TOKEN_NAME} is a token for the HOST, PORT and USER "
                "variables of the same set: resolve it with them"
            )
        match = re.fullmatch(_ENDPOINT, name, re.DOTALL)
        if match is None or match["key"] is not None:
            return name  # the DB user name, as the original returns it
        endpoint = _endpoint(match["user"], match["host"], match["port"], "the reference's")
        return self._token(endpoint, f"an RDS IAM auth token for '{quote_reference(name)}'")

    def fetch_with_siblings(self, name: str, siblings: Mapping[str, str]) -> envsecrets.Document:
        """A token for the resolved HOST, PORT and USER of the set."""
        empty = [variable for variable in SIBLINGS if not siblings[variable].strip()]
        if empty:
            raise RDSEndpointError(
                f"an RDS IAM auth token needs HOST, PORT and USER; {' and '.join(empty)} "
                f"{'is' if len(empty) == 1 else 'are'} empty"
            )
        host, port, user = (siblings[variable].strip() for variable in SIBLINGS)
        endpoint = _endpoint(user, host, port, "the")
        return self._token(endpoint, "the RDS IAM auth token for HOST, PORT and USER")

    def close(self) -> None:
        # The client is shared process-wide (see _rds_client): never closed here.
        with self._lock:
            self._closed = True

    # -- signing -------------------------------------------------------------

    def _token(self, endpoint: Endpoint, what: str) -> str:
        from botocore.exceptions import BotoCoreError

        client, region = self._client_for(endpoint, what)
        _signing.active = True  # botocore signs, and its handlers log, on this thread
        try:
            token: str = client.generate_db_auth_token(
                DBHostname=endpoint.host,
                Port=endpoint.port,
                DBUsername=endpoint.user,
                Region=region,
            )
        except BotoCoreError as error:
            raise _signing_error(error, what) from None
        finally:
            _signing.active = False
        log.debug("signed %s in region %s, valid %d s", what, region, TOKEN_SECONDS)
        return token

    def prepare(self) -> None:
        """Import botocore (the client waits for the host's region)."""
        import botocore.session  # noqa: F401

    def _client_for(self, endpoint: Endpoint, what: str) -> tuple[RDSClient, str]:
        """The shared RDS client and the region of *endpoint*'s token."""
        from botocore.exceptions import BotoCoreError

        with self._lock:
            if self._closed:
                raise ProviderError(f"the _{self.prefix} provider is closed")
            if self._settings is None:
                self._settings = Settings.from_environ(self.environ)
            settings = self._settings
        _install_redaction(settings)
        ignore = _ignore_endpoints(settings)
        try:
            with _BUILD_LOCK:  # botocore sessions are not thread-safe
                session = _botocore_session(
                    settings.config_file, settings.credentials_file, settings.profile, ignore
                )
                region = (
                    region_of(endpoint.host)
                    or settings.region
                    or session.get_scoped_config().get("region")
                )
                if not region:
                    raise AWSConfigurationError(
                        f"no AWS region for {what}: the host is not an RDS endpoint name "
                        "(NAME.ID.REGION.rds.amazonaws.com); set AWS_REGION or "
                        "AWS_DEFAULT_REGION (or a region in the AWS_PROFILE profile)"
                    )
                return _rds_client(settings, region, ignore), region
        except (BotoCoreError, ValueError) as error:
            raise config_error(error, settings) from None


def _endpoint(user: str, host: str, port: str, whose: str) -> Endpoint:
    """Check the parts of a token's endpoint; messages name the part, never
    its value (a HOST may be a secret)."""
    if not user or not user.isprintable():
        raise RDSEndpointError(f"{whose} USER is not a database user name")
    if not re.fullmatch(_HOST, host):
        raise RDSEndpointError(f"{whose} HOST is not a host name")
    if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise RDSEndpointError(f"{whose} PORT is not a port number (1-65535)")
    return Endpoint(user, host, int(port))


def _signing_error(error: BaseException, what: str) -> ProviderError:
    """Translate a failure to sign: the credential chain's, almost always."""
    from botocore import exceptions

    kind = type(error).__name__
    if isinstance(error, exceptions.NoCredentialsError):
        return AWSCredentialsError(
            f"no AWS credentials found to sign {what}: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an instance or container role"
        )
    return AWSCredentialsError(f"AWS credentials could not be loaded to sign {what} ({kind})")


def _install_redaction(settings: Settings) -> None:
    """The ``_aws`` redaction (credentials, botocore's credential headers)
    plus the signature botocore.auth logs at DEBUG."""
    redact.install((settings.access_key_id, settings.secret_access_key, settings.session_token))
    logs.redact_pattern(_SIGNATURE, loggers=("botocore",), replacement=redact.REDACTED)
    logs.add_redaction(_quiet_signing, loggers=("botocore.auth",))


def _quiet_signing(text: str) -> str:
    if getattr(_signing, "active", False) and text.startswith(_SIGNING_LINES):
        return f"{text.partition(chr(10))[0]}\n{_QUIET}"
    return text


#: RDS clients kept for reuse, least recently used dropped first.
MAX_CLIENTS = 8


@functools.lru_cache(maxsize=MAX_CLIENTS)
def _rds_client(settings: Settings, region: str, ignore_endpoints: bool) -> RDSClient:
    """The RDS client for *settings* in *region*, from the ``_aws``
    provider's session; building one loads the RDS service model (its first
    and only use). Its only call signs locally. Call with _BUILD_LOCK held."""
    session: Any = _botocore_session(
        settings.config_file, settings.credentials_file, settings.profile, ignore_endpoints
    )
    client: RDSClient = session.create_client(
        "rds",
        region_name=region,
        aws_access_key_id=settings.access_key_id,
        aws_secret_access_key=settings.secret_access_key,
        aws_session_token=settings.session_token,
    )
    return client
