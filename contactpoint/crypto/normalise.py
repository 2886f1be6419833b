"""Text normalisation applied before a value is blind-indexed.

Two spellings a person would call the same name must produce the same index
input: Climbié = Climbie, O'Brien = OBrien = O’Brien, "smith  jones" =
"Smith Jones". Hyphens and spaces separate name parts (Smith-Jones has the
parts "smith" and "jones", and also the joined form "smithjones").
"""

import re
import unicodedata
from functools import lru_cache

_APOSTROPHES = "'\u2019\u2018\u02bc\u0060\u00b4"
_SEPARATORS = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014_.,/]+")
_NOT_LETTER_OR_DIGIT = re.compile(r"[^0-9a-z ]")
# Letters that NFKD does not decompose into a base letter plus a mark.
_FOLDS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "ø": "o",
        "œ": "oe",
        "đ": "d",
        "ł": "l",
        "þ": "th",
        "ð": "d",
        "ı": "i",
    }
)


@lru_cache(maxsize=1 << 16)
def fold(text: str) -> str:
    """NFKC, case-fold, fold diacritics, drop apostrophes, single spaces.

    Returns only ASCII letters, digits and single spaces. Cached: the same
    names are folded again and again when a search scores its candidates.
    """
    for mark in _APOSTROPHES:  # before NFKC, which turns U+00B4 into space + accent
        text = text.replace(mark, "")
    text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLDS)
    text = "".join(
        ch
        for ch in unicodedata.normalize("NFKD", text)
        if not unicodedata.combining(ch)
    )
    for mark in _APOSTROPHES:
        text = text.replace(mark, "")
    text = _SEPARATORS.sub(" ", text)
    return " ".join(_NOT_LETTER_OR_DIGIT.sub("", text).split())


def name_parts(name: str) -> list[str]:
    """The parts of a name after folding, plus the joined form when there are
    several: "Smith-Jones" -> ["smith", "jones", "smithjones"]."""
    parts = [p for p in fold(name).split(" ") if p]
    if len(parts) > 1:
        parts.append("".join(parts))
    return list(dict.fromkeys(parts))


def compact(text: str) -> str:
    """Folded with no spaces at all: identifiers and postcodes."""
    return fold(text).replace(" ", "")
