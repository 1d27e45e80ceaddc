"""Untrusted text (from articles, file names or the URL) made literal for Streamlit elements.

HTML goes through html.escape where it is built; this module covers the elements
that render Markdown (labels, captions, headers, notices), where an article string
could otherwise carry a link, $LaTeX$, an image or a :color[...] directive.
"""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|$~<>:=])")


def md_escape(text: object) -> str:
    """The text with a backslash before every Markdown special character."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))
