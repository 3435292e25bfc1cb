"""The running build's identity, for `lms --version`, `/api/v1/health` and `lms_build_info`."""

from __future__ import annotations

import platform
from functools import cache
from importlib import metadata


@cache
def version() -> str:
    try:
        return metadata.version("lms")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"


def build_info() -> dict[str, str]:
    return {"version": version(), "python": platform.python_version()}
