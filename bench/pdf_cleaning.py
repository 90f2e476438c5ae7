"""What the PDF cleaning (store.ingest.pdftext) changes on the corpus PDFs: ligatures left,
line-end hyphens joined or kept, running lines and page numbers removed; every join listed
so wrong ones can be sampled by hand.

usage: .venv/bin/python bench/pdf_cleaning.py [PDF_FOLDER]   (default ../shared/corpus/pdf)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from store.errors import IngestError
from store.ingest import extract
from store.ingest.pdftext import clean_pages
from store.sanitize import ingest_clean

LIGATURE = re.compile("[\ufb00-\ufb06]")


def main() -> None:
    folder = Path(
        sys.argv[1]
        if len(sys.argv) > 1
        else Path(__file__).parents[1].parent / "shared" / "corpus" / "pdf"
    )
    from pypdf import PdfReader

    totals = {
        "pdfs": 0,
        "changed": 0,
        "ligatures": 0,
        "joined": 0,
        "kept": 0,
        "running": 0,
        "numbers": 0,
    }
    for path in sorted(folder.glob("*.pdf")):
        try:
            doc = extract(path)
        except IngestError as error:
            print(f"{path.name}: refused ({error.reason})")
            continue
        reader = PdfReader(path)
        raw = [ingest_clean(page.extract_text() or "")[0] for page in reader.pages]
        _, cleaning = clean_pages(raw)
        before = "\n\n".join(raw)
        left = len(LIGATURE.findall(doc.text))
        stats = doc.metadata["cleaning"]
        totals["pdfs"] += 1
        totals["changed"] += doc.text != before
        totals["ligatures"] += stats["ligatures"]
        totals["joined"] += stats["hyphens_joined"]
        totals["kept"] += stats["hyphens_kept"]
        totals["running"] += stats["running_lines_removed"]
        totals["numbers"] += stats["page_numbers_removed"]
        print(
            f"{path.name}: {len(raw)} pages, ligatures {stats['ligatures']} (left {left}), "
            f"hyphens joined {stats['hyphens_joined']} kept {stats['hyphens_kept']}, "
            f"running lines {stats['running_lines_removed']}, page numbers {stats['page_numbers_removed']}"
        )
        for join in cleaning.joins:
            print(f"    {join}")
    print("total:", ", ".join(f"{k} {v}" for k, v in totals.items()))


if __name__ == "__main__":
    main()
