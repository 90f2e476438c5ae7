"""The `margin` command line: a few lines per command over `tui.service`.

Textual is imported only when the app opens, so scripted commands start fast.

The output contract (the README repeats it): every `--json` prints one JSON document on stdout,
except `import --json`, which prints one object per line (NDJSON), one per file, failures
included. Records are printed by `store.records.to_json`. Exit 0 is done, 1 is done with some
items failed (import) or damage found (check), 2 is refused: one line `margin: ...` on stderr,
nothing changed. Every error goes through `Refused`, click's own exception path.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.text import Text

from store.errors import MarginError
from store.sanitize import plural, terminal_safe
from store.schema import EXPORT_FORMATS, VERDICTS
from tui import paths

if TYPE_CHECKING:
    from tui.service import ImportReport, ImportResult, Service

# Only what parsing the arguments needs is imported above: `margin --help` cost 0.41 s of CPU,
# 31x `python -c pass`, when the service (whoosh, sqlite-utils, the importers) came with it
# (issue 11). A command imports what it uses when it runs; tests/test_startup.py holds it.

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def say(line: str, *, style: str = "", console: Console = out) -> None:
    """Print data-bearing text: sanitised, never parsed as markup."""
    console.print(Text(terminal_safe(line), style=style))


def emit(record: object) -> None:
    """Print a `--json` answer: one JSON document on one line (ASCII, so no terminal control
    character or odd encoding reaches a script)."""
    from store.records import to_json

    click.echo(json.dumps(to_json(record), ensure_ascii=True))


class Refused(click.ClickException):
    """The one error path: one red line `margin: ...` on stderr and exit 2; nothing changed."""

    exit_code = 2

    def show(self, file: object = None) -> None:  # noqa: ARG002 - click's signature
        say(f"margin: {self.message}", style="red", console=err)


json_option = click.option(
    "--json", "as_json", is_flag=True, help="JSON on stdout (see the README's output contract)."
)


class Context:
    def __init__(self, library: Path | None) -> None:
        self.library_path = library or paths.default_library()
        self._service: Service | None = None

    def say_deferred(self) -> None:
        """A write that was saved while the index could not follow: one line, exit code kept."""
        if self._service is not None and self._service.index_deferred:
            say(f"margin: {self._service.index_deferred}", style="yellow", console=err)

    @property
    def service(self) -> Service:
        if self._service is None:
            from tui.service import Service

            self._service = Service(self.library_path, paths.config_dir())
        return self._service


pass_context = click.make_pass_decorator(Context)


class MarginGroup(click.Group):
    """Every command's refusals and damage met on the way become one `Refused` line, here
    once, instead of a try block in each command."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except MarginError as error:
            raise Refused(str(error)) from error
        except sqlite3.DatabaseError as error:  # damage met mid-command, past the open
            from store.db import explain

            where = ctx.obj.library_path if isinstance(ctx.obj, Context) else "the library"
            raise Refused(f"{where}: {explain(error)}") from error
        except OSError as error:  # a full disk, a folder we may not read: one line, no trace
            where = f"{error.filename}: " if error.filename else ""
            raise Refused(f"{where}{error.strerror or error}") from error


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
    ctx.call_on_close(lambda: ctx.obj._service and ctx.obj._service.close())  # noqa: SLF001 - the Context's own service, built on first use
    ctx.call_on_close(ctx.obj.say_deferred)
    if ctx.invoked_subcommand is None:
        from tui.app import make_app  # Textual only when the app opens

        service = ctx.obj.service
        damage = service.quick_problems()
        if damage:  # refuse before the screen takes over, rather than fail in the middle
            raise Refused(f"{ctx.obj.library_path}: {damage[0]}")
        make_app(service).run()


@cli.command("import")
@click.argument("sources", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--as-new",
    is_flag=True,
    help="A changed file imported before from the same path becomes a separate document, not a new version.",
)
@click.option(
    "--version-of",
    "version_of",
    metavar="DOC",
    help="The file is a new version of DOC (id, id prefix or title words): a new file name for a new version.",
)
@click.option(
    "--update",
    is_flag=True,
    hidden=True,
    help="Kept for scripts: a changed file at a path imported before is a new version anyway.",
)
@click.option(
    "--encoding",
    metavar="NAME",
    help="The encoding of .txt and .md files (cp1250, latin2, koi8-r...) when detection gets it wrong.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line per file (NDJSON).")
@pass_context
def import_(
    obj: Context,
    sources: tuple[Path, ...],
    as_new: bool,
    version_of: str | None,
    update: bool,
    encoding: str | None,
    as_json: bool,
) -> None:
    """Import files and folders (recursively): .txt, .md, .html, .pdf, .epub, .docx.

    A file imported before from the same path whose text changed becomes a new version of its
    document: the notes are re-anchored and the report says which moved or were orphaned, as
    in the app. --as-new keeps it as a separate document instead.

    Prints one line per file (imported, updated, duplicate, or failed with the reason) and
    exits 1 if any file failed; the others are imported all the same.
    """
    from store.ingest import iter_source_files
    from store.ingest.decode import Refused as Refused_
    from store.ingest.decode import known_encoding
    from tui.service import ImportResult

    if as_new and (update or version_of):
        raise Refused("--as-new makes a separate document; it cannot be a new version too")
    if encoding:
        try:
            encoding = known_encoding(encoding)
        except Refused_ as refused:  # said once, before any file is read
            raise Refused(f"--encoding: {refused.reason}") from refused
    if version_of is not None and (len(sources) != 1 or sources[0].is_dir()):
        raise Refused("--version-of takes one file, the new version of DOC")
    service = obj.service
    if encoding and any(
        path.suffix.lower() in (".html", ".htm", ".pdf", ".epub", ".docx")
        for path in iter_source_files(sources)
    ):
        say(
            f"margin: --encoding {encoding} applies to .txt and .md files; web pages declare "
            "their own and PDFs, EPUBs and Word files carry theirs",
            console=err,
        )
    missing = [ImportResult(s, "failed", reason="no such file or folder") for s in sources]
    missing = [result for result in missing if not result.path.exists()]
    existing = [s for s in sources if s.exists()]
    if version_of is not None and existing:
        results: Iterator[ImportResult] = iter(
            [service.import_version(existing[0], version_of, encoding=encoding)]
        )
    else:
        results = _with_progress(service, existing, as_json, not as_new, encoding)
    failed = False
    for result in itertools.chain(missing, results):  # lazily: a line as each file lands
        failed |= result.status == "failed"
        if as_json:
            emit(result)
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
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

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
    # The documents are committed: an index that cannot follow is one line, not a failure.
    if quiet or not err.is_terminal:
        service.sync_index_saved()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

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

        service.sync_index_saved(progress)


@cli.command("list")
@json_option
@pass_context
def list_(obj: Context, as_json: bool) -> None:
    """List the documents with counts of highlights and claims."""
    documents = obj.service.documents()
    if as_json:
        emit(documents)
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
@json_option
@pass_context
def search(obj: Context, query: str, limit: int, as_json: bool) -> None:
    """Search passages and notes.

    Words, "phrases", AND/OR/NOT, prefix*, fuzzy~, and fields doc:, tag:, author:, is:claim,
    has:evidence, no:evidence.
    """
    result = obj.service.search(query, limit=limit)
    if result.rebuilt:  # said, so a slow first search is explained
        say(f"(search index rebuilt first: {result.rebuilt})", console=err)
    if result.pending:  # one line on stderr, in either output: stdout stays the data
        say(
            f"({plural(result.pending, 'library change')} still being indexed: not searched yet)",
            console=err,
        )
    if as_json:
        emit(result)
        return
    if not result.hits:
        say(f"no hits for {query}")
        if result.timed_out:
            say("(search stopped after 2 s: partial)", console=err)
        return
    for hit in result.hits:
        where = hit.where
        kind = f" [{hit.role}]" if hit.kind == "annotation" else ""
        say(f"{hit.title} ({where}){kind}", style="bold")
        line = Text("    ")
        snippet = Text(terminal_safe(hit.snippet))
        for start, end in hit.marks:
            snippet.stylize("reverse", start, end)
        line.append_text(snippet)
        out.print(line)
    if result.timed_out:
        say("(search stopped after 2 s: partial, these are the hits found so far)", console=err)


@cli.command()
@json_option
@pass_context
def reindex(obj: Context, as_json: bool) -> None:
    """Rebuild the search index from the library."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    service = obj.service
    with Progress(
        TextColumn("reindexing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("k chars"),
        console=err,
        transient=True,
        disable=as_json or not err.is_terminal,
    ) as bar:
        task = bar.add_task("", total=None)
        indexed = service.rebuild_index(
            progress=lambda d, t: bar.update(task, completed=d, total=t)
        )
    if as_json:
        emit({"rebuilt": True, "documents": indexed})
        return
    say(f"index rebuilt: {indexed} documents")


@cli.command()
@json_option
@pass_context
def check(obj: Context, as_json: bool) -> None:
    """Check the library: integrity, index in step, anchors valid.

    Exits 0 when the library is sound, listing notes to look at (orphaned notes after a new
    version are normal: re-attach or delete them); exits 1 only for damage.
    """
    report = obj.service.check_report()
    if as_json:
        emit(report)
    else:
        for problem in report.damage:
            say(f"damage  {problem}", style="red")
        for note in report.notes:
            say(f"note    {note}")
        if report.sound:
            say(
                "library sound: integrity ok, index in step, anchors valid"
                + (f"; {plural(len(report.notes), 'note')} to look at" if report.notes else "")
            )
    sys.exit(0 if report.sound else 1)


@cli.command()
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_context
def backup(obj: Context, target: Path, as_json: bool) -> None:
    """Write a consistent copy of the library to TARGET (a new file); `margin restore` reads it."""
    obj.service.backup(target)
    if as_json:
        emit({"backup": str(target), "library": str(obj.library_path)})
        return
    say(f"backed up to {target}")


@cli.command()
@json_option
@pass_context
def locate(obj: Context, as_json: bool) -> None:
    """Print where the library, its index and your profile live."""
    if as_json:
        emit(
            {
                "library": str(obj.library_path),
                "index": str(obj.service.index_dir),
                "profile": str(paths.config_dir() / "profile.json"),
            }
        )
        return
    say(f"library  {obj.library_path}")
    say(f"index    {obj.service.index_dir}")
    say(f"profile  {paths.config_dir() / 'profile.json'}")


@cli.command()
@click.argument("name", required=False)
@json_option
@pass_context
def whoami(obj: Context, name: str | None, as_json: bool) -> None:
    """Show your author id and name; with NAME, change the name."""
    author = obj.service.rename(name) if name else obj.service.author
    if as_json:
        emit(author)
        return
    say(f"{author.name} ({author.id})")


@cli.command()
@json_option
@pass_context
def authors(obj: Context, as_json: bool) -> None:
    """The people this profile knows, with their key fingerprints (you first).

    A record claiming one of them must carry their signature, or a merge refuses it; someone
    seen unsigned is taken on first use and shown as unverified.
    """
    known = obj.service.authors()
    if as_json:
        emit(known)
        return
    for person in known:
        say(f"{person.id[:8]}  {person.fingerprint:<40}  {person.name}  ({person.source})")


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
@json_option
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
    annotation = obj.service.annotate_quote(
        document, quote, role="claim" if claim else "highlight", note=note, tags=tags
    )
    if as_json:
        emit(annotation)
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
@json_option
@pass_context
def link(obj: Context, claim: str, evidence: str, relation: str, note: str, as_json: bool) -> None:
    """Link annotation EVIDENCE to annotation CLAIM (ids or id prefixes)."""
    made = obj.service.link(
        obj.service.resolve_annotation(claim).id,
        obj.service.resolve_annotation(evidence).id,
        relation=relation,
        note=note,
    )
    if as_json:
        emit(made)
        return
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
@json_option
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
    service = obj.service
    document_id = service.resolve_document(document).id if document else None
    found = service.claims(
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
        from store.records import to_json

        # Each claim as `to_json` prints it, with how its ground moved since its verdict.
        emit(
            [
                {**to_json(s), "stale": moved[s.claim.id] if s.claim.id in moved else None}
                for s in found
            ]
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
@json_option
@pass_context
def review(obj: Context, claim: str, verdict: str, comment: str, as_json: bool) -> None:
    """Record a VERDICT on CLAIM (kept in its history)."""
    made = obj.service.review(obj.service.resolve_annotation(claim).id, verdict, comment)
    if as_json:
        emit(made)
        return
    say(f"{made.verdict} recorded on claim {made.claim_id[:8]} by {made.reviewer_name}")


@cli.command()
@json_option
@pass_context
def tags(obj: Context, as_json: bool) -> None:
    """List the codebook: every tag with its colour and count."""
    found = obj.service.tags()
    if as_json:
        emit(found)
        return
    for t in found:
        say(f"{t.count:5}  {t.colour}  {t.name}" + (f"  {t.description}" if t.description else ""))


@cli.group()
def tag() -> None:
    """Change the codebook: create, rename, merge, recolour, describe, delete; add to a note."""


@tag.command("rename")
@click.argument("old")
@click.argument("new")
@json_option
@pass_context
def tag_rename(obj: Context, old: str, new: str, as_json: bool) -> None:
    """Rename tag OLD to NEW everywhere."""
    made = obj.service.rename_tag(old, new)
    if as_json:
        emit(made)
        return
    say(f"renamed {old} to {made.name}")


@tag.command("merge")
@click.argument("source")
@click.argument("target")
@json_option
@pass_context
def tag_merge(obj: Context, source: str, target: str, as_json: bool) -> None:
    """Merge tag SOURCE into TARGET (SOURCE goes)."""
    made = obj.service.merge_tags(source, target)
    if as_json:
        emit(made)
        return
    say(
        f"merged {source} into {made.name} ({made.count} annotations)"
        if made.count
        else f"merged {source} into {made.name}"
    )


@tag.command("recolour")
@click.argument("name")
@click.argument("colour")
@json_option
@pass_context
def tag_recolour(obj: Context, name: str, colour: str, as_json: bool) -> None:
    """Give tag NAME a new COLOUR (#rrggbb)."""
    from tui.service import parse_colour

    made = obj.service.update_tag(name, colour=parse_colour(colour))
    if as_json:
        emit(made)
        return
    say(f"{made.name} is now {made.colour}")


@tag.command("delete")
@click.argument("name")
@json_option
@pass_context
def tag_delete(obj: Context, name: str, as_json: bool) -> None:
    """Delete tag NAME from the codebook and from every annotation."""
    count = obj.service.delete_tag(name)
    if as_json:
        emit({"deleted": name, "annotations": count})
        return
    say(f"deleted {name} (it was on {count} annotations)")


@cli.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(EXPORT_FORMATS)),
    default="bundle",
    show_default=True,
    help="bundle: W3C Web Annotation JSON-LD; folder: one file per note, for git; markdown, csv, claimreview (schema.org), qdpx (REFI-QDA project), qdc (REFI-QDA codebook: the tags).",
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
@click.option(
    "--force", is_flag=True, help="Overwrite an existing file, or write into a non-empty folder."
)
@click.option(
    "--publisher-url",
    metavar="URL",
    help="claimreview: your publisher's base URL, remembered for later exports; each review's "
    "url is this followed by the claim's id.",
)
@json_option
@pass_context
def export(
    obj: Context,
    fmt: str,
    out: Path,
    document: str | None,
    tag: str | None,
    claims_only: bool,
    with_sources: bool,
    force: bool,
    publisher_url: str | None,
    as_json: bool,
) -> None:
    """Export notes for a colleague (bundle, folder), for people (markdown, csv) or other tools.

    An existing file, or a folder with files in it, is refused unless --force (a folder bundle
    margin wrote before is updated in place: that is how two people share one in git).
    """
    taken = obj.service.export_target_taken(fmt, out)
    if taken and not force:
        raise Refused(f"{taken}; --force overwrites it")
    lines = obj.service.export_notes(
        fmt,
        out,
        document=document,
        tag=tag,
        claims_only=claims_only,
        with_sources=with_sources,
        publisher_url=publisher_url,
    )
    if as_json:
        emit({"format": fmt, "output": str(out), "report": lines})
        return
    for line in lines:
        say(line)


@cli.command()
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@json_option
@pass_context
def merge(obj: Context, source: Path, as_json: bool) -> None:
    """Merge notes: a colleague's bundle (file or folder), W3C annotations from any tool,
    Hypothesis JSON, Kindle's My Clippings.txt, Readwise CSV, or REFI-QDA (.qdpx, .qde, .qdc).

    The format is told by the content. One transaction; nobody's notes are overwritten (a
    different author's version is kept as a conflict: see `margin conflicts`); notes of other
    tools are placed by their quotes, and books not in the library are listed ("import the book
    first"). Merging the same file twice changes nothing.
    """
    from tui.service import nothing_taken

    report = obj.service.import_report(source)
    lines = report.lines()
    if as_json:
        emit({"source": str(source), "report": lines, **merge_data(report)})
    else:
        for line in lines:
            say(line)
    sys.exit(1 if nothing_taken(report) else 0)


def merge_data(report: ImportReport) -> dict:
    """A merge report's parts for `--json`: what came in, placed where, orphaned, refused."""
    from tui.service import MergeReport

    if isinstance(report, MergeReport):
        return {
            "format": report.format,
            "counts": {k: dict(v) for k, v in report.counts.items()},
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "placed": report.placed,
            "orphaned": report.orphaned,
            "conflicts": len(report.conflicts),
            "refused": report.rejected,
            "missing": report.skipped,
            "notices": report.notices,
        }
    return {
        "format": "REFI-QDA",
        "counts": dict(report.counts),
        "lost": report.lost,
        "refused": report.refused,
    }


@cli.command()
@click.argument("remote", required=False)
@click.option(
    "--init",
    "init",
    metavar="PATH_OR_URL",
    help="Set up the notes repository first: clone this remote (a path or any URL git takes).",
)
@json_option
@pass_context
def sync(obj: Context, remote: str | None, init: str | None, as_json: bool) -> None:
    """Share notes through a git repository: export, commit as you, pull, merge, push.

    REMOTE is a git remote of the notes repository (origin by default). Conflicts are
    margin's, as for `margin merge`: see `margin conflicts`.
    """
    report = obj.service.sync_notes(remote, init=init)
    if as_json:
        emit(report)
        return
    for line in report.lines():
        say(line)


@cli.command()
@click.option(
    "--keep",
    type=click.Choice(["mine", "theirs", "both", "edit"]),
    help="Resolve CONFLICT_ID: mine, theirs, both (both notes under each name, tags united), "
    "or edit (the note given with --note, tags united).",
)
@click.option("--note", help="With --keep edit: the note to keep.")
@click.argument("conflict_id", required=False)
@json_option
@pass_context
def conflicts(
    obj: Context, keep: str | None, note: str | None, conflict_id: str | None, as_json: bool
) -> None:
    """List merge conflicts; with CONFLICT_ID (an id or id prefix) and --keep, resolve one."""
    if conflict_id:
        if keep is None:
            raise Refused("say which version to keep: --keep mine, theirs, both or edit")
        if (keep == "edit") != (note is not None):
            raise Refused("--note goes with --keep edit, and --keep edit needs --note")
        resolved = obj.service.resolve_conflict_ref(conflict_id, keep, note)
        if as_json:
            emit({"resolved": resolved.id, "kept": keep})
            return
        say(f"resolved {resolved.id}: kept {keep}")
        return
    found = obj.service.conflicts()
    if as_json:
        emit(found)
        return
    if not found:
        say(obj.service.conflicts_settled())
    for conflict in found:
        say(f"{conflict.id}  {conflict.line()}")


# -- the app's actions, one command each ----------------------------------------------------


@cli.command()
@click.argument("annotation")
@click.argument("text")
@json_option
@pass_context
def note(obj: Context, annotation: str, text: str, as_json: bool) -> None:
    """Write or replace the note of ANNOTATION (an id or id prefix); "" clears it."""
    made = obj.service.set_note(obj.service.resolve_annotation(annotation).id, text)
    if as_json:
        emit(made)
        return
    say(
        f"note on {made.role} {made.id[:8]}: {made.note}"
        if made.note
        else f"note on {made.id[:8]} cleared"
    )


@cli.command()
@click.argument("annotation", required=False)
@click.option(
    "--doc", "document", metavar="DOC", help="Delete this document and all its notes instead."
)
@json_option
@pass_context
def delete(obj: Context, annotation: str | None, document: str | None, as_json: bool) -> None:
    """Delete ANNOTATION (an id or id prefix), or with --doc a whole document and its notes.

    A deleted annotation is kept as a tombstone, so the deletion travels to colleagues.
    """
    if (annotation is None) == (document is None):
        raise Refused("name one annotation, or one document with --doc")
    if document is not None:
        found = obj.service.resolve_document(document)
        removed = obj.service.delete_document(found.id)
        if as_json:
            emit({"deleted_document": found.id, "title": found.title, "notes": removed})
            return
        say(f"deleted {found.title!r} and its {removed} notes")
        return
    made = obj.service.delete_annotation(obj.service.resolve_annotation(annotation).id)
    if as_json:
        emit(made)
        return
    say(f"deleted {made.role} {made.id[:8]}")


@cli.command()
@click.argument("annotation")
@click.argument("role", type=click.Choice(["claim", "highlight"]))
@json_option
@pass_context
def role(obj: Context, annotation: str, role: str, as_json: bool) -> None:
    """Make ANNOTATION a claim, or a plain highlight again."""
    made = obj.service.set_role(obj.service.resolve_annotation(annotation).id, role)
    if as_json:
        emit(made)
        return
    say(f"{made.id[:8]} is now a {made.role}")


@cli.command()
@click.argument("annotation")
@click.argument("names", nargs=-1, required=True, metavar="TAG...")
@json_option
@pass_context
def untag(obj: Context, annotation: str, names: tuple[str, ...], as_json: bool) -> None:
    """Take TAG off ANNOTATION (the tag stays in the codebook and on other notes)."""
    target = obj.service.resolve_annotation(annotation).id
    for name in names:
        made = obj.service.remove_tag(target, name)
    if as_json:
        emit(made)
        return
    say(f"{made.id[:8]} tags: {', '.join(made.tags) or 'none'}")


@cli.command()
@click.argument("claim")
@click.argument("evidence")
@json_option
@pass_context
def unlink(obj: Context, claim: str, evidence: str, as_json: bool) -> None:
    """Remove the link between CLAIM and EVIDENCE (ids or id prefixes)."""
    made = obj.service.unlink_pair(
        obj.service.resolve_annotation(claim).id, obj.service.resolve_annotation(evidence).id
    )
    if as_json:
        emit(made)
        return
    say(f"unlinked {made.evidence_id[:8]} from claim {made.claim_id[:8]}")


@cli.command()
@click.argument("annotation")
@json_option
@pass_context
def cite(obj: Context, annotation: str, as_json: bool) -> None:
    """Print ANNOTATION's quote with its citation (the reader's `y`)."""
    found = obj.service.resolve_annotation(annotation)
    from store.citation import annotation_citation

    text = annotation_citation(obj.service.document(found.document_id), found)
    if as_json:
        emit({"annotation_id": found.id, "citation": text})
        return
    say(text)


@cli.command()
@click.argument("annotation")
@json_option
@pass_context
def show(obj: Context, annotation: str, as_json: bool) -> None:
    """Show ANNOTATION (an id or id prefix): its quote, note and tags, who made it and who
    last changed it."""
    found = obj.service.resolve_annotation(annotation)
    if as_json:
        emit(found)
        return
    say(f"{found.role} {found.id}: \u201c{found.exact}\u201d")
    if found.note:
        say(f"  note: {found.note}")
    if found.tags:
        say(f"  tags: {', '.join(found.tags)}")
    say(f"  by {found.author_name}, {found.created[:16].replace('T', ' ')} UTC")
    editor = found.editor_name or found.author_name
    say(f"  last changed by {editor}, {found.modified[:16].replace('T', ' ')} UTC")


@tag.command("add")
@click.argument("annotation")
@click.argument("names", nargs=-1, required=True, metavar="TAG...")
@json_option
@pass_context
def tag_add(obj: Context, annotation: str, names: tuple[str, ...], as_json: bool) -> None:
    """Put TAG on ANNOTATION (an id or id prefix); new names join the codebook."""
    found = obj.service.resolve_annotation(annotation)
    made = obj.service.set_tags(found.id, [*found.tags, *(n for n in names if n not in found.tags)])
    if as_json:
        emit(made)
        return
    say(f"{made.id[:8]} tags: {', '.join(made.tags)}")


@tag.command("create")
@click.argument("name")
@click.option("--colour", help="#rrggbb (default: the next colour of the palette).")
@click.option("--description", default="", help="What the tag means.")
@json_option
@pass_context
def tag_create(
    obj: Context, name: str, colour: str | None, description: str, as_json: bool
) -> None:
    """Add tag NAME to the codebook."""
    from tui.service import parse_colour

    made = obj.service.create_tag(
        name, colour=parse_colour(colour) if colour else None, description=description
    )
    if as_json:
        emit(made)
        return
    say(f"{made.name} ({made.colour})")


@tag.command("describe")
@click.argument("name")
@click.argument("description")
@json_option
@pass_context
def tag_describe(obj: Context, name: str, description: str, as_json: bool) -> None:
    """Write tag NAME's DESCRIPTION."""
    made = obj.service.update_tag(name, description=description)
    if as_json:
        emit(made)
        return
    say(f"{made.name}: {made.description}")


@cli.command()
@click.argument("backup_file", metavar="BACKUP", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a library that has changes newer than BACKUP.")
@json_option
@pass_context
def restore(obj: Context, backup_file: Path, force: bool, as_json: bool) -> None:
    """Replace the library with BACKUP (a file `margin backup` wrote).

    Refused when the library has changes newer than the backup, unless --force; the library
    it replaces is kept beside it as LIBRARY.before-restore-TIME.margin either way.
    """
    report = obj.service.restore(backup_file, force=force)
    if as_json:
        emit(report)
        return
    say(report.line())


@cli.command()
@click.argument("document")
@click.argument("title", required=False)
@click.option("--author", help="Who wrote it (an empty value clears it).")
@click.option("--date", "published", help="When it was published: YYYY, YYYY-MM or YYYY-MM-DD.")
@json_option
@pass_context
def retitle(
    obj: Context,
    document: str,
    title: str | None,
    author: str | None,
    published: str | None,
    as_json: bool,
) -> None:
    """Name DOCUMENT (id or part of its title): TITLE, and --author and --date."""
    named = obj.service.retitle(document, title, author=author, published=published)
    if as_json:
        fields = ("id", "title", "author", "published", "source")
        emit({name: getattr(named, name) for name in fields})
        return
    details = ", ".join(v for v in (named.author, named.published) if v)
    say(f"{named.id[:8]}  {named.title}" + (f" ({details})" if details else ""))


# -- reviewers (issue 16) ------------------------------------------------------------------


@cli.command()
@click.argument("claim")
@click.option("--limit", default=10, show_default=True, type=int, help="How many passages.")
@json_option
@pass_context
def suggest(obj: Context, claim: str, limit: int, as_json: bool) -> None:
    """Passages of the library most like CLAIM's words: evidence to check and link."""
    found = obj.service.suggest(obj.service.resolve_annotation(claim).id, limit=limit)
    if found.pending:  # as `search`: one line on stderr, stdout stays the data
        say(
            f"({plural(found.pending, 'library change')} still being indexed: not ranked yet)",
            console=err,
        )
    if as_json:
        emit(found)
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
@json_option
@pass_context
def agreement(obj: Context, tags: bool, as_json: bool) -> None:
    """How far reviewers agree on the claims two or more of them judged."""
    if tags:
        _tag_agreement(obj, as_json)
        return
    report = obj.service.agreement()
    found = report.agreement
    if as_json:
        emit(report)
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
        emit({"names": names, "tags": found})
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
    cli(prog_name="margin")


if __name__ == "__main__":
    main()
