"""envsecrets.logs: the handler of the command line and the redaction on it.

Registrations are process-wide, so each test registers its own values and
patterns (random) for loggers of its own."""

from __future__ import annotations

import io
import logging
import re
import uuid
import warnings

import pytest

import envsecrets
from envsecrets import logs, sdk_logs
from tests.core.conftest import Configure


@pytest.fixture
def token() -> str:
    return f"tok-{uuid.uuid4().hex}"


def sdk() -> str:
    """A logger namespace of this test's own."""
    return f"sdk{uuid.uuid4().hex[:8]}"


def test_quiet_shows_only_envsecrets_warnings(configure: Configure) -> None:
    stream = configure(0)
    logging.getLogger("envsecrets.resolver").warning("own %s", "warning")
    logging.getLogger("envsecrets_aws.provider").error("a plugin's error")
    logging.getLogger("envsecrets").info("own info")
    logging.getLogger("botocore.credentials").warning("third-party warning")
    logging.getLogger("envsecretsx").warning("not ours either")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("a library's warning", UserWarning, stacklevel=1)
    assert stream.getvalue() == "envsecrets: own warning\nenvsecrets: a plugin's error\n"


def test_v_shows_info_of_every_logger_but_no_debug(configure: Configure) -> None:
    stream = configure(1)
    logging.getLogger("envsecrets.resolver").info("resolving")
    logging.getLogger("botocore.credentials").info("Found credentials")
    logging.getLogger("botocore.endpoint").debug("Sending http request")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("a library's warning", UserWarning, stacklevel=1)
    lines = stream.getvalue().splitlines()
    assert lines[:2] == [
        "envsecrets: INFO envsecrets.resolver: resolving",
        "envsecrets: INFO botocore.credentials: Found credentials",
    ]
    # Python warnings come through the same handler (and its filters).
    assert lines[2].startswith("envsecrets: WARNING py.warnings: ")
    assert "a library's warning" in lines[2]
    assert "Sending http request" not in stream.getvalue()
    assert logging.getLogger("botocore").getEffectiveLevel() == logging.INFO


def test_vv_shows_debug_of_every_logger(configure: Configure) -> None:
    stream = configure(2)
    logging.getLogger("botocore.endpoint").debug("Sending http request")
    assert stream.getvalue() == "envsecrets: DEBUG botocore.endpoint: Sending http request\n"


def test_configure_again_replaces_its_handler(configure: Configure) -> None:
    first = configure(2)
    handler = logs.configure(0, stream=io.StringIO())
    second = configure(0)
    logging.getLogger("envsecrets").warning("once")
    assert first.getvalue() == ""
    assert second.getvalue() == "envsecrets: once\n"
    assert handler not in logging.getLogger().handlers


def test_values_are_redacted_from_every_logger(configure: Configure, token: str) -> None:
    stream = configure(2)
    logs.redact_values([token, None, "", "short"])
    logging.getLogger(sdk()).debug("header %s", token)
    logging.getLogger("envsecrets").debug("%s", token + "-suffix")
    logging.getLogger(sdk()).debug("short is a word")
    printed = stream.getvalue()
    assert token not in printed
    assert f"header {logs.REDACTED}\n" in printed
    assert f"envsecrets: DEBUG envsecrets: {logs.REDACTED}-suffix\n" in printed
    assert "short is a word" in printed  # too short to be redacted


def test_values_kept_are_bounded(token: str) -> None:
    logs.redact_values([f"{token}-{index}" for index in range(logs.MAX_VALUES + 5)])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, f"{token}-0 {token}-9", (), None)
    logs.RedactingFilter().filter(record)
    # The oldest were dropped, the most recent kept.
    assert record.getMessage() == f"{token}-0 {logs.REDACTED}"


def test_a_pattern_covers_its_loggers_and_children_created_later(
    configure: Configure, token: str
) -> None:
    stream = configure(2)
    name = sdk()
    logs.redact_pattern(
        rf"(?i)x-{name}-token:\s*(?P<secret>\S+)", loggers=[name], replacement="<gone>"
    )
    late = logging.getLogger(f"{name}.created.later")
    late.debug("headers: X-%s-Token: %s", name, token)
    logging.getLogger(name).debug("x-%s-token: %s", name, token)
    logging.getLogger(f"{name}x").debug("x-%s-token: %s", name, token)  # not a child
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith(f"headers: X-{name}-Token: <gone>")
    assert lines[1].endswith(f"x-{name}-token: <gone>")
    assert lines[2].endswith(token)


def test_a_pattern_without_a_secret_group_replaces_the_match(
    configure: Configure, token: str
) -> None:
    stream = configure(2)
    name = sdk()
    logs.redact_pattern(re.compile(re.escape(token[:12])), loggers=[name])
    logging.getLogger(name).debug("before %s after", token)
    assert stream.getvalue().endswith(f"before {logs.REDACTED}{token[12:]} after\n")


def test_whole_replaces_the_argument_holding_a_match(configure: Configure, token: str) -> None:
    stream = configure(2)
    name = sdk()
    logs.redact_pattern(f"Secret{name}", loggers=[name], replacement="<body>", whole=True)
    body = f'{{"Secret{name}": "{token}"}}'.encode()
    log = logging.getLogger(f"{name}.parsers")
    log.debug("Response headers: %s", {"status": 200})
    log.debug("Response body:\n%r", body)
    log.debug(f"no arguments: {body!r}")
    printed = stream.getvalue()
    assert token not in printed
    assert "Response headers: {'status': 200}" in printed
    assert "Response body:\n'<body>'" in printed  # the argument, as %r shows it
    assert printed.rstrip().endswith("<body>")


def test_a_rule_rewrites_the_text(configure: Configure, token: str) -> None:
    stream = configure(2)
    name = sdk()

    def rule(text: str) -> str:
        return "body: <mine>" if text.startswith("body:") else text

    logs.add_redaction(rule, loggers=[name])
    logs.add_redaction(rule, loggers=[name])  # registered once
    logging.getLogger(name).debug("body: %s", token)
    logging.getLogger(name).debug("other")
    assert stream.getvalue().splitlines() == [
        f"envsecrets: DEBUG {name}: body: <mine>",
        f"envsecrets: DEBUG {name}: other",
    ]


def test_tracebacks_and_stacks_are_cleaned(configure: Configure, token: str) -> None:
    stream = configure(2)
    logs.redact_values([token])
    try:
        raise ValueError(f"bad {token}")
    except ValueError:
        logging.getLogger(sdk()).debug("failed", exc_info=True, stack_info=True)
    printed = stream.getvalue()
    assert "ValueError: bad " + logs.REDACTED in printed
    assert token not in printed


def test_a_broken_record_keeps_its_template_without_its_arguments(token: str) -> None:
    logs.redact_values([f"{token}-unrelated"])
    # One argument short: the handler would print the arguments in its error report.
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s and %s", (token,), None)
    logs.RedactingFilter().filter(record)
    assert (record.msg, record.args) == ("%s and %s", ())


def test_a_library_user_attaches_the_filter_to_their_handler(token: str) -> None:
    # No configure(): a program with handlers of its own.
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RedactingFilter())
    logger = logging.getLogger(sdk())
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.debug("before registration: %s", "visible")
        logs.redact_values([token])  # registered after the handler was made
        logger.debug("token %s", token)
    finally:
        logger.removeHandler(handler)
    assert stream.getvalue() == f"before registration: visible\ntoken {logs.REDACTED}\n"


# -- redact_logs: the public helper for providers built on an SDK -----------------


class _SDKProvider:
    """Stands for a provider: redact_logs reads its environ and credentials."""

    credentials = frozenset({"SDK_TOKEN", "SDK_KEY*"})

    def __init__(self, environ: dict[str, str]) -> None:
        self.environ = environ


@pytest.mark.parametrize("sdk_name", ["botocore", "requests", "httpx", "urllib3"])
def test_redact_logs_cleans_credential_headers_of_the_sdk_and_its_children(
    configure: Configure, token: str, sdk_name: str
) -> None:
    stream = configure(2)
    envsecrets.redact_logs(sdks=[sdk_name])
    transport = sdk_logs.SDK_LOGGERS[sdk_name][-1]
    child = logging.getLogger(f"{transport}.child{uuid.uuid4().hex[:6]}")  # made after the call
    child.debug("headers: {'Authorization': b'Bearer %s'}", token)
    child.debug("x-vault-token: %s", token)
    child.debug("(b'X-Amz-Security-Token', b'%s')", token)
    child.debug("Starting new HTTPS connection (1): example.test:443")
    printed = stream.getvalue()
    assert token not in printed
    assert printed.count(logs.REDACTED) == 3
    assert "Starting new HTTPS connection" in printed  # the record stays


def test_redact_logs_takes_the_provider_credentials_from_its_environ(
    configure: Configure, token: str
) -> None:
    stream = configure(2)
    key, login, address = (f"{what}-{uuid.uuid4().hex}" for what in ("key", "login", "addr"))
    provider = _SDKProvider({"SDK_TOKEN": token, "SDK_KEY_ID": key, "SDK_ADDR": address})
    envsecrets.redact_logs(provider, values=[login, None])  # type: ignore[arg-type]
    log = logging.getLogger(sdk())
    log.warning("token %s", token)
    log.warning("key %s, login %s", key, login)
    log.warning("address %s", address)  # a setting, not a credential
    printed = stream.getvalue()
    assert f"token {logs.REDACTED}" in printed
    assert f"key {logs.REDACTED}, login {logs.REDACTED}" in printed
    assert f"address {address}" in printed


def test_redact_logs_replaces_botocore_bodies_and_keeps_the_record(
    configure: Configure, token: str
) -> None:
    stream = configure(2)
    envsecrets.redact_logs(sdks=["botocore"])
    body = f'{{"x": "{token}"}}'.encode()
    logging.getLogger("botocore.parsers").debug("Response body:\n%r", body)
    logging.getLogger("botocore.endpoint").debug("answer %s", f'{{"SecretString": "{token}"}}')
    printed = stream.getvalue()
    assert token not in printed
    assert f"Response body:\n{sdk_logs.REDACTED_BODY}" in printed
    assert f"answer {sdk_logs.REDACTED_BODY}" in printed


def test_redact_logs_counts_the_sdks_it_was_given() -> None:
    name = sdk()
    before = sdk_logs.sdk_calls().get(name, 0)
    envsecrets.redact_logs(sdks=[name])
    envsecrets.redact_logs(sdks=name)  # one name alone
    assert sdk_logs.sdk_calls()[name] == before + 2


@pytest.mark.parametrize("bad", ["", ".x", 3])
def test_redact_logs_refuses_what_is_no_logger_name(bad: object) -> None:
    with pytest.raises(ValueError, match="logger name"):
        envsecrets.redact_logs(sdks=[bad])  # type: ignore[list-item]
