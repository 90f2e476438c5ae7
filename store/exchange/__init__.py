"""Exchange notes: W3C Web Annotation bundles (file and folder), safe merge with conflicts,
reports for people (Markdown, CSV, ClaimReview) and REFI-QDA for other tools.

The command line and the app call only the functions re-exported here.
"""

from __future__ import annotations

from .bundle import ExportSummary, export_bundle, export_folder
from .claimreview import export_claimreview
from .conflicts import Conflict, list_conflicts
from .csv_export import export_csv
from .merge import MergeReport, merge, resolve_conflict
from .qdc import export_qdc, import_qdc
from .qdpx import QdpxReport, import_qdpx
from .qdpx_export import export_qdpx
from .report import export_markdown
from .router import merge_any
from .validate import BundleError, Limits

__all__ = [
    "BundleError",
    "Conflict",
    "ExportSummary",
    "Limits",
    "MergeReport",
    "QdpxReport",
    "export_bundle",
    "export_claimreview",
    "export_csv",
    "export_folder",
    "export_markdown",
    "export_qdc",
    "export_qdpx",
    "import_qdc",
    "import_qdpx",
    "list_conflicts",
    "merge",
    "merge_any",
    "resolve_conflict",
]
