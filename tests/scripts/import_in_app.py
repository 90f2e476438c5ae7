"""Import a folder with the `i` key in a fresh interpreter, as `margin` itself would.

Run by tests/test_app_processes.py: the process must be new, because multiprocessing starts
its resource tracker once per process, and the bug this guards against (a spawn refused
inside Textual) happened only when the app started the first child. No __main__ guard on
purpose: children must not re-run this script.
"""

import asyncio
import json
import sys
from pathlib import Path

from textual.widgets import Input

from store.profile import save_profile
from store.records import Author
from tests.apptools import notices, settle
from tui.app import make_app
from tui.service import Service

HOME, SOURCE = Path(sys.argv[1]), Path(sys.argv[2])


async def run() -> dict:
    save_profile(HOME / "config", Author("11111111-1111-4111-8111-111111111111", "Ada"))
    service = Service(HOME / "library.margin", HOME / "config")
    app = make_app(service)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one("#import-path", Input).value = str(SOURCE)
        await pilot.press("enter")
        await settle(pilot)
        return {
            "notices": notices(app),
            "documents": len(service.library.document_ids()),
            "index_behind": service.index_behind(),
        }


print(json.dumps(asyncio.run(run())))
