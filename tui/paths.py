"""Where margin keeps its files: platformdirs locations, overridden for tests and `make run`.

`--library PATH` or `MARGIN_LIBRARY` choose the library file; `MARGIN_HOME` moves everything
(library and config) under one folder, which is how the tests keep the developer's files out.
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_config_path, user_data_path

LIBRARY_FILE = "library.margin"


def default_library() -> Path:
    """The library file used when none is named."""
    if os.environ.get("MARGIN_LIBRARY"):
        return Path(os.environ["MARGIN_LIBRARY"]).expanduser()
    if os.environ.get("MARGIN_HOME"):
        return Path(os.environ["MARGIN_HOME"]).expanduser() / LIBRARY_FILE
    return user_data_path("margin") / LIBRARY_FILE


def config_dir() -> Path:
    """The folder holding the profile and settings."""
    if os.environ.get("MARGIN_HOME"):
        return Path(os.environ["MARGIN_HOME"]).expanduser() / "config"
    return user_config_path("margin")
