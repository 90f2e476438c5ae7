"""A shared notes repository on git: `margin sync`.

Teams already run git, so margin uses it rather than a server of its own. The notes travel in
the folder form (one file per record, store.exchange.bundle.export_folder) inside a clone of
the team's repository, kept beside the library (`<library>.notes/`). A sync:

1. fetches the remote (a network failure stops here: nothing changed);
2. exports this library into the clone and commits it as the user;
3. merges the remote branch at the git level, then writes this library's records again over
   the result: a file both sides changed holds this library's version, never a mix of two
   (git would merge a JSON record line by line into a version nobody wrote);
4. pushes; if the remote refuses (someone pushed meanwhile), the clone goes back to where it
   was and the library is untouched: sync again;
5. merges the notes that came in (the remote branch as fetched, each record as its author
   wrote it) into the library with margin's own rules: conflicts are margin's conflicts.

Every git failure is one line (`SyncError`). The library changes only in step 5, in one
transaction, after the push succeeded; the export bookkeeping of step 2 (which version was
sent) is the only thing written before, and it is what an export always writes.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from store.errors import MarginError
from store.library import Library
from store.records import Author

from .bundle import export_folder
from .merge import MergeReport, merge

# The folder inside the repository that holds margin's notes, so a team's repository can hold
# other things beside them.
NOTES_DIR = "margin-notes"
DEFAULT_BRANCH = "main"
# Seconds a git command may take: a remote that does not answer is "offline", not a hang.
GIT_TIMEOUT = 120


class SyncError(MarginError):
    """A sync that could not be done, as one line; the library is unchanged."""


@dataclass
class SyncReport:
    """What a sync did."""

    repository: Path
    remote: str
    branch: str
    committed: bool = False
    pushed: bool = False
    received: MergeReport | None = None
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report, one line per item, for the CLI and the app."""
        head = (
            f"synced with {self.remote} ({self.branch}): "
            + ("committed this library's changes, " if self.committed else "nothing new here, ")
            + ("pushed" if self.pushed else "nothing to push")
        )
        found = [head, *self.notes]
        if self.received is not None:
            found += ["received " + line for line in self.received.lines()[:1]]
            found += self.received.lines()[1:]
        return found

    def to_json(self) -> dict:
        """The report as data."""
        return {
            "repository": str(self.repository),
            "remote": self.remote,
            "branch": self.branch,
            "committed": self.committed,
            "pushed": self.pushed,
            "received": self.received.lines() if self.received is not None else [],
            "notes": self.notes,
        }


def notes_repository(library_path: Path) -> Path:
    """Where a library keeps its clone of the team's notes repository."""
    return library_path.with_name(library_path.stem + ".notes")


def _git_binary() -> str:
    found = shutil.which("git")
    if found is None:
        raise SyncError("git is not installed (or not on PATH): margin sync needs git")
    return found


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    useful = [line for line in lines if line.lower().startswith(("fatal", "error", "!"))]
    return (useful or lines or ["no message"])[-1]


def _git(
    repo: Path | None, *args: str, author: Author | None = None, what: str = ""
) -> subprocess.CompletedProcess[str]:
    command = [_git_binary()]
    if author is not None:
        command += ["-c", f"user.name={author.name}", "-c", f"user.email={author.id}@margin"]
    if repo is not None:
        command += ["-C", str(repo)]
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",  # never wait for a password nobody will type
        "GIT_ASKPASS": "",
        "LC_ALL": "C",  # git's own words, which the error lines quote
    }
    try:
        result = subprocess.run(  # noqa: S603 - a fixed git binary, arguments as a list
            [*command, *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise SyncError(f"git {what or args[0]} took over {GIT_TIMEOUT} s: offline?") from None
    if result.returncode != 0 and what:
        raise SyncError(f"{what}: {_last_line(result.stderr or result.stdout)}")
    return result


def init(library_path: Path, remote_url: str) -> Path:
    """Clone the team's notes repository (a path or any URL git accepts) beside the library."""
    repo = notes_repository(library_path)
    if repo.exists() and any(repo.iterdir()):
        raise SyncError(f"{repo} already exists: margin sync uses it; delete it to start again")
    repo.parent.mkdir(parents=True, exist_ok=True)
    _git(None, "clone", "--quiet", remote_url, str(repo), what=f"git could not clone {remote_url}")
    if _head(repo) is None:  # an empty remote, or one whose HEAD names no branch
        branches = [
            line.strip().removeprefix("origin/")
            for line in _git(repo, "branch", "-r").stdout.splitlines()
            if "->" not in line and line.strip()
        ]
        if branches:
            pick = DEFAULT_BRANCH if DEFAULT_BRANCH in branches else branches[0]
            _git(repo, "checkout", "-q", "-B", pick, f"origin/{pick}", what="git checkout")
        else:
            _git(repo, "symbolic-ref", "HEAD", f"refs/heads/{DEFAULT_BRANCH}", what="git")
    return repo


def _head(repo: Path) -> str | None:
    result = _git(repo, "rev-parse", "--verify", "-q", "HEAD")
    return result.stdout.strip() if result.returncode == 0 else None


def _branch(repo: Path) -> str:
    return _git(repo, "symbolic-ref", "--short", "HEAD", what="git").stdout.strip()


def _remote_ref(repo: Path, remote: str, branch: str) -> str | None:
    ref = f"refs/remotes/{remote}/{branch}"
    result = _git(repo, "rev-parse", "--verify", "-q", ref)
    return result.stdout.strip() if result.returncode == 0 else None


def _commit(repo: Path, author: Author, message: str) -> bool:
    _git(repo, "add", "-A", "--", NOTES_DIR, what="git add")
    if not _git(repo, "status", "--porcelain", "--", NOTES_DIR).stdout.strip():
        return False
    _git(repo, "commit", "-q", "-m", message, author=author, what="git commit")
    return True


def _tree_of(repo: Path, ref: str, into: Path) -> Path | None:
    """The notes folder of a commit, written out under `into` (None when it has none)."""
    archive = subprocess.run(  # noqa: S603
        [_git_binary(), "-C", str(repo), "archive", "--format=tar", ref, "--", NOTES_DIR],
        capture_output=True,
        check=False,
        timeout=GIT_TIMEOUT,
    )
    if archive.returncode != 0:
        return None
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")  # refuses links and paths outside `into`
    found = into / NOTES_DIR
    return found if found.is_dir() else None


def sync(lib: Library, library_path: Path, *, author: Author, remote: str = "origin") -> SyncReport:
    """Export, commit, merge the remote's notes at the git level, push, then merge what came
    in into the library (see the module's docstring). Raises SyncError (one line)."""
    repo = notes_repository(library_path)
    if not (repo / ".git").exists():
        raise SyncError(
            f"no notes repository for this library yet: run margin sync --init PATH_OR_URL "
            f"(it is kept in {repo})"
        )
    branch = _branch(repo)
    report = SyncReport(repository=repo, remote=remote, branch=branch)
    _git(repo, "fetch", "--quiet", remote, what=f"git could not fetch from {remote}")
    theirs = _remote_ref(repo, remote, branch)
    before = _head(repo)
    folder = repo / NOTES_DIR
    try:
        export_folder(lib, folder, with_sources=True)
        report.committed = _commit(repo, author, f"margin notes of {author.name}")
        if theirs is not None:
            _merge(repo, theirs, author)
        if _head(repo) is not None and _head(repo) != theirs:
            _git(
                repo,
                "push",
                "--quiet",
                remote,
                f"HEAD:refs/heads/{branch}",
                what=f"{remote} refused the push (someone pushed meanwhile? sync again)",
            )
            report.pushed = True
    except BaseException:
        _restore(repo, before)
        raise
    if theirs is not None:
        with tempfile.TemporaryDirectory(prefix="margin-sync-") as tmp:
            incoming = _tree_of(repo, theirs, Path(tmp))
            if incoming is not None:
                report.received = merge(lib, incoming, author=author)
    return report


def _changed(repo: Path, base: str | None, commit: str) -> set[str]:
    if base is None:  # unrelated histories: every file of the commit is new to the other side
        listed = _git(repo, "ls-tree", "-r", "--name-only", commit, "--", NOTES_DIR, what="git")
    else:
        listed = _git(repo, "diff", "--name-only", base, commit, "--", NOTES_DIR, what="git")
    return set(listed.stdout.split())


def _merge(repo: Path, theirs: str, author: Author) -> None:
    """Merge the remote branch at the git level, a record at a time: a file only one side
    changed takes that side's version; a file both changed keeps this library's whole (the
    library merge that follows the push decides between the two by margin's rules). git's
    own line merge would splice two versions of a JSON record into one nobody wrote."""
    ours = _head(repo)
    if ours is None:  # nothing here yet: take theirs as it is
        _git(repo, "reset", "-q", "--hard", theirs, what="git reset")
        return
    if _git(repo, "merge-base", "--is-ancestor", theirs, ours).returncode == 0:
        return  # theirs is already in ours
    found = _git(repo, "merge-base", ours, theirs)
    base = found.stdout.strip() if found.returncode == 0 else None
    both = _changed(repo, base, ours) & _changed(repo, base, theirs)
    merged = _git(
        repo, "merge", "--no-edit", "-q", "--allow-unrelated-histories", theirs, author=author
    )
    unmerged = set(_git(repo, "diff", "--name-only", "--diff-filter=U").stdout.split())
    keep = sorted(both | unmerged)
    mine = set(_git(repo, "ls-tree", "-r", "--name-only", ours, "--", *keep).stdout.split())
    for name in keep:
        if name in mine:
            _git(repo, "checkout", ours, "--", name, what="git checkout")
        else:  # deleted here (margin never deletes a file, but a person may): stays deleted
            _git(repo, "rm", "-q", "--cached", "--ignore-unmatch", "--", name, what="git rm")
    _git(repo, "add", "-A", "--", NOTES_DIR, what="git add")
    in_merge = (repo / ".git" / "MERGE_HEAD").exists()
    if in_merge or merged.returncode != 0:
        _git(repo, "commit", "-q", "--no-edit", author=author, what="git commit")
    elif _git(repo, "status", "--porcelain", "--", NOTES_DIR).stdout.strip():
        # git made the merge commit with a line-merged record: this library's goes back.
        _git(repo, "commit", "-q", "-m", f"margin notes of {author.name}", author=author)


def _restore(repo: Path, before: str | None) -> None:
    """Put the clone back where it was before a sync that failed."""
    if before is not None:
        _git(repo, "reset", "-q", "--hard", before)
    else:  # nothing was committed before: back to an unborn branch with no files
        _git(repo, "update-ref", "-d", "HEAD")
        _git(repo, "rm", "-r", "-q", "--cached", "--ignore-unmatch", ".")
    _git(repo, "clean", "-q", "-f", "-d", "--", NOTES_DIR)
