"""A role's connection method, as the original web app offers it:

- **Manual input**: every field typed by hand (a typed value that is a
  reference is still read as one);
- **Secrets Manager**: each field picks its source (typed, or a provider's
  NAME and KEY);
- **AWS IAM Role** (PostgreSQL and MySQL): no password; the role holds the
  original's pair ``USER=_aws_iam_rds:<db user>`` and
  ``PASS=_aws_iam_rds:authtoken``, and the agent puts a fresh RDS IAM token
  into PASS at run time, for the role's HOST, PORT and USER.

The method is not stored: it is read back from the file's values.
"""

from __future__ import annotations

from collections.abc import Mapping

from envsecrets import grammar
from envsecrets_editor.fields import ERROR, IAM, IAM_PREFIX, IAM_TOKEN, KEEP, MANUAL, Message, Row
from envsecrets_editor.resources import IAM_TYPES, ResourceType

MANUAL_INPUT = "manual"
SECRETS_MANAGER = "secrets"
AWS_IAM_ROLE = "iam"

LABELS = {
    MANUAL_INPUT: "Manual input",
    SECRETS_MANAGER: "Secrets Manager",
    AWS_IAM_ROLE: "AWS IAM Role",
}
_IAM_MARK = f"_{IAM_PREFIX}:"


def offered(resource: ResourceType) -> list[tuple[str, str]]:
    """(value, label) of the methods a role of *resource* may use."""
    methods = [MANUAL_INPUT, SECRETS_MANAGER]
    if resource.name in IAM_TYPES:
        methods.append(AWS_IAM_ROLE)
    return [(method, LABELS[method]) for method in methods]


def detect(resource: ResourceType, variables: Mapping[str, str], exists: bool) -> str:
    """The method a role file's values show."""
    user, password = variables.get("USER", ""), variables.get("PASS", "")
    if (
        resource.name in IAM_TYPES
        and user.startswith(_IAM_MARK)
        and password == _IAM_MARK + IAM_TOKEN
    ):
        return AWS_IAM_ROLE
    typed = all(grammar.split(value) is None for value in variables.values())
    if exists and typed and not any(value.startswith(_IAM_MARK) for value in variables.values()):
        return MANUAL_INPUT
    return SECRETS_MANAGER


def chosen(resource: ResourceType, posted: str) -> str:
    """The posted method, when the resource type offers it."""
    return posted if posted in dict(offered(resource)) else SECRETS_MANAGER


def iam_rows(rows: list[Row]) -> None:
    """Turn USER and PASS into the original's AWS IAM pair (in place):
    USER keeps the database user typed in its value, PASS becomes the
    token reference and nothing typed for it is kept."""
    for row in rows:
        if not row.fixed:
            continue
        if row.variable == "USER":
            user = row.value if row.source in (MANUAL, IAM) else row.name
            row.source, row.value = IAM, user.removeprefix(_IAM_MARK)
        elif row.variable == "PASS":
            row.source, row.value, row.name, row.key = IAM, IAM_TOKEN, "", ""


def manual_rows(rows: list[Row]) -> None:
    """Under Manual input every field is typed: a field that was a
    reference keeps it as its typed value, so switching loses nothing."""
    for row in rows:
        if row.source not in (MANUAL, KEEP):
            row.value, row.source = row.text(), MANUAL


def apply(method: str, rows: list[Row]) -> None:
    """Make *rows* (as posted) follow *method*."""
    if method == AWS_IAM_ROLE:
        iam_rows(rows)
    elif method == MANUAL_INPUT:
        manual_rows(rows)


def check(method: str, rows: list[Row]) -> None:
    """What the method needs of the other fields: AWS IAM Role reads HOST
    and PORT (typed or references) to sign the token."""
    if method != AWS_IAM_ROLE:
        return
    for row in rows:
        if row.variable in ("HOST", "PORT") and row.fixed and not row.text():
            row.messages.append(
                Message(ERROR, f"AWS IAM Role needs {row.variable}: the token is signed for it")
            )
