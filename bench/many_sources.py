"""Index catch-up after merging many tiny sources (issue 15): does it grow with the library?

usage: .venv/bin/python bench/many_sources.py [--books 15] [--sources 2000] [--profile]
Builds a library of BOOKS Gutenberg books (indexed), then imports a .qdpx of SOURCES tiny text
sources and times the store import and the index catch-up; then the same .qdpx into an empty
library. Prints figures; it is not a test.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

from index import SearchIndex, index_dir_for
from store.exchange import import_qdpx
from store.library import Library
from store.records import Author

SHARED = Path(__file__).resolve().parents[2] / "shared"
ANA = Author(id="33333333-3333-4333-8333-333333333333", name="Ana")


class Doc:
    def __init__(self, text: str, title: str) -> None:
        self.text, self.title = text, title
        self.author = self.published = None
        self.source = f"/bench/{title}.txt"
        self.format = "txt"
        self.page_starts = None
        self.metadata: dict = {}


def tiny_qdpx(path: Path, sources: int) -> None:
    ns = "urn:QDA-XML:project:1.0"
    parts = [f'<?xml version="1.0" encoding="utf-8"?><Project xmlns="{ns}" name="x"><Sources>']
    members = {}
    for n in range(sources):
        guid = str(uuid.uuid4())
        parts.append(
            f'<TextSource guid="{guid}" name="s{n}" plainTextPath="internal://{guid}.txt"/>'
        )
        members[f"sources/{guid}.txt"] = f"Tiny source {n}: a line about harbour {n * 7}.\n"
    parts.append("</Sources></Project>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", "".join(parts))
        for name, text in members.items():
            zf.writestr(name, text)


def run(lib_path: Path, qdpx: Path, profile: bool) -> tuple[float, float]:
    lib = Library(lib_path)
    t = time.perf_counter()
    import_qdpx(lib, qdpx, author=ANA)
    store_s = time.perf_counter() - t
    index = SearchIndex(index_dir_for(lib_path))
    profiler = cProfile.Profile() if profile else None
    t = time.perf_counter()
    if profiler:
        profiler.enable()
    index.sync(lib)
    if profiler:
        profiler.disable()
    index_s = time.perf_counter() - t
    if profiler:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue())
    index.close()
    lib.close()
    return store_s, index_s


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--books", type=int, default=15)
    parser.add_argument("--sources", type=int, default=2000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    books = sorted((SHARED / "corpus" / "gutenberg").glob("*.txt"))[: args.books]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        qdpx = root / "tiny.qdpx"
        tiny_qdpx(qdpx, args.sources)
        full = root / "full.margin"
        lib = Library(full)
        for book in books:
            lib.add_document(Doc(book.read_text(encoding="utf-8"), book.stem))
        index = SearchIndex(index_dir_for(full))
        t = time.perf_counter()
        index.sync(lib)
        print(f"{len(books)} books indexed in {time.perf_counter() - t:.1f} s")
        index.close()
        lib.close()
        store_s, index_s = run(full, qdpx, args.profile)
        print(
            f"{args.sources} tiny sources into {len(books)} books: store {store_s:.1f} s, "
            f"index catch-up {index_s:.1f} s"
        )
        store_s, index_s = run(root / "empty.margin", qdpx, False)
        print(
            f"{args.sources} tiny sources into an empty library: store {store_s:.1f} s, "
            f"index catch-up {index_s:.1f} s"
        )


if __name__ == "__main__":
    main()
