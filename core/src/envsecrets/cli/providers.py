"""``envsecrets providers``: the installed providers and broken plugins."""

from __future__ import annotations

import argparse
import os

from envsecrets import __version__
from envsecrets.cli.exits import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, refused_allowlist
from envsecrets.commands import Command
from envsecrets.resolver import Resolver


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "List every prefix with the distribution that serves it, its "
        "version and description, every plugin that failed to load, and those that "
        "ENVSECRETS_DISABLE_PLUGINS or ENVSECRETS_PLUGINS left out."
    )


def providers(args: argparse.Namespace) -> int:
    """Print the table of prefixes and the plugins' problems; 1 if any."""
    from importlib import metadata

    registry = Resolver(os.environ).registry
    rows = [("PREFIX", "DISTRIBUTION", "VERSION", "STATUS", "DESCRIPTION")]
    for prefix in sorted(registry.providers):
        info = registry.providers[prefix]
        status = "conflict" if prefix in registry.conflicts else "ok"
        rows.append(
            (
                f"_{prefix}",
                info.distribution or f"(plugin {info.plugin})",
                info.version or "-",
                status,
                info.description,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[4]]))
    for message in registry.conflicts.values():
        print(f"conflict: {message}")
    for failure in registry.failures:
        origin = f" ({failure.distribution} {failure.version})" if failure.distribution else ""
        print(f"failed: plugin {failure.plugin!r}{origin}: {failure.reason}")
    for name in sorted(registry.disabled):
        print(f"disabled: plugin {name!r} (ENVSECRETS_DISABLE_PLUGINS)")
    for name, distribution in sorted(registry.not_allowed.items()):
        origin = f": {distribution}" if distribution else ""
        print(f"not loaded: plugin {name!r} (not in ENVSECRETS_PLUGINS){origin}")
    for distribution in registry.undeclared:
        print(f"no credentials declared: {distribution} (not loaded; see docs/security.md)")
    if len(rows) == 1:
        print("no providers installed: pip install envsecrets-envjson (or -aws, -vault)")
    try:
        core = metadata.version("envsecrets")
    except metadata.PackageNotFoundError:
        core = __version__
    print(f"core: envsecrets {core}")
    if refused_allowlist(registry):
        return EXIT_USAGE
    return EXIT_FAILURE if registry.failures or registry.conflicts else EXIT_OK


COMMAND = Command(
    "providers",
    "list installed providers and plugins that failed to load",
    configure_parser,
    providers,
)
