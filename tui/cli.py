"""The `margin` command line: a few lines per command over `tui.service`.

Textual is imported only when the app opens, so scripted commands start fast.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from store.db import explain
from store.errors import MarginError
from store.ingest import iter_source_files
from store.ingest.decode import Refused, known_encoding
from store.library import parse_colour
from store.sanitize import plural, terminal_safe
from store.schema import VERDICTS
from tui import paths
from tui.service import EXPORT_FORMATS, Service

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def say(line: str, *, style: str = "", console: Console = out) -> None:
    """Print data-bearing text: sanitised, never parsed as markup."""
    console.print(Text(terminal_safe(line), style=style))


class Context:
    def __init__(self, library: Path | None) -> None:
        self.library_path = library or paths.default_library()
        self._service: Service | None = None

    @property
    def service(self) -> Service:
        if self._service is None:
            try:
                self._service = Service(self.library_path, paths.config_dir())
            except MarginError as error:
                say(f"margin: {error}", style="red", console=err)
                sys.exit(2)
        return self._service


pass_context = click.make_pass_decorator(Context)


class MarginGroup(click.Group):
    """Commands that meet a damaged library file say so in one line instead of a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except sqlite3.DatabaseError as error:  # damage met mid-command, past the open
            where = ctx.obj.library_path if isinstance(ctx.obj, Context) else "the library"
            say(f"margin: {where}: {explain(error)}", style="red", console=err)
            sys.exit(2)


@click.group(
    cls=MarginGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--library",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="MARGIN_LIBRARY",
    help="The library file (default: your data folder; env MARGIN_LIBRARY).",
)
@click.pass_context
def cli(ctx: click.Context, library: Path | None) -> None:
    """margin: read sources and annotate them, offline.

    With no command, opens the app on the library.
    """
    ctx.obj = Context(library)
    ctx.call_on_close(lambda: ctx.obj._service and ctx.obj._service.close())
    if ctx.invoked_subcommand is None:
        from tui.app import make_app  # Textual only when the app opens

        service = ctx.obj.service
        damage = service.library.quick_problems()
        if damage:  # refuse before the screen takes over, rather than fail in the middle
            say(f"margin: {ctx.obj.library_path}: {damage[0]}", style="red", console=err)
            sys.exit(2)
        make_app(service).run()


@cli.command("import")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--update",
    is_flag=True,
    help="A file imported before from the same path becomes a new version of its document; notes are re-anchored.",
)
@click.option(
    "--encoding",
    metavar="NAME",
    help="The encoding of .txt and .md files (cp1250, latin2, koi8-r...) when detection gets it wrong.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file.")
@pass_context
def import_(
    obj: Context, sources: tuple[Path, ...], update: bool, encoding: str | None, as_json: bool
) -> None:
    """Import files and folders (recursively): .txt, .md, .html, .pdf.

    Prints one line per file (imported, duplicate, or failed with the reason) and exits 1 if
    any file failed; the others are imported all the same.
    """
    if encoding:
        try:
            encoding = known_encoding(encoding)
        except Refused as refused:  # said once, before any file is read
            say(f"margin: --encoding: {refused.reason}", style="red", console=err)
            sys.exit(2)
    service = obj.service
    if encoding and any(
        path.suffix.lower() in (".html", ".htm", ".pdf") for path in iter_source_files(sources)
    ):
        say(
            f"margin: --encoding {encoding} applies to .txt and .md files; web pages declare "
            "their own and PDFs carry none",
            console=err,
        )
    missing = [s for s in sources if not s.exists()]
    for path in missing:
        say(f"failed    {path}: no such file or folder", style="red")
    existing = [s for s in sources if s.exists()]
    failed = bool(missing)
    for result in _with_progress(service, existing, as_json, update, encoding):
        failed |= result.status == "failed"
        if as_json:
            out.print_json(json.dumps(result.to_json()))
        else:
            say(result.line(), style="red" if result.status == "failed" else "")
    _index_with_progress(service, quiet=as_json)
    sys.exit(1 if failed else 0)


def _with_progress(
    service: Service, sources: list[Path], quiet: bool, update: bool, encoding: str | None
) -> Iterator:
    # The bar draws on stderr; rich moves lines printed to stdout meanwhile above it.
    if quiet or not err.is_terminal:
        yield from service.import_files(sources, update=update, encoding=encoding)
        return
    total = service.count_sources(sources)
    with Progress(
        TextColumn("importing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=total)
        for result in service.import_files(sources, update=update, encoding=encoding):
            bar.update(task, advance=1, description=terminal_safe(result.path.name)[:40])
            yield result


def _index_with_progress(service: Service, *, quiet: bool) -> None:
    if quiet or not err.is_terminal:
        service.sync_index()
        return
    with Progress(
        TextColumn("indexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("k chars"),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        service.sync_index(progress)


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@pass_context
def list_(obj: Context, as_json: bool) -> None:
    """List the documents with counts of highlights and claims."""
    documents = obj.service.library.documents()
    if as_json:
        out.print_json(json.dumps([d.__dict__ for d in documents]))
        return
    if not documents:
        say("The library is empty: `margin import PATH` adds documents.")
        return
    for d in documents:
        say(
            f"{d.id[:8]}  {d.format:4}  {d.highlights:3} hl  {d.claims:3} claims  "
            f"{d.claims_without_evidence:3} open  {d.title}"
        )


@cli.command()
@click.argument("query")
@click.option("--limit", default=20, show_default=True, help="How many hits.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@pass_context
def search(obj: Context, query: str, limit: int, as_json: bool) -> None:
    """Search passages and notes.

    Words, "phrases", AND/OR/NOT, prefix*, fuzzy~, and fields doc:, tag:, author:, is:claim,
    has:evidence, no:evidence.
    """
    try:
        result = obj.service.search(query, limit=limit)
    except MarginError as error:  # a refused query, or the index busy elsewhere
        say(f"margin: {error}", style="red", console=err)
        sys.exit(2)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "query": query,
                    "total": result.total,
                    "timed_out": result.timed_out,
                    "hits": [hit.to_json() for hit in result.hits],
                }
            )
        )
        return
    if not result.hits:
        say(f"no hits for {query}")
        return
    for hit in result.hits:
        where = f"p. {hit.page}" if hit.page else f"@{hit.offset}"
        kind = f" [{hit.role}]" if hit.kind == "annotation" else ""
        say(f"{hit.title} ({where}){kind}", style="bold")
        line = Text("    ")
        snippet = Text(terminal_safe(hit.snippet))
        for start, end in hit.marks:
            snippet.stylize("reverse", start, end)
        line.append_text(snippet)
        out.print(line)
    if result.timed_out:
        say("(search stopped after 2 s: these are the hits found so far)", console=err)


@cli.command()
@pass_context
def reindex(obj: Context) -> None:
    """Rebuild the search index from the library."""
    service = obj.service
    with Progress(
        TextColumn("reindexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("k chars"),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("", total=None)
        service.index.rebuild(
            service.library, progress=lambda d, t: bar.update(task, completed=d, total=t)
        )
    say(f"index rebuilt: {len(service.library.document_ids())} documents")


@cli.command()
@pass_context
def check(obj: Context) -> None:
    """Check the library: integrity, index in step, anchors valid. Exits 1 on problems."""
    problems = obj.service.check()
    if not problems:
        say("library sound: integrity ok, index in step, anchors valid")
        return
    for problem in problems:
        say(problem, style="red")
    sys.exit(1)


@cli.command()
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@pass_context
def backup(obj: Context, target: Path) -> None:
    """Write a consistent copy of the library to TARGET (a new file)."""
    try:
        obj.service.backup(target)
    except MarginError as error:
        say(f"margin: {error}", style="red", console=err)
        sys.exit(2)
    say(f"backed up to {target}")


@cli.command()
@pass_context
def locate(obj: Context) -> None:
    """Print where the library, its index and your profile live."""
    say(f"library  {obj.library_path}")
    say(f"index    {obj.service.index_dir}")
    say(f"profile  {paths.config_dir() / 'profile.json'}")


@cli.command()
@click.argument("name", required=False)
@pass_context
def whoami(obj: Context, name: str | None) -> None:
    """Show your author id and name; with NAME, change the name."""
    author = obj.service.rename(name) if name else obj.service.author
    say(f"{author.name} ({author.id})")


def _fail(error: MarginError) -> None:
    say(f"margin: {error}", style="red", console=err)
    sys.exit(2)


def _annotation_json(annotation) -> dict:  # noqa: ANN001
    data = dict(annotation.__dict__)
    data["tags"] = list(annotation.tags)
    return data


@cli.command()
@click.argument("document")
@click.option(
    "--quote",
    required=True,
    help="The passage, as it stands in the text (whitespace and quote marks may differ).",
)
@click.option("--claim", is_flag=True, help="Mark it as a claim rather than a highlight.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable); new names create tags.")
@click.option("--note", default="", help="A note on the passage.")
@click.option("--json", "as_json", is_flag=True, help="Print the annotation as JSON.")
@pass_context
def annotate(
    obj: Context,
    document: str,
    quote: str,
    claim: bool,
    tags: tuple[str, ...],
    note: str,
    as_json: bool,
) -> None:
    """Highlight (or mark as a claim) a quote of DOCUMENT (an id, id prefix or part of the title)."""
    try:
        annotation = obj.service.annotate_quote(
            document, quote, role="claim" if claim else "highlight", note=note, tags=tags
        )
    except MarginError as error:
        _fail(error)
    if as_json:
        out.print_json(json.dumps(_annotation_json(annotation)))
    else:
        say(f"{annotation.role} {annotation.id} at {annotation.start}-{annotation.end}")


@cli.command()
@click.argument("claim")
@click.argument("evidence")
@click.option(
    "--relation",
    type=click.Choice(["supports", "contradicts", "context"]),
    default="supports",
    show_default=True,
)
@click.option("--note", default="", help="Why this evidence bears on the claim.")
@pass_context
def link(obj: Context, claim: str, evidence: str, relation: str, note: str) -> None:
    """Link annotation EVIDENCE to annotation CLAIM (ids or id prefixes)."""
    lib = obj.service.library
    try:
        made = obj.service.link(
            lib.resolve_annotation(claim).id,
            lib.resolve_annotation(evidence).id,
            relation=relation,
            note=note,
        )
    except MarginError as error:
        _fail(error)
    say(f"linked {made.evidence_id[:8]} to claim {made.claim_id[:8]} ({made.relation})")


@cli.command()
@click.option("--doc", "document", help="Only the claims of this document.")
@click.option("--no-evidence", is_flag=True, help="Only claims without evidence.")
@click.option("--unreviewed", is_flag=True, help="Only claims without a verdict.")
@click.option(
    "--verdict", type=click.Choice(list(VERDICTS)), help="Only claims whose latest verdict is this."
)
@click.option("--tag", help="Only claims with this tag (or a child of it).")
@click.option(
    "--stale", is_flag=True, help="Only claims whose evidence or words changed since the verdict."
)
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@pass_context
def claims(
    obj: Context,
    document: str | None,
    no_evidence: bool,
    unreviewed: bool,
    verdict: str | None,
    tag: str | None,
    stale: bool,
    as_json: bool,
) -> None:
    """List claims with their evidence counts and latest verdict."""
    lib = obj.service.library
    try:
        document_id = lib.resolve_document(document).id if document else None
    except MarginError as error:
        _fail(error)
    found = lib.claims(
        document_id=document_id,
        no_evidence=no_evidence,
        unreviewed=unreviewed,
        verdict=verdict,
        tag=tag,
    )
    moved = obj.service.staleness()
    if stale:
        found = [s for s in found if s.claim.id in moved]
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {
                        "claim": _annotation_json(s.claim),
                        "stale": moved[s.claim.id].to_json() if s.claim.id in moved else None,
                        "document_title": s.document_title,
                        "supports": s.supports,
                        "contradicts": s.contradicts,
                        "context": s.context,
                        "evidence_not_ok": s.evidence_not_ok,
                        "verdict": s.verdict,
                        "reviewer_name": s.reviewer_name,
                        "reviewed_at": s.reviewed_at,
                    }
                    for s in found
                ]
            )
        )
        return
    if not found:
        say("no claims match")
        return
    for s in found:
        quote = " ".join(s.claim.exact.split())
        say(
            f"{s.claim.id[:8]}  +{s.supports} -{s.contradicts} ~{s.context}  "
            f"{(s.verdict or 'unreviewed'):16}  {s.document_title[:30]}: {quote[:70]}"
        )
        if s.claim.id in moved:
            say(f"          stale: {moved[s.claim.id].describe()}", style="yellow")


@cli.command()
@click.argument("claim")
@click.argument("verdict", type=click.Choice(list(VERDICTS)))
@click.option("--comment", default="", help="Why.")
@pass_context
def review(obj: Context, claim: str, verdict: str, comment: str) -> None:
    """Record a VERDICT on CLAIM (kept in its history)."""
    try:
        made = obj.service.review(
            obj.service.library.resolve_annotation(claim).id, verdict, comment
        )
    except MarginError as error:
        _fail(error)
    say(f"{made.verdict} recorded on claim {made.claim_id[:8]} by {made.reviewer_name}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@pass_context
def tags(obj: Context, as_json: bool) -> None:
    """List the codebook: every tag with its colour and count."""
    found = obj.service.library.tags()
    if as_json:
        out.print_json(json.dumps([t.__dict__ for t in found]))
        return
    for t in found:
        say(f"{t.count:5}  {t.colour}  {t.name}" + (f"  {t.description}" if t.description else ""))


@cli.group()
def tag() -> None:
    """Change the codebook: rename, merge, recolour, delete."""


@tag.command("rename")
@click.argument("old")
@click.argument("new")
@pass_context
def tag_rename(obj: Context, old: str, new: str) -> None:
    """Rename tag OLD to NEW everywhere."""
    try:
        made = obj.service.rename_tag(old, new)
    except MarginError as error:
        _fail(error)
    say(f"renamed {old} to {made.name}")


@tag.command("merge")
@click.argument("source")
@click.argument("target")
@pass_context
def tag_merge(obj: Context, source: str, target: str) -> None:
    """Merge tag SOURCE into TARGET (SOURCE goes)."""
    try:
        made = obj.service.merge_tags(source, target)
    except MarginError as error:
        _fail(error)
    say(
        f"merged {source} into {made.name} ({made.count} annotations)"
        if made.count
        else f"merged {source} into {made.name}"
    )


@tag.command("recolour")
@click.argument("name")
@click.argument("colour")
@pass_context
def tag_recolour(obj: Context, name: str, colour: str) -> None:
    """Give tag NAME a new COLOUR (#rrggbb)."""
    try:
        made = obj.service.update_tag(name, colour=parse_colour(colour))
    except MarginError as error:
        _fail(error)
    say(f"{made.name} is now {made.colour}")


@tag.command("delete")
@click.argument("name")
@pass_context
def tag_delete(obj: Context, name: str) -> None:
    """Delete tag NAME from the codebook and from every annotation."""
    try:
        count = obj.service.delete_tag(name)
    except MarginError as error:
        _fail(error)
    say(f"deleted {name} (it was on {count} annotations)")


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(EXPORT_FORMATS)),
    default="bundle",
    show_default=True,
    help="bundle: W3C Web Annotation JSON-LD; folder: one file per note, for git; markdown, csv, claimreview (schema.org), qdpx (REFI-QDA).",
)
@click.option(
    "-o",
    "--output",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="The file (or folder) to write.",
)
@click.option("--doc", "document", help="Only this document's notes.")
@click.option("--tag", help="Only notes with this tag (or a child of it).")
@click.option("--claims-only", is_flag=True, help="Only claims (and the evidence they link to).")
@click.option(
    "--with-sources",
    is_flag=True,
    help="Embed the document texts, so the receiver needs nothing else.",
)
@pass_context
def export(
    obj: Context,
    fmt: str,
    out: Path,
    document: str | None,
    tag: str | None,
    claims_only: bool,
    with_sources: bool,
) -> None:
    """Export notes for a colleague (bundle, folder), for people (markdown, csv) or other tools."""
    try:
        lines = obj.service.export_notes(
            fmt, out, document=document, tag=tag, claims_only=claims_only, with_sources=with_sources
        )
    except MarginError as error:
        _fail(error)
    for line in lines:
        say(line)


@cli.command()
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@pass_context
def merge(obj: Context, source: Path) -> None:
    """Merge a colleague's notes: a bundle file, a folder bundle, or a REFI-QDA .qdpx.

    One transaction; nobody's notes are overwritten (a different author's version is kept as a
    conflict: see `margin conflicts`). Merging the same file twice changes nothing.
    """
    try:
        lines = obj.service.import_notes(source)
    except MarginError as error:
        _fail(error)
    for line in lines:
        say(line)


@cli.command()
@click.option("--keep", type=click.Choice(["mine", "theirs"]), help="Resolve CONFLICT_ID this way.")
@click.argument("conflict_id", required=False)
@pass_context
def conflicts(obj: Context, keep: str | None, conflict_id: str | None) -> None:
    """List merge conflicts; with CONFLICT_ID and --keep, resolve one."""
    if conflict_id:
        if keep is None:
            _fail(MarginError("say which version to keep: --keep mine or --keep theirs"))
        try:
            obj.service.resolve_conflict(conflict_id, keep)
        except MarginError as error:
            _fail(error)
        say(f"resolved {conflict_id}: kept {keep}")
        return
    found = obj.service.conflicts()
    if not found:
        say("no conflicts")
    for conflict in found:
        say(f"{conflict.id}  {conflict.line()}")


@cli.command()
@click.argument("claim")
@click.option("--limit", default=10, show_default=True, type=int, help="How many passages.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@pass_context
def suggest(obj: Context, claim: str, limit: int, as_json: bool) -> None:
    """Passages of the library most like CLAIM's words: evidence to check and link."""
    try:
        found = obj.service.suggest(obj.service.library.resolve_annotation(claim).id, limit=limit)
    except MarginError as error:
        _fail(error)
    if as_json:
        out.print_json(json.dumps(found.to_json()))
        return
    if not found.hits:
        say("no passages like this claim")
        return
    for number, hit in enumerate(found.hits, 1):
        say(f"{number:2}. {hit.citation}  [{hit.document_id[:8]} {hit.start}-{hit.end}]")
        say(f"    {hit.snippet}", style="dim")


def _figure(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "undefined"
    return f"{100 * value:.1f}%" if percent else f"{value:.3f}"


@cli.command()
@click.option(
    "--tags", is_flag=True, help="Coders compared, tag by tag, on documents they both annotated."
)
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@pass_context
def agreement(obj: Context, tags: bool, as_json: bool) -> None:
    """How far reviewers agree on the claims two or more of them judged."""
    if tags:
        _tag_agreement(obj, as_json)
        return
    report = obj.service.agreement()
    found = report.agreement
    if as_json:
        out.print_json(json.dumps(report.to_json()))
        return
    if not found.units_shared:
        say(
            f"no claim has verdicts from two reviewers yet ({plural(found.units_coded, 'claim')} "
            f"judged by {plural(len(found.coders), 'reviewer')})"
        )
        return
    say(
        f"{len(found.coders)} reviewers, {found.units_shared} of {found.units_coded} judged "
        f"claims have verdicts from two or more"
    )
    say(
        f"agreement {_figure(found.agreement, True)} of reviewer pairs; Krippendorff's alpha "
        f"{_figure(found.alpha)} (nominal)"
    )
    for pair in found.pairs:
        if not pair.units:
            continue
        first, second = report.name(pair.first), report.name(pair.second)
        say(
            f"{first} / {second}: {plural(pair.units, 'claim')}, agree "
            f"{_figure(pair.agreement, True)}, Cohen's kappa {_figure(pair.kappa)}"
        )
        verdicts = [
            v
            for v in VERDICTS
            if v in pair.confusion or any(v in row for row in pair.confusion.values())
        ]
        corner = f"{first[:8]} \\ {second[:8]}"
        say(f"  {corner:>18}" + "".join(f"{v:>18}" for v in verdicts))
        for row in verdicts:
            cells = [pair.confusion.get(row, {}).get(column, 0) for column in verdicts]
            say(f"  {row:>18}" + "".join(f"{c:>18}" for c in cells))
    if found.disagreements:
        say(f"{plural(len(found.disagreements), 'claim')} with differing verdicts:")
    for claim_id, verdicts in found.disagreements.items():
        summary = report.claims[claim_id]
        quote = " ".join(summary.claim.exact.split())[:60]
        said = ", ".join(f"{report.name(who)} {verdict}" for who, verdict in verdicts.items())
        say(f"{claim_id[:8]}  {summary.document_title[:30]}: {quote}")
        say(f"          {said}")


def _tag_agreement(obj: Context, as_json: bool) -> None:
    found, names = obj.service.tag_agreement()
    if as_json:
        out.print_json(json.dumps({"names": names, "tags": [t.to_json() for t in found]}))
        return
    if not found:
        say("no tag used on a document that two or more people annotated")
        return
    for tag in found:
        coders = ", ".join(names.get(c, c[:8]) for c in tag.coders)
        kappa = f", Cohen's kappa {_figure(tag.kappa)}" if tag.kappa is not None else ""
        say(
            f"#{tag.tag}: {coders} on {plural(tag.documents, 'document')}: agree on "
            f"{_figure(tag.agreement, True)} of characters{kappa}, Krippendorff's alpha "
            f"{_figure(tag.alpha)}; {tag.segments_matched} of {plural(tag.segments, 'segment')} "
            "overlap another coder's"
        )


def main() -> None:
    """Entry point of the `margin` command."""
    try:
        cli(prog_name="margin")
    except MarginError as error:
        say(f"margin: {error}", style="red", console=err)
        sys.exit(2)


if __name__ == "__main__":
    main()
