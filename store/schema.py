"""The library's tables, as SQL: the single description of the schema (see docs/schema.md).

Migrations in `store.migrations` bring an older file up to `SCHEMA_VERSION`; a new library is
created by running them all, so a fresh file and a migrated one cannot differ.
"""

from __future__ import annotations

ROLES = ("highlight", "claim")
ANCHOR_STATES = ("ok", "moved", "orphaned")
RELATIONS = ("supports", "contradicts", "context")
VERDICTS = ("supported", "partly-supported", "unsupported", "contradicted", "needs-evidence")
ENTITIES = ("document", "annotation", "tag", "link", "review")
# What notes export to; here, beside the other names, so the command line can offer them
# without importing the exporters.
EXPORT_FORMATS = ("bundle", "folder", "markdown", "csv", "claimreview", "qdpx", "qdc")

# Version 1: the data model of DESIGN.md.
V1 = """
CREATE TABLE documents (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    author TEXT,
    published TEXT,
    source TEXT,
    format TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    length INTEGER NOT NULL,
    page_starts TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',
    imported_at TEXT NOT NULL
);
CREATE INDEX documents_source ON documents(source);

CREATE TABLE annotations (
    id TEXT PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    start INTEGER NOT NULL CHECK (start >= 0),
    "end" INTEGER NOT NULL CHECK ("end" >= start),
    exact TEXT NOT NULL,
    prefix TEXT NOT NULL DEFAULT '',
    suffix TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL CHECK (role IN ('highlight', 'claim')),
    note TEXT NOT NULL DEFAULT '',
    author_id TEXT NOT NULL,
    author_name TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    anchor_state TEXT NOT NULL DEFAULT 'ok' CHECK (anchor_state IN ('ok', 'moved', 'orphaned')),
    anchor_step TEXT NOT NULL DEFAULT 'position'
);
CREATE INDEX annotations_document ON annotations(document_id, start);

CREATE TABLE tags (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    colour TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created TEXT NOT NULL
);

CREATE TABLE annotation_tags (
    annotation_id TEXT NOT NULL REFERENCES annotations(id) ON DELETE CASCADE,
    tag_id TEXT NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    PRIMARY KEY (annotation_id, tag_id)
);
CREATE INDEX annotation_tags_tag ON annotation_tags(tag_id);

CREATE TABLE links (
    id TEXT PRIMARY KEY,
    claim_id TEXT NOT NULL REFERENCES annotations(id) ON DELETE CASCADE,
    evidence_id TEXT NOT NULL REFERENCES annotations(id) ON DELETE CASCADE,
    relation TEXT NOT NULL CHECK (relation IN ('supports', 'contradicts', 'context')),
    note TEXT NOT NULL DEFAULT '',
    author_id TEXT NOT NULL,
    author_name TEXT NOT NULL,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);
CREATE INDEX links_claim ON links(claim_id);
CREATE INDEX links_evidence ON links(evidence_id);

CREATE TABLE reviews (
    id TEXT PRIMARY KEY,
    claim_id TEXT NOT NULL REFERENCES annotations(id) ON DELETE CASCADE,
    verdict TEXT NOT NULL CHECK (verdict IN
        ('supported', 'partly-supported', 'unsupported', 'contradicted', 'needs-evidence')),
    comment TEXT NOT NULL DEFAULT '',
    reviewer_id TEXT NOT NULL,
    reviewer_name TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE INDEX reviews_claim ON reviews(claim_id, created);

CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    id TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete'))
);
"""

# Version 2: document versions, so a re-imported document keeps the hashes of its old texts.
V2 = """
CREATE TABLE document_versions (
    document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL,
    text_length INTEGER NOT NULL,
    replaced_at TEXT NOT NULL,
    PRIMARY KEY (document_id, sha256)
);
"""

# Version 3: what merging needs to keep people's notes apart. Conflicts wait here for a
# decision; versions and bases remember which version of each note each side has seen, so an
# edit made on both sides since the last exchange is a conflict, not an overwrite; imports
# and history keep the provenance of every merge and the rows it replaced.
V3 = """
CREATE TABLE IF NOT EXISTS exchange_conflicts (
    id TEXT PRIMARY KEY,
    entity TEXT NOT NULL CHECK (entity IN ('annotation', 'link')),
    record_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    mine TEXT NOT NULL,
    theirs TEXT NOT NULL,
    theirs_version TEXT NOT NULL,
    source TEXT NOT NULL,
    detected TEXT NOT NULL,
    resolved TEXT,
    resolution TEXT CHECK (resolution IN ('mine', 'theirs')),
    UNIQUE (entity, record_id, theirs_version)
);
CREATE INDEX IF NOT EXISTS exchange_conflicts_open ON exchange_conflicts(resolved, detected);
CREATE TABLE IF NOT EXISTS exchange_versions (
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    version TEXT NOT NULL,
    parent TEXT,
    seen TEXT NOT NULL,
    PRIMARY KEY (entity, record_id, version)
);
CREATE TABLE IF NOT EXISTS exchange_base (
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    version TEXT NOT NULL,
    parent TEXT,
    PRIMARY KEY (entity, record_id)
);
CREATE TABLE IF NOT EXISTS exchange_imports (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    sha256 TEXT,
    imported_at TEXT NOT NULL,
    importer_id TEXT NOT NULL,
    importer_name TEXT NOT NULL,
    summary TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS exchange_history (
    import_id TEXT NOT NULL,
    entity TEXT NOT NULL,
    record_id TEXT NOT NULL,
    previous TEXT NOT NULL,
    replaced_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS exchange_history_record ON exchange_history(entity, record_id)
"""

V4 = """
CREATE TABLE IF NOT EXISTS tag_aliases (
    old TEXT PRIMARY KEY,
    new TEXT
)
"""

# Version 5: what each verdict judged. The claim's quote and anchor state and the evidence
# links (link id -> the evidence's anchor state) at the moment of the verdict, so the board can
# say when the ground moved since. Verdicts older than this version get the ground as it stands
# when the file is migrated: the best that is known of what they judged.
V5 = """
CREATE TABLE IF NOT EXISTS review_grounds (
    review_id TEXT PRIMARY KEY REFERENCES reviews(id) ON DELETE CASCADE,
    quote TEXT NOT NULL,
    claim_state TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '{}',
    recorded TEXT NOT NULL
);
INSERT OR IGNORE INTO review_grounds (review_id, quote, claim_state, evidence, recorded)
SELECT r.id, a.exact, a.anchor_state,
  (SELECT json_group_object(l.id, e.anchor_state) FROM links l
     JOIN annotations e ON e.id = l.evidence_id
     WHERE l.claim_id = r.claim_id AND NOT l.deleted AND NOT e.deleted),
  strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM reviews r JOIN annotations a ON a.id = r.claim_id
"""
