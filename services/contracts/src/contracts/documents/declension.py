"""«в лице Генерального директора Петрова Ивана Сергеевича»: the signatory's position and
name in the genitive, by the pymorphy3 morphology dictionary (OpenCorpora), not hand rules.

A person may still write the phrase themselves (``Signatory.in_person_of``); that wins.
"""

from __future__ import annotations

from functools import cache

import pymorphy3

GENITIVE = frozenset({"gent"})
_NAME_TAGS = ("Surn", "Name", "Patr")


@cache
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


def _keep_case(original: str, inflected: str) -> str:
    if original.isupper() and len(original) > 1:
        return inflected.upper()
    if original[:1].isupper():
        return inflected[:1].upper() + inflected[1:]
    return inflected


def _hyphenated(word: str, inflect_part: object) -> str:
    parts = word.split("-")
    return "-".join(inflect_part(p) for p in parts)  # type: ignore[operator]


def position_genitive(position: str) -> str:
    """«Генеральный директор» → «Генерального директора»; words after the head noun (its
    dependents: «по развитию», «филиала») stay as written."""
    words = position.split()
    out: list[str] = []
    for n, word in enumerate(words):
        parse = _morph().parse(word)[0]
        form = parse.inflect(GENITIVE) if {"ADJF", "PRTF", "NOUN"} & {parse.tag.POS} else None
        out.append(_keep_case(word, form.word) if form is not None else word)
        if parse.tag.POS == "NOUN" or form is None:
            out.extend(words[n + 1:])
            break
    return " ".join(out)


def _name_genitive(word: str, tag: str, gender: str) -> str:
    candidates = [p for p in _morph().parse(word) if tag in p.tag and gender in p.tag]
    candidates = candidates or [p for p in _morph().parse(word) if tag in p.tag]
    if not candidates:  # not in the dictionary: the likeliest noun reading of that gender
        candidates = [p for p in _morph().parse(word)
                      if p.tag.POS == "NOUN" and gender in p.tag] or _morph().parse(word)[:1]
    form = candidates[0].inflect(GENITIVE | {gender}) or candidates[0].inflect(GENITIVE)
    return _keep_case(word, form.word) if form is not None else word


def name_genitive(full_name: str, female: bool = False) -> str:
    """«Петров Иван Сергеевич» → «Петрова Ивана Сергеевича» (surname, name, patronymic)."""
    gender = "femn" if female else "masc"
    words = full_name.split()
    return " ".join(
        _hyphenated(word, lambda part, tag=tag: _name_genitive(part, tag, gender))
        for word, tag in zip(words, _NAME_TAGS, strict=False)) + "".join(
        f" {w}" for w in words[len(_NAME_TAGS):])


def in_person_of(position: str, full_name: str, female: bool = False) -> str:
    """What follows «в лице» in a contract's preamble."""
    return f"{position_genitive(position)} {name_genitive(full_name, female)}"
