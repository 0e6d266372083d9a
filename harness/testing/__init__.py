"""What users' own tests import: hypothesis strategies, the pytest plugin, the syrupy
snapshot extension.

Their test libraries come with the `testing` extra (`pip install 'agent-conformance-harness
[testing]'`); a module that needs one that is missing says so by name instead of a bare
`ModuleNotFoundError`.
"""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRA = "testing"
INSTALL_HINT = "python3 -m pip install 'agent-conformance-harness[testing]'"


class MissingTestingExtraError(ImportError):
    """A test library of the `testing` extra is not installed."""


def missing_extra(package: str, feature: str) -> MissingTestingExtraError:
    """The error for a `feature` whose test library `package` is not installed."""
    return MissingTestingExtraError(
        f"{feature} needs {package}, which the `{EXTRA}` extra installs: {INSTALL_HINT}",
        name=package)


def require(module: str, feature: str) -> ModuleType:
    """Import `module` for `feature`, or fail with a message naming the extra that brings it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise missing_extra(module.split(".", maxsplit=1)[0], feature) from None
