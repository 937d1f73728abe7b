"""Text from a host or an AWS tag, made safe to show on the operator's terminal.

A terminal acts on what it is sent: ESC starts sequences that can set the clipboard (OSC 52),
rewrite the screen or the title; C1 controls such as U+009B are CSI on their own; a newline or
a carriage return can fake a line; bidi controls (U+202E) reorder what is shown. Anyone who may
tag the project's resources or runs code on a host writes such text, so every view prints it
through `printable`.
"""

from __future__ import annotations


def printable(text: object) -> str:
    """`text` with each character Python does not call printable (C0 and C1 controls, DEL, bidi and other
    format characters, line separators, lone surrogates) shown as its escape, as repr writes it: ESC as
    `\\x1b`, U+202E as `\\u202e`, a newline as `\\n`. Printable text, backslashes included, is left as it is."""
    value = str(text)
    if value.isprintable():
        return value
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)
