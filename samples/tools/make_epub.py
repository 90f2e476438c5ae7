"""Write samples/sources/war-and-peace-book-one.epub: the first three chapters of Tolstoy's
*War and Peace* (Maude translation, public domain) from Project Gutenberg eBook #2600, as an
EPUB 3 with the standard library only, so the sample book's making is plain to see.

usage: python samples/tools/make_epub.py GUTENBERG_TXT OUT_EPUB
The EPUB is committed as a sample source (data, like the other samples); run this only to
make it again. It holds what a reader's EPUB holds: a cover page with no text, a navigation
document with chapter titles, a spine, and OPF metadata (title, creator, date, language).
"""

import html
import re
import sys
import zipfile

CHAPTERS = ("CHAPTER I", "CHAPTER II", "CHAPTER III", "CHAPTER IV")
NAMES = (
    "Chapter I: Anna Pávlovna's reception",
    "Chapter II: The drawing room fills",
    "Chapter III: The vicomte's story",
)
STAMP = (2024, 1, 1, 0, 0, 0)  # fixed member times: the same input makes the same bytes


def chapters(path: str) -> list[list[str]]:
    text = open(path, encoding="utf-8").read()
    book = text[text.index("BOOK ONE: 1805") :]
    found = []
    for this, following in zip(CHAPTERS, CHAPTERS[1:], strict=False):
        body = book[book.index(f"\n{this}\n") + len(this) + 2 : book.index(f"\n{following}\n")]
        paragraphs = [re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n", body)]
        found.append([p for p in paragraphs if p])
    return found


def xhtml(title: str, body: str) -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" '
        f'lang="en"><head><title>{html.escape(title)}</title>'
        '<link rel="stylesheet" href="style.css"/></head>\n<body>\n' + body + "\n</body></html>\n"
    )


def main(source: str, out: str) -> None:
    parts = chapters(source)
    files = {
        "OEBPS/cover.xhtml": xhtml(
            "Cover", '<div class="cover"><img src="cover.svg" alt=""/></div>'
        ),
        "OEBPS/cover.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="800"/>\n',
        "OEBPS/style.css": "p { text-indent: 1.5em; margin: 0 }\n",
    }
    for number, (name, paragraphs) in enumerate(zip(NAMES, parts, strict=False), 1):
        body = f'<section epub:type="chapter"><h2>{html.escape(name.split(":")[0])}</h2>\n'
        body += "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)
        files[f"OEBPS/chapter-{number}.xhtml"] = xhtml(name, body + "\n</section>")
    nav = "\n".join(
        f'<li><a href="chapter-{n}.xhtml">{html.escape(name)}</a></li>'
        for n, name in enumerate(NAMES, 1)
    )
    files["OEBPS/nav.xhtml"] = xhtml(
        "Contents", f'<nav epub:type="toc" id="toc"><h1>Contents</h1><ol>\n{nav}\n</ol></nav>'
    )
    manifest = "\n".join(
        [
            '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>',
            '<item id="cover" href="cover.xhtml" media-type="application/xhtml+xml"/>',
            '<item id="cover-image" href="cover.svg" media-type="image/svg+xml" properties="cover-image"/>',
            '<item id="css" href="style.css" media-type="text/css"/>',
        ]
        + [
            f'<item id="ch{n}" href="chapter-{n}.xhtml" media-type="application/xhtml+xml"/>'
            for n in range(1, len(NAMES) + 1)
        ]
    )
    spine = "\n".join(
        ['<itemref idref="cover" linear="no"/>']
        + [f'<itemref idref="ch{n}"/>' for n in range(1, len(NAMES) + 1)]
    )
    files["OEBPS/content.opf"] = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="uid">\n'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        '<dc:identifier id="uid">urn:uuid:6f1b2a0e-2600-4b1e-9a43-7a0c3e5d1805</dc:identifier>\n'
        "<dc:title>War and Peace: Book One (Chapters I–III)</dc:title>\n"
        "<dc:creator>Leo Tolstoy</dc:creator>\n"
        "<dc:contributor>Louise and Aylmer Maude (translators)</dc:contributor>\n"
        "<dc:date>1869</dc:date>\n<dc:language>en</dc:language>\n"
        '<meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>\n'
        f"</metadata>\n<manifest>\n{manifest}\n</manifest>\n<spine>\n{spine}\n</spine>\n</package>\n"
    )
    container = (
        '<?xml version="1.0"?>\n'
        '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
        '<rootfiles><rootfile full-path="OEBPS/content.opf" '
        'media-type="application/oebps-package+xml"/></rootfiles></container>\n'
    )
    with zipfile.ZipFile(out, "w") as book:
        # The mimetype comes first and uncompressed, as EPUB readers check.
        book.writestr(zipfile.ZipInfo("mimetype", STAMP), "application/epub+zip")
        for name, content in [("META-INF/container.xml", container), *files.items()]:
            info = zipfile.ZipInfo(name, STAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            book.writestr(info, content)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
