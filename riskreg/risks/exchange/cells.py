"""Formula neutralisation of one text cell, and its exact reverse.

A spreadsheet treats a cell starting with `=`, `+`, `-` or `@` as a formula, and some
programs strip a leading tab or carriage return and then do the same (CSV injection). On
export a text cell starting with one of those six characters gets one apostrophe in
front, which every spreadsheet shows as text. A text cell that already starts with an
apostrophe gets one too, so that import can always remove exactly one:

    "=1+1"    -> "'=1+1"    -> "=1+1"
    "'quoted" -> "''quoted" -> "'quoted"
    "plain"   -> "plain"    -> "plain"

restore(neutralise(text)) == text for every text. Numbers are never text cells here, so
-3 in a numeric column stays the number -3.
"""

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
APOSTROPHE = "'"


def neutralise(text: str) -> str:
    """The text as a spreadsheet may show it without running it: one apostrophe in front
    of a formula trigger or of an apostrophe."""
    if text.startswith(TRIGGERS) or text.startswith(APOSTROPHE):
        return APOSTROPHE + text
    return text


def restore(text: str) -> str:
    """The reverse of neutralise: drop exactly one leading apostrophe, if there is one."""
    return text[1:] if text.startswith(APOSTROPHE) else text
