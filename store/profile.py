"""Who is annotating: a stable author id (a UUID that never changes) and a display name.

The profile lives in margin's config folder, so one person keeps one id across libraries and
their notes keep their author when they travel to a colleague.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
from pathlib import Path

from store.records import Author, new_id
from store.sanitize import clean_field


def _default_name() -> str:
    try:
        found = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True, timeout=2
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        found = ""
    if not found:
        try:
            found = os.environ.get("USER") or getpass.getuser()
        except Exception:  # noqa: BLE001 - getuser raises several kinds when there is no user
            found = ""
    return clean_field(found or "anonymous", 200) or "anonymous"


def load_profile(config_dir: Path) -> Author:
    """The profile in `config_dir`, created on first use from git's user.name or $USER."""
    path = config_dir / "profile.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Author(id=str(data["id"]), name=clean_field(str(data["name"]), 200) or "anonymous")
    except (OSError, ValueError, KeyError, TypeError):
        pass
    author = Author(id=new_id(), name=_default_name())
    save_profile(config_dir, author)
    return author


def save_profile(config_dir: Path, author: Author) -> None:
    """Write the profile (atomically, so a crash never leaves half a file)."""
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "profile.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"id": author.id, "name": author.name}, indent=2) + "\n", "utf-8")
    os.replace(tmp, path)


def rename_profile(config_dir: Path, name: str) -> Author:
    """Change the display name; the id stays."""
    current = load_profile(config_dir)
    author = Author(id=current.id, name=clean_field(name, 200) or current.name)
    save_profile(config_dir, author)
    return author
