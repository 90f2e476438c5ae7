"""REFI-QDA codebooks (`.qdc`, Codebook.xsd, namespace urn:QDA-XML:codebook:1.0): the form in
which Taguette, MAXQDA, NVivo and ATLAS.ti exchange a codebook alone.

Import: every code becomes a tag, its place in the hierarchy kept as a path ("parent/child"),
its colour and description kept; a code that is not codable is a folder (its path prefixes
its children, it is no tag itself). A tag already here keeps its colour and description (the
report says which differ), so importing twice changes nothing. Export: margin's tags as the
same codebook the `.qdpx` project carries (`qdpx_export.project_xml`), in the codebook's own
namespace.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from store.errors import InvalidInput
from store.library import Library, parse_colour, tag_name
from store.sanitize import clean_field

from .qdpx import NS as PROJECT_NS
from .qdpx import ROLE_CLAIM, QdpxReport
from .qdpx_export import project_xml
from .untrusted import BundleError, show

NS = "urn:QDA-XML:codebook:1.0"
_MAX_BYTES = 20_000_000


def _parse(data: bytes, name: str) -> etree._Element:
    if b"<!doctype" in data[:4096].lower() or b"<!entity" in data.lower():
        raise BundleError(f"{name}: the codebook XML declares a DTD or entities; refused")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise BundleError(f"{name}: not well-formed XML ({str(error)[:100]})") from None
    if etree.QName(root).localname != "CodeBook":
        raise BundleError(f"{name}: not a REFI-QDA codebook (root element {show(root.tag)})")
    return root


def import_qdc(lib: Library, path: Path) -> QdpxReport:
    """Import a codebook's codes as tags (hierarchy, colours, descriptions) in one transaction."""
    path = Path(path)
    report = QdpxReport(path)
    if path.is_symlink() or not path.is_file():
        raise BundleError(f"{path.name}: not a regular file")
    if path.stat().st_size > _MAX_BYTES:
        raise BundleError(f"{path.name}: larger than {_MAX_BYTES / 1e6:.0f} MB")
    root = _parse(path.read_bytes(), path.name)
    ns = etree.QName(root).namespace
    q = f"{{{ns}}}" if ns else ""
    wanted: list[tuple[str, str | None, str]] = []

    def walk(element: etree._Element, prefix: str) -> None:
        for code in element.iterfind(q + "Code"):
            name = clean_field(code.get("name") or "", 200).replace("/", "\u2215")
            if not name:
                report.lost.append(f"code {show(code.get('guid'))}: has no name; not imported")
                continue
            here = f"{prefix}/{name}" if prefix else name
            guid = (code.get("guid") or "").lower().strip("{}")
            if guid == ROLE_CLAIM or here == "margin/claim":
                continue  # margin's claim role, not a tag (a .qdpx carries the claims)
            if code.get("isCodable", "true").strip().lower() in ("true", "1"):
                description = clean_field(code.findtext(q + "Description") or "", 2000)
                wanted.append((here, code.get("color"), description))
            walk(code, here)

    for codes in root.iterfind(q + "Codes"):
        walk(codes, "")
    if root.find(q + "Sets") is not None:
        report.lost.append("Sets of codes are not carried into margin")
    with lib.write():
        for path_name, colour, description in wanted:
            try:
                name = tag_name(path_name)
            except InvalidInput:
                report.lost.append(f"code {show(path_name)}: not usable as a tag name")
                continue
            try:
                colour = parse_colour(colour) if colour else None
            except InvalidInput:
                report.lost.append(f"code {show(path_name)}: colour {show(colour)} is not #rrggbb")
                colour = None
            here = lib.find_tag(name)
            if here is None:
                lib.ensure_tag(name, colour, description)
                report.counts["tags added"] += 1
                continue
            report.counts["tags unchanged"] += 1
            if (colour and colour != here.colour) or (
                description and description != here.description
            ):
                report.lost.append(f"code {show(name)}: this library's colour and description kept")
    return report


def export_qdc(lib: Library, out: Path) -> QdpxReport:
    """Write margin's tags as a REFI-QDA codebook (.qdc)."""
    data, _, project_report = project_xml(lib)
    project = etree.fromstring(data)
    root = etree.Element(
        f"{{{NS}}}CodeBook", nsmap={None: NS}, origin=project.get("origin", "margin")
    )
    codes = project.find(f"{{{PROJECT_NS}}}CodeBook/{{{PROJECT_NS}}}Codes")
    report = QdpxReport(Path(out))

    def copy(element: etree._Element, into: etree._Element) -> None:
        made = etree.SubElement(
            into, f"{{{NS}}}{etree.QName(element).localname}", dict(element.attrib)
        )
        made.text = element.text if len(element) == 0 else None
        for child in element:
            copy(child, made)

    if codes is not None:
        copy(codes, root)
        report.counts["codes"] = sum(1 for _ in root.iter(f"{{{NS}}}Code"))
    else:
        etree.SubElement(root, f"{{{NS}}}Codes")
        report.counts["codes"] = 0
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))
    tmp.replace(out)
    _ = project_report
    return report
