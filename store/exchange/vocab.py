"""margin's JSON-LD vocabulary: the one context every exported bundle carries.

The W3C Web Annotation context names annotations, bodies, targets and selectors; what the model
lacks (document metadata and text hash, tag colours, roles, relations, verdicts, tombstones,
version parents) is written as `margin:<term>` keys, which this context maps into margin's
namespace. The 2016 W3C context file maps `reviewing`, not `assessing` (w3c/web-annotation
#444), so the context maps `assessing` itself.
"""

from __future__ import annotations

import uuid

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
MARGIN_NS = "https://w3id.org/margin/ns#"

# The context of every bundle, folder file and annotation margin writes. Every `margin:` key
# expands through the prefix; three need more than a prefix to keep their meaning when a
# JSON-LD processor expands a bundle: the ends of a link are resources, not strings, and the
# page starts of a PDF are an ordered list, not a set.
CONTEXT: list = [
    ANNO_CONTEXT,
    {
        "assessing": "oa:assessing",
        "margin": MARGIN_NS,
        "margin:claim": {"@type": "@id"},
        "margin:evidence": {"@type": "@id"},
        "margin:pageStarts": {"@container": "@list"},
    },
]

# Bumped when the bundle layout changes in a way an older margin cannot read.
FORMAT_VERSION = 1

# Namespace for ids margin derives (collection ids, REFI code and coding GUIDs).
MARGIN_UUID = uuid.uuid5(uuid.NAMESPACE_URL, MARGIN_NS)


def derived_id(kind: str, *parts: str) -> str:
    """A stable UUID for something margin names but does not store (a code, a coding)."""
    return str(uuid.uuid5(MARGIN_UUID, "/".join((kind, *parts))))


def tag_file_id(name: str) -> str:
    """The file name (a UUID) of a tag in the folder form, the same in every library.

    Derived from the name, so two people who make the same tag write the same file, and two
    who make different tags never touch the same lines: git merges either without a conflict.
    """
    return derived_id("tag", name)
