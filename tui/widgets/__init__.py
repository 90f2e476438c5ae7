"""margin's own widgets."""

from tui.widgets.annotation_list import AnnotationList
from tui.widgets.reader_view import ReaderView, Span
from tui.widgets.wrapped_text import WrappedText

__all__ = ["AnnotationList", "ReaderView", "Span", "WrappedText"]
