"""Regexes built from word lists, shaped so the engine rejects most positions at once.

The vocabulary patterns are searched over every line of every body, and an
alternation of dozens of words makes the engine try each word at each
position.  These builders keep the matched text the same and let it skip:
a lookahead on the possible first letters, a prefix tree, and plain
lower-case words for ASCII text, which needs no IGNORECASE.
"""

from __future__ import annotations

import re


def alternation(words: tuple[str, ...]) -> str:
    """Longest first, so `написала` wins over `написал`.

    The lookahead on the first letters costs one test per position and saves
    trying every word where none can start, which is almost everywhere.
    """
    return f"{_first_letters(words)}(?:{'|'.join(re.escape(w) for w in sorted(words, key=len, reverse=True))})"


def any_word(words: tuple[str, ...]) -> str:
    """The words as a prefix tree, for patterns that are only tested for a match.

    Matches the same text as `alternation`, but at each position the engine
    follows the few words sharing what it has read so far instead of trying
    every word; which word matched may differ, so no group may depend on it.
    """
    return _first_letters(words) + prefix_tree(words)


def prefix_tree(words: tuple[str, ...]) -> str:
    """The words as one pattern in which words that begin alike share that beginning."""
    tree: dict[str, dict] = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _tree_pattern(tree)


def _tree_pattern(node: dict[str, dict]) -> str:
    branches = [re.escape(char) + _tree_pattern(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    pattern = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
    return f"(?:{pattern})?" if "" in node else pattern


def _first_letters(words: tuple[str, ...]) -> str:
    return f"(?=[{''.join(sorted({re.escape(w[0]) for w in words}))}])"


def _ascii_char(char: str) -> str:
    """The lower-case ASCII character `char` matches under IGNORECASE, or "" if none.

    Asked of the regex engine itself: a few non-ASCII letters match ASCII
    ones (dotless ı matches i, long ſ matches s).
    """
    if char.isascii():
        return char.lower()
    pattern = re.compile(re.escape(char), re.IGNORECASE)
    return next((chr(code).lower() for code in range(128) if pattern.fullmatch(chr(code))), "")


def ascii_words(words: tuple[str, ...]) -> tuple[str, ...]:
    """The words as lower-cased ASCII text must contain them to match under IGNORECASE.

    A word with a letter that matches no ASCII character cannot occur in
    ASCII text at all and is left out.
    """
    found = []
    for word in words:
        chars = [_ascii_char(char) for char in word]
        if all(chars):
            found.append("".join(chars))
    return tuple(found)


def guarded(fragments: tuple[str, ...]) -> str:
    """Regex fragments (none with a `|` of its own at the top level) behind a
    lookahead on the letters they open with.

    A fragment that opens with anything but a plain letter (or an optional
    parenthesis before one) is kept inside the lookahead whole, so the
    lookahead lets through every position where some fragment can match.
    """
    letters: set[str] = set()
    others: list[str] = []
    for fragment in fragments:
        word = fragment.removeprefix(r"\(?")
        if word != fragment:
            letters.add(r"\(")
        if (word[:1].isalpha() or word[:1] == "<") and word[1:2] not in ("?", "*", "{"):
            letters.add(re.escape(word[0]))
        else:
            others.append(fragment)
    return f"(?=[{''.join(sorted(letters))}]{''.join('|' + other for other in others)})(?:{'|'.join(fragments)})"
