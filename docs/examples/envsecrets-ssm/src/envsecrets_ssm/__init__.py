"""envsecrets provider for ``_ssm:NAME[:KEY]``: AWS Systems Manager Parameter Store.

``_ssm:NAME`` is the value of parameter NAME (a ``SecureString`` decrypted);
``_ssm:NAME:KEY`` reads that value as a JSON object and returns KEY.
``envsecrets ls _ssm:/app/`` lists parameter names, ``envsecrets ssm-ls
[/app/]`` names and types. Never a value in a message, a listing or a log line.

An example of a third-party provider built on an SDK, botocore: the client
is built by ``prepare()``, which the core calls before the first fetch (one
provider at a time), under a lock, once ``envsecrets.redact_logs`` is in
force, and released by ``close()``; ten names per ``GetParameters``
call, the rest left to the core. Its settings are the AWS ones, as for
envsecrets-aws: both may be installed and read the same variables.
"""

from __future__ import annotations

import argparse
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import envsecrets
from envsecrets.errors import escaped

__all__ = ["CREDENTIALS", "SETTINGS", "SSMProvider", "envsecrets_commands", "envsecrets_providers"]

log = logging.getLogger(__name__)

#: The most names one GetParameters call takes.
BATCH_SIZE = 10
#: A parameter name as AWS allows it: no colon, so the first colon of a
#: reference starts its KEY (no version selector such as ``NAME:3``).
NAME = re.compile(r"[A-Za-z0-9_./-]{1,2048}")

#: Every variable an AWS client reads (botocore's credential chain, region,
#: endpoints, profiles; proxies): an env file may set none of them.
SETTINGS = frozenset(
    {"AWS_*", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"}
)
#: Those that grant access, or point at what does (a profile, a token file,
#: a role): ``envsecrets run`` keeps them from its command. Also declared in
#: pyproject.toml, for when this plugin is not loaded.
CREDENTIALS = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONFIG_FILE",
    }
)


class SSMProvider(envsecrets.Provider):
    """Reads parameters from SSM Parameter Store; safe to use from many threads."""

    prefix = "ssm"
    description = "AWS SSM Parameter Store (_ssm:NAME[:KEY], SecureString decrypted)."
    max_batch = BATCH_SIZE
    settings = SETTINGS
    credentials = CREDENTIALS
    name_hint = "/app/db"
    key_hint = "password"

    def __init__(self, environ: Mapping[str, str]) -> None:
        super().__init__(environ)
        self._lock = threading.Lock()
        self._client: Any = None  # a botocore SSM client, built on first use

    @classmethod
    def split(cls, rest: str) -> tuple[str, str | None]:
        """``NAME[:KEY]``, split at the first colon: a KEY may hold more."""
        name, colon, key = rest.partition(":")
        _checked(name)
        if colon and not key:
            raise envsecrets.ReferenceSyntaxError("the key after the ':' is empty")
        return name, key if colon else None

    def prepare(self) -> None:
        """Import botocore and build the client (no request): the core calls
        it before the first fetch, one provider at a time."""
        self._connect()

    def fetch(self, name: str) -> envsecrets.Document:
        """One parameter, with GetParameter."""
        subject = _checked(name)
        client = self._connect()
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = client.get_parameter(Name=name, WithDecryption=True)
        except (BotoCoreError, ClientError) as error:
            raise _error(error, subject) from None
        return str(answer["Parameter"]["Value"])  # the core reads KEY and renders it

    def fetch_many(self, names: Iterable[str]) -> Mapping[str, envsecrets.FetchResult]:
        """Up to ten parameters with one GetParameters call. A name the call
        cannot serve is left out, and the core fetches it with :meth:`fetch`:
        a malformed name, or every name when the call is denied (IAM may
        deny one parameter of the ten: each alone then says which)."""
        wanted = [name for name in dict.fromkeys(names) if NAME.fullmatch(name)]
        if not wanted:
            return {}
        client = self._connect()
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = client.get_parameters(Names=wanted, WithDecryption=True)
        except (BotoCoreError, ClientError) as error:
            failed = {name: _error(error, f"SSM parameter {name!r}") for name in wanted}
            denied = any(isinstance(e, envsecrets.AccessDenied) for e in failed.values())
            return {} if denied else dict(failed)
        results: dict[str, envsecrets.FetchResult] = {
            found["Name"]: str(found["Value"])
            for found in answer.get("Parameters", [])
            if found.get("Name") in wanted
        }
        for name in answer.get("InvalidParameters", []):
            if name in wanted:
                results[name] = envsecrets.SecretNotFound(f"no SSM parameter {name!r}")
        log.debug("GetParameters: %d names, %d answered", len(wanted), len(results))
        return results

    def list_names(self, prefix: str) -> Iterator[str]:
        """The parameter names that start with *prefix* (DescribeParameters)."""
        return (name for name, _ in self.describe(prefix))

    def describe(self, prefix: str) -> Iterator[tuple[str, str]]:
        """The name and type of each parameter whose name starts with
        *prefix*, every page of DescribeParameters; never a value."""
        if prefix and not NAME.fullmatch(prefix):
            return iter(())  # no parameter has such a name
        client = self._connect()  # a configuration error is raised here, not when read
        request: dict[str, Any] = {}
        if prefix:
            request["ParameterFilters"] = [
                {"Key": "Name", "Option": "BeginsWith", "Values": [prefix]}
            ]
        return self._pages(client, prefix, request)

    def _pages(
        self, client: Any, prefix: str, request: dict[str, Any]
    ) -> Iterator[tuple[str, str]]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            for page in client.get_paginator("describe_parameters").paginate(**request):
                for parameter in page.get("Parameters", []):
                    name = parameter.get("Name")
                    if isinstance(name, str) and name.startswith(prefix):
                        yield name, str(parameter.get("Type", "?"))
        except (BotoCoreError, ClientError) as error:
            raise _error(error, f"the SSM parameters under {prefix!r}") from None

    def close(self) -> None:
        """Release the client's connections; safe to call twice."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    # -- the client --------------------------------------------------------

    def _connect(self) -> Any:
        """The client, built once, on first use, under a lock: the core
        fetches from several threads at once."""
        with self._lock:
            if self._client is None:
                # Before the first request: the credentials, botocore's
                # signed headers and its answer bodies (decrypted values) never
                # reach a log line, while -vv keeps each request's record.
                envsecrets.redact_logs(self, sdks=["botocore"])
                self._client = _build_client(self.environ)
            return self._client


def _checked(name: str) -> str:
    """*name* as a subject for messages, once it is a valid parameter name."""
    if not NAME.fullmatch(name):
        # Not quoted: the core shows the reference as the role wrote it.
        raise envsecrets.ReferenceSyntaxError(
            "not an SSM parameter name: 1 to 2048 letters, digits and _.-/"
        )
    return f"SSM parameter {name!r}"


def _build_client(environ: Mapping[str, str]) -> Any:
    """An SSM client configured from *environ*, as boto3 would configure it:
    keys from the environment, else botocore's chain (profile, SSO, web
    identity, container and instance roles)."""
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    def first(*variables: str) -> str | None:
        return next((environ[v] for v in variables if environ.get(v)), None)

    key_id, secret_key = first("AWS_ACCESS_KEY_ID"), first("AWS_SECRET_ACCESS_KEY")
    if (key_id is None) != (secret_key is None):
        raise envsecrets.ProviderError(
            "set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither"
        )
    try:
        session = botocore.session.Session(profile=first("AWS_PROFILE"))
        region = first("AWS_REGION", "AWS_DEFAULT_REGION") or session.get_config_variable("region")
        if not region:
            raise envsecrets.ProviderError("no AWS region: set AWS_REGION (or one in the profile)")
        return session.create_client(
            "ssm",
            region_name=region,
            endpoint_url=first("AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL"),
            aws_access_key_id=key_id,
            aws_secret_access_key=secret_key,
            aws_session_token=first("AWS_SESSION_TOKEN") if key_id else None,
            config=Config(
                connect_timeout=3,
                read_timeout=10,
                retries={"mode": "standard", "total_max_attempts": 3},
                max_pool_connections=32,  # the core fetches on up to 64 threads
                user_agent_extra="envsecrets-ssm",
            ),
        )
    except (BotoCoreError, ValueError) as error:  # a missing profile, a malformed endpoint
        raise envsecrets.ProviderError(
            f"cannot configure the SSM client ({_kind(error)})"
        ) from None


def _error(error: Exception, subject: str) -> envsecrets.ProviderError:
    """envsecrets' error for a botocore one about *subject*: AWS's code, not
    its message (it may quote a name, never mind a value: keep ours)."""
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(error, NoCredentialsError):
        return envsecrets.ProviderError(
            f"no AWS credentials to read {subject}: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an IAM role"
        )
    if not isinstance(error, ClientError):
        return envsecrets.ProviderError(f"cannot reach SSM for {subject} ({_kind(error)})")
    code = _kind(error)
    if code == "ParameterNotFound":
        return envsecrets.SecretNotFound(f"no {subject}")
    if code in {"AccessDeniedException", "AccessDenied", "UnrecognizedClientException"}:
        return envsecrets.AccessDenied(f"AWS refused to let these credentials read {subject}")
    if code.startswith("KMS") or code == "InvalidKeyId":
        return envsecrets.AccessDenied(f"{subject} cannot be decrypted ({code}): check kms:Decrypt")
    return envsecrets.ProviderError(f"SSM failed to answer for {subject} ({code})")


def _kind(error: Exception) -> str:
    """AWS's error code, else the exception's type: a word, never server text."""
    code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
    return code if re.fullmatch(r"\w{1,64}", code) else type(error).__name__


@envsecrets.hookimpl
def envsecrets_providers() -> Sequence[type[envsecrets.Provider]]:
    """Register the ``_ssm`` provider."""
    return [SSMProvider]


# -- a command: envsecrets ssm-ls -----------------------------------------------


def configure_ls(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``envsecrets ssm-ls``."""
    parser.description = (
        "List the SSM parameters whose names start with NAME_PREFIX (all when omitted), "
        "each with its type (String, StringList, SecureString). Never a value."
    )
    parser.add_argument(
        "prefix", nargs="?", default="", metavar="NAME_PREFIX", help="such as /prod/ (a path)"
    )


def ssm_ls(args: argparse.Namespace, context: envsecrets.CommandContext) -> int:
    """Print the type and name of each parameter under ``args.prefix``."""
    # The resolver `envsecrets ls` uses: settings from the process environment,
    # ENVSECRETS_PLUGINS honoured. A refusal (AccessDenied), no region or no
    # credentials is printed by envsecrets as `envsecrets: error: ...`, exit 1.
    with context.resolver() as resolver:
        provider = resolver.provider(SSMProvider.prefix)
        if not isinstance(provider, SSMProvider):  # another plugin's _ssm
            raise envsecrets.ProviderError("_ssm is served by another plugin than envsecrets-ssm")
        rows = sorted(provider.describe(args.prefix))
    for name, kind in rows:
        print(f"{escaped(kind):<12}  {escaped(name)}")
    return context.EXIT_OK


@envsecrets.hookimpl
def envsecrets_commands() -> Sequence[envsecrets.Command]:
    """Add ``envsecrets ssm-ls``."""
    return [
        envsecrets.Command(
            "ssm-ls", "list SSM parameters with their types", configure_ls, ssm_ls, context=True
        )
    ]
