"""How names sort: by family name, titles and degrees ignored. Plain Python, no Flask.

"Dr. Miguel Santos" sorts as "santos miguel", "Santos, Miguel" the same, and "Amara Okafor MD"
as "okafor amara". The family name is the last word of the name (or what precedes a comma);
lower-case particles before it ("van", "de", "da", "al") join it, so "Anna van Dijk" sorts
under "van dijk". A name written family name first without a comma cannot be told apart,
and sorts by its last word like the rest; the roster's own order is never lost, only the list.
"""

from __future__ import annotations

import unicodedata

TITLES = frozenset(
    {
        "dr",
        "doctor",
        "prof",
        "professor",
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "rev",
        "sir",
        "dame",
        "sr",
        "sra",
        "srta",
    }
)
SUFFIXES = frozenset(
    {
        "jr",
        "sr",
        "ii",
        "iii",
        "iv",
        "md",
        "do",
        "phd",
        "mbbs",
        "mbchb",
        "bsc",
        "msc",
        "mph",
        "ms",
        "ma",
        "mba",
        "rn",
        "np",
        "pa",
        "pa-c",
        "dnp",
        "facp",
        "facs",
        "frcp",
        "frcs",
        "frcpc",
        "dds",
        "dmd",
        "pharmd",
        "edd",
        "jd",
        "mhpe",
        "mhs",
    }
)
PARTICLES = frozenset(
    {
        "van",
        "von",
        "der",
        "den",
        "de",
        "del",
        "della",
        "da",
        "das",
        "dos",
        "du",
        "le",
        "la",
        "al",
        "el",
        "bin",
        "ibn",
        "ter",
    }
)


def _plain(word: str) -> str:
    return word.strip(".,").casefold()


def sort_name(name: str) -> str:
    """The key a list of people sorts by: family name, then given names, casefolded and with
    accents folded (so "Émile" sorts with "Emile")."""
    # Comma-separated parts that are only degrees ("Okafor, MD, PhD") are not names.
    parts = [
        p
        for p in name.split(",")
        if p.split() and not all(_plain(w) in SUFFIXES for w in p.split())
    ]
    if len(parts) >= 2:  # "Santos, Miguel"
        family_words = [w for w in parts[0].split() if _plain(w) not in TITLES]
        given_words = [w for w in parts[1].split() if _plain(w) not in TITLES | SUFFIXES]
    else:
        words = [w for w in " ".join(parts).split() if _plain(w) not in TITLES]
        while len(words) > 1 and _plain(words[-1]) in SUFFIXES:
            words.pop()
        cut = len(words) - 1
        while cut > 1 and _plain(words[cut - 1]) in PARTICLES and words[cut - 1].islower():
            cut -= 1
        family_words, given_words = words[cut:], words[:cut]
    key = " ".join(w.strip(".,") for w in family_words + given_words) or name
    return fold(key)[:200]


def fold(text: str) -> str:
    """Case and accents folded, so "José" and "jose" compare equal (searching a sort name)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in folded if not unicodedata.combining(c))
