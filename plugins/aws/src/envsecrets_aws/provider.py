"""The ``_aws`` provider: AWS Secrets Manager through botocore (boto3's core).

botocore is imported when the first secret is fetched, never when this
module is imported: a run without ``_aws`` references does not pay for it.
Clients come from a process-wide botocore session and are themselves shared
process-wide, per complete set of settings: a new resolver with the settings
of an earlier one reuses its client and kept-alive connections.

boto3 itself is never imported: its public ``boto3.session.Session`` would
build the same botocore session and client, but importing boto3 also loads
s3transfer and multiprocessing, ~25 ms of CPU per process measured against
this path (docs/providers/aws.md), for nothing this provider uses.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import envsecrets
from envsecrets import DocumentError, ProviderError
from envsecrets.provider import FetchResult
from envsecrets_aws import errors, redact
from envsecrets_aws.reference import SecretRef, parse_name, split_reference
from envsecrets_aws.settings import CREDENTIALS, SETTINGS, AWSConfigurationError, Settings

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

__all__ = ["AWSProvider"]

log = logging.getLogger(__name__)

#: Most secret ids BatchGetSecretValue accepts in one call.
BATCH_SIZE = 20

#: Secrets per ListSecrets page (the API's maximum).
LIST_PAGE_SIZE = 100

#: A secret name: AWS allows these characters, up to 512 of them. A listing
#: prefix outside them matches nothing (and "!" would negate the filter).
_NAME_PREFIX = re.compile(r"[A-Za-z0-9/_+=.@-]{0,512}")

#: HTTP connections kept per client: the core runs up to 64 fetches of one
#: prefix at once (batches, or single GetSecretValue calls when denied).
MAX_POOL_CONNECTIONS = 64


class AWSProvider(envsecrets.Provider):
    """Reads secrets from AWS Secrets Manager, 20 per ``BatchGetSecretValue``.

    The client is taken on the first fetch from a process-wide cache shared
    with every other instance built with the same settings, and reused; the
    instance is safe to use from several threads.
    """

    prefix = "aws"
    description = "AWS Secrets Manager (_aws:NAME[:KEY], NAME may be an ARN)."
    max_batch: ClassVar[int] = BATCH_SIZE
    settings: ClassVar[frozenset[str]] = SETTINGS
    credentials: ClassVar[frozenset[str]] = CREDENTIALS
    name_hint: ClassVar[str] = "pgprod"
    key_hint: ClassVar[str] = "PG_HOST"
    #: Secrets per ListSecrets page.
    list_page_size: int = LIST_PAGE_SIZE

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__(environ)
        self._lock = threading.Lock()
        self._client: SecretsManagerClient | None = None
        self._settings: Settings | None = None
        self._closed = False
        # Set once BatchGetSecretValue is denied: never tried again.
        self._batch_denied = False

    # -- references ----------------------------------------------------------

    @classmethod
    def split(cls, rest: str) -> tuple[str, str | None]:
        """Split ``NAME[?version]:KEY``; an ARN without KEY stays whole."""
        return split_reference(rest)

    # -- fetching --------------------------------------------------------------

    def prepare(self) -> None:
        """Import botocore and build the client (no request is sent)."""
        self._get_client()

    def fetch(self, name: str) -> envsecrets.Document:
        """Fetch one secret with GetSecretValue (a batch of one costs the
        same round trip and needs one more permission)."""
        secret = parse_name(name)
        result = self._get_one(self._get_client(), secret)
        if isinstance(result, BaseException):
            raise result
        return result

    def fetch_many(self, names: Iterable[str]) -> Mapping[str, FetchResult]:
        """Fetch the unversioned *names* with one BatchGetSecretValue.

        Versioned names, and every name when batching is denied, are left
        out of the answer: the core fetches them one by one with
        :meth:`fetch` (GetSecretValue) on its own pool."""
        secrets: dict[str, SecretRef] = {}
        results: dict[str, FetchResult] = {}
        for name in dict.fromkeys(names):
            try:
                secrets[name] = parse_name(name)
            except envsecrets.EnvsecretsError as error:
                results[name] = error
        if not secrets:
            return results
        try:
            client = self._get_client()
        except ProviderError as error:
            results.update(dict.fromkeys(secrets, error))
            return results

        plain = {name: ref for name, ref in secrets.items() if not ref.versioned}
        if plain:
            results.update(self._batch(client, plain))
        return results

    def list_names(self, prefix: str) -> Iterator[str]:
        """The names of the secrets whose name starts with *prefix*, from
        ListSecrets with a name filter, every page; never a value.

        :raise envsecrets.AccessDenied: without ``secretsmanager:ListSecrets``.
        """
        if not _NAME_PREFIX.fullmatch(prefix):
            return
        client = self._get_client()
        subject = errors.NameListing(prefix)
        request: dict[str, Any] = {"MaxResults": self.list_page_size}
        if prefix:
            request["Filters"] = [{"Key": "name", "Values": [prefix]}]
        pages = 0
        while True:
            response = self._list_page(client, request, subject)
            pages += 1
            for entry in response.get("SecretList", []):
                name = entry.get("Name")
                # The API's name filter ignores case: keep the exact prefix.
                if isinstance(name, str) and name.startswith(prefix):
                    yield name
            token = response.get("NextToken")
            if not token:
                break
            if token == request.get("NextToken"):
                # A server that hands back the same page would loop forever.
                raise ProviderError(
                    f"{errors.SERVICE} returned the same page twice while listing "
                    f"{subject.describe()}"
                )
            request["NextToken"] = token
        log.debug("ListSecrets: %d pages", pages)

    def _list_page(
        self, client: SecretsManagerClient, request: Mapping[str, Any], subject: errors.NameListing
    ) -> Mapping[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            # Descriptions and tags come along: their bodies are not logged.
            return client.list_secrets(**request)
        except ClientError as error:
            raise errors.listing_error(error, subject) from None
        except BotoCoreError as error:
            raise errors.transport_error(
                error, subject, client.meta.endpoint_url, self._settings
            ) from None

    def close(self) -> None:
        # The client is shared (see _shared_client): other providers may be
        # using it, so drop this provider's reference and never close it.
        with self._lock:
            self._client = None
            self._closed = True

    # -- the client ------------------------------------------------------------

    def _get_client(self) -> SecretsManagerClient:
        with self._lock:
            if self._closed:
                raise ProviderError("the _aws provider is closed")
            if self._client is None:
                self._settings = Settings.from_environ(self.environ)
                self._client = _shared_client(self._settings)
            return self._client

    # -- BatchGetSecretValue ---------------------------------------------------

    def _batch(
        self, client: SecretsManagerClient, secrets: Mapping[str, SecretRef]
    ) -> dict[str, FetchResult]:
        """Fetch *secrets* in one batch call; the names left out of the
        answer are for GetSecretValue."""
        if self._settings is not None and not self._settings.batch:
            return {}
        # Every chunk of the first resolution tries the batch at once: the
        # common case (allowed) then costs one round trip, not two. A caller
        # without the permission pays one denied call per chunk, once.
        if self._batch_denied:
            return {}
        return self._batch_call(client, secrets)

    def _batch_call(
        self, client: SecretsManagerClient, secrets: Mapping[str, SecretRef]
    ) -> dict[str, FetchResult]:
        from botocore.exceptions import BotoCoreError, ClientError

        ids = list(dict.fromkeys(ref.secret_id for ref in secrets.values()))
        try:
            response = client.batch_get_secret_value(SecretIdList=ids)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            if code == "AccessDeniedException":
                self._batch_denied = True
                log.info(
                    "secretsmanager:BatchGetSecretValue is denied; using GetSecretValue "
                    "for the life of this provider"
                )
                return {}
            if code in {"InvalidParameterException", "ValidationException"}:
                # One malformed id must not fail its neighbours: ask one by one.
                log.debug("BatchGetSecretValue rejected the ids (%s)", errors.safe_code(code))
                return {}
            return {name: errors.client_error(error, ref) for name, ref in secrets.items()}
        except BotoCoreError as error:
            endpoint = client.meta.endpoint_url
            return {
                name: errors.transport_error(error, ref, endpoint, self._settings)
                for name, ref in secrets.items()
            }
        by_id: dict[str, Mapping[str, Any]] = {}
        for value in response.get("SecretValues", []):
            for key in (value.get("Name"), value.get("ARN")):
                if key:
                    by_id.setdefault(key, value)
        failed = {
            item["SecretId"]: item for item in response.get("Errors", []) if "SecretId" in item
        }
        results: dict[str, FetchResult] = {}
        for name, ref in secrets.items():
            entry: Mapping[str, Any] | None = by_id.get(ref.secret_id)
            if entry is None:
                entry = _by_partial_arn(by_id, ref.secret_id)
            if entry is not None:
                results[name] = _document(entry, ref)
            elif ref.secret_id in failed:
                item = failed[ref.secret_id]
                results[name] = errors.error_for_code(
                    item.get("ErrorCode"), ref, item.get("Message", "")
                )
            # else: not in the answer at all; GetSecretValue will tell.
        log.debug(
            "BatchGetSecretValue: %d ids, %d values, %d errors",
            len(ids),
            len(response.get("SecretValues", [])),
            len(failed),
        )
        return results

    # -- GetSecretValue ----------------------------------------------------------

    def _get_one(self, client: SecretsManagerClient, secret: SecretRef) -> FetchResult:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = client.get_secret_value(**secret.request())
        except ClientError as error:
            return errors.client_error(error, secret)
        except BotoCoreError as error:
            return errors.transport_error(error, secret, client.meta.endpoint_url, self._settings)
        return _document(response, secret)


def _by_partial_arn(
    by_id: Mapping[str, Mapping[str, Any]], secret_id: str
) -> Mapping[str, Any] | None:
    # A partial ARN lacks the "-AbCdEf" suffix AWS appends to the name.
    if not secret_id.startswith("arn:"):
        return None
    for key, entry in by_id.items():
        if key.startswith(secret_id + "-") and len(key) == len(secret_id) + 7:
            return entry
    return None


def _document(entry: Mapping[str, Any], secret: SecretRef) -> FetchResult:
    """The secret string of a GetSecretValue answer or a batch entry."""
    text = entry.get("SecretString")
    if isinstance(text, str):
        return text
    binary = entry.get("SecretBinary")
    if isinstance(binary, (bytes, bytearray)):
        try:
            return bytes(binary).decode("utf-8")
        except UnicodeDecodeError:
            return DocumentError(
                f"{secret.describe()} holds binary data that is not UTF-8 text; "
                "envsecrets reads SecretBinary only when it is valid UTF-8"
            )
    return ProviderError(f"{errors.SERVICE} returned no value for {secret.describe()}")


#: botocore sessions are not thread-safe: sessions and clients are built one
#: at a time, under this lock (which also makes each build happen once).
_BUILD_LOCK = threading.Lock()

#: Secrets Manager clients kept for reuse, least recently used dropped first.
MAX_CLIENTS = 8
#: botocore sessions kept, least recently used dropped first: each holds
#: ~28,000 objects (models, loaders), and an agent may see many config files.
MAX_SESSIONS = 8


def _shared_client(settings: Settings) -> SecretsManagerClient:
    """The process-wide client for *settings*, built on first use."""
    # At every provider's first use, not only at the build: the core keeps
    # the most recently registered credentials, and these are in use again.
    redact.install((settings.access_key_id, settings.secret_access_key, settings.session_token))
    with _BUILD_LOCK:
        return _client_for(settings, _ignore_endpoints(settings))


@functools.lru_cache(maxsize=MAX_CLIENTS)
def _client_for(settings: Settings, ignore_endpoints: bool) -> SecretsManagerClient:
    """Secrets Manager clients shared by every provider in the process:
    building one costs ~8 ms of CPU even from a warm session, and a
    long-lived agent builds a resolver per session it opens, which then
    also reuses the kept-alive connections.

    The key is the complete Settings (every field shapes the client:
    region, endpoint, credentials, files, CA bundle, timeouts, attempts;
    its repr hides the credentials), plus whether an endpoint that only
    os.environ names is ignored. botocore clients are thread-safe; an
    evicted client is dropped, not closed, since a provider may still be
    using it (urllib3 closes its connections when it is collected). A
    failed build raises and is not kept. Call with _BUILD_LOCK held.
    """
    return _build_client(settings, ignore_endpoints)


def _ignore_endpoints(settings: Settings) -> bool:
    # The agent's environment names no endpoint: ignore one that only
    # os.environ holds (botocore reads it there).
    return not settings.endpoint_url and _os_endpoint_set()


@functools.lru_cache(maxsize=MAX_SESSIONS)
def _botocore_session(
    config_file: str | None,
    credentials_file: str | None,
    profile: str | None,
    ignore_endpoints: bool,
) -> Any:
    """The botocore session for one configuration source, shared by every
    client: building its loaders and models costs ~75 ms of CPU, a client
    from a warm session ~4-8 ms. Credentials are never stored in it: they
    go to each client. Call with _BUILD_LOCK held."""
    import botocore.session

    from envsecrets_aws import loader

    session = botocore.session.Session(profile=profile)
    if config_file:
        session.set_config_variable("config_file", config_file)
    if credentials_file:
        session.set_config_variable("credentials_file", credentials_file)
    if ignore_endpoints:
        session.set_config_variable("ignore_configured_endpoint_urls", True)
    loader.install(session)  # lists the services used, not botocore's ~400 (after the files)
    # Nothing here reads a timestamp (CreatedDate), and botocore's parser
    # (dateutil, local time zone) costs ~40 µs a secret: keep them raw.
    parsers = session.get_component("response_parser_factory")
    parsers.set_parser_defaults(timestamp_parser=_raw_timestamp)
    return session


def _raw_timestamp(value: object) -> object:
    return value


def _build_client(settings: Settings, ignore_endpoints: bool) -> SecretsManagerClient:
    """Build the Secrets Manager client (the first and only botocore import);
    call with _BUILD_LOCK held."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    config = Config(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        # total_max_attempts counts the first request; "max_attempts" would not.
        retries={"mode": "standard", "total_max_attempts": settings.max_attempts},
        max_pool_connections=MAX_POOL_CONNECTIONS,
        user_agent_extra="envsecrets-aws",
    )
    try:
        session = _botocore_session(
            settings.config_file, settings.credentials_file, settings.profile, ignore_endpoints
        )
        # Only the profile's own region, not botocore's environment lookup:
        # the agent's environment is self.environ, not os.environ.
        region = settings.region or session.get_scoped_config().get("region")
    except (BotoCoreError, ValueError) as error:
        raise errors.config_error(error, settings) from None
    if not region:
        raise AWSConfigurationError(
            "no AWS region: set AWS_REGION or AWS_DEFAULT_REGION "
            "(or a region in the AWS_PROFILE profile)"
        )
    try:
        client: SecretsManagerClient = session.create_client(
            "secretsmanager",
            region_name=region,
            endpoint_url=settings.endpoint_url,
            verify=settings.ca_bundle,
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key,
            aws_session_token=settings.session_token,
            config=config,
        )
    except (BotoCoreError, ValueError) as error:
        raise errors.config_error(error, settings) from None
    log.debug("Secrets Manager client built; one call lasts %.0f s at most", settings.longest_call)
    return client


def _os_endpoint_set() -> bool:
    import os

    return bool(
        os.environ.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or os.environ.get("AWS_ENDPOINT_URL")
    )
