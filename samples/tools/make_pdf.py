"""Write samples/sources/a-modest-proposal.pdf from the public-domain text of Project Gutenberg
eBook #1080, with the standard library only, so the sample PDF's making is plain to see.

usage: python samples/tools/make_pdf.py GUTENBERG_TXT OUT_PDF
The PDF is committed as a sample source (data, like the other samples); run this only to
make it again.
"""

import re
import sys
import textwrap

PAGE_W, PAGE_H, MARGIN, LEADING, SIZE, LINES_PER_PAGE = 612, 792, 72, 14, 11, 44


def paragraphs(path: str) -> list[str]:
    text = open(path, encoding="utf-8").read()
    body = text.split("*** START OF THIS PROJECT GUTENBERG EBOOK")[1].split("***", 1)[1]
    body = body.split("*** END OF THIS PROJECT GUTENBERG EBOOK")[0]
    return [re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n", body) if p.strip()]


def pdf_string(line: str) -> str:
    line = line.encode("cp1252", "replace").decode("cp1252")
    return "(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def pages(paras: list[str]) -> list[list[str]]:
    lines: list[str] = []
    for para in paras:
        lines += textwrap.wrap(para, 88) + [""]
    return [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)]


def write(out: str, page_lines: list[list[str]], title: str, author: str) -> None:
    objects: list[bytes] = []

    def add(body: str | bytes) -> int:
        objects.append(body.encode("cp1252") if isinstance(body, str) else body)
        return len(objects)

    catalog = add("")  # filled below
    pages_id = add("")
    font = add(
        "<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding /WinAnsiEncoding >>"
    )
    kids = []
    for lines in page_lines:
        ops = [f"BT /F1 {SIZE} Tf {LEADING} TL {MARGIN} {PAGE_H - MARGIN} Td"]
        ops += [f"{pdf_string(line)} Tj T*" for line in lines]
        ops.append("ET")
        stream = "\n".join(ops).encode("cp1252", "replace")
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(
            add(
                f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
                f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {content} 0 R >>"
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode()
    objects[pages_id - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    ).encode()
    info = add(
        f"<< /Title {pdf_string(title)} /Author {pdf_string(author)} /CreationDate (D:17290101000000Z) >>"
    )
    data = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(data))
        data += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(data)
    data += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    data += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    data += f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R /Info {info} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    open(out, "wb").write(bytes(data))


if __name__ == "__main__":
    src, out = sys.argv[1], sys.argv[2]
    paras = paragraphs(src)
    write(out, pages(paras), "A Modest Proposal", "Jonathan Swift")
