"""World text made safe for a terminal: control characters shown, never obeyed.

A world's strings (scenario name and description, captions, handles, bot names,
device names ...) come from files a person may not have written, and a terminal
obeys what it is sent: ``\\x1b]0;PWNED\\x07`` retitles it, ``\\x1b[2J`` clears it,
an 8-bit CSI (``\\x9b``) does the same on some terminals, a bidi override reorders
what is shown. :func:`printable` writes every such character as a visible escape
(``\\x1b``, ``\\u202e``), so the text reads as what it is and does nothing.

Pure Python, no imports of the program: the CLI and the Textual widgets both use it.
"""

from __future__ import annotations

#: bidi embeddings, overrides and isolates: they reorder how the rest is shown
_BIDI = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))

#: code point -> its escape: C0 controls, DEL, C1 controls, bidi controls, the
#: line and paragraph separators (\n and \t are kept by :func:`printable`)
_ESCAPES: dict[int, str] = {
    cp: (f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}")
    for cp in (*range(0x20), *range(0x7F, 0xA0), *_BIDI, 0x2028, 0x2029)
}
_MULTILINE = {cp: s for cp, s in _ESCAPES.items() if cp not in (0x0A, 0x09)}
_ONE_LINE = {cp: s for cp, s in _ESCAPES.items() if cp != 0x09}

#: the same characters as JSON escapes (json.dumps with ensure_ascii=False writes
#: DEL, C1 and bidi controls raw; ``\\u009b`` parses back to the same string)
_JSON = {cp: f"\\u{cp:04x}" for cp in (*range(0x7F, 0xA0), *_BIDI, 0x2028, 0x2029)}


def printable(text: object, *, one_line: bool = False) -> str:
    """``text`` with its control characters written as visible escapes.

    Newline and tab are kept (``one_line=True`` escapes newlines too, for a value
    shown inside one line: a name, a caption). Everything else printable, emoji and
    any script included, passes unchanged.
    """
    s = text if isinstance(text, str) else str(text)
    return s.translate(_ONE_LINE if one_line else _MULTILINE)


def json_safe(dumped: str) -> str:
    """JSON text (from ``json.dumps(..., ensure_ascii=False)``) with the control
    characters that encoder leaves raw turned into ``\\uXXXX`` escapes: the same
    JSON value, nothing a terminal would obey."""
    return dumped.translate(_JSON)


def clip(text: object, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (for echoing a person's
    input back in a message: a 5,000-character value is not worth repeating)."""
    s = text if isinstance(text, str) else str(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"
