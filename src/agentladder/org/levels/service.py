"""Levels as other code and people name them: by id, by rank, by name in either language."""

from __future__ import annotations

from agentladder.config import Language
from agentladder.errors import InvalidInput
from agentladder.org.schemas import LEVELS, Level

_LEVELS_BY_ID = {level.id: level for level in LEVELS}


def first_level() -> Level:
    """The level every new agent starts at."""
    return LEVELS[0]


def get_level(level_id: str) -> Level:
    """The level with this id, or InvalidInput."""
    try:
        return _LEVELS_BY_ID[level_id]
    except KeyError:
        raise InvalidInput("unknown level {level}", level=level_id) from None


def level_rank(level_id: str) -> int:
    """Position on the ladder, 0 at the bottom."""
    return LEVELS.index(get_level(level_id))


def level_name(level_id: str, language: Language) -> str:
    """A level's name in the reader's language; the id itself for an unknown one."""
    level = _LEVELS_BY_ID.get(level_id)
    return level.label(language) if level else level_id


def parse_level(text: str) -> Level:
    """A level from its id, Chinese or English name, or 1-based rank, as people write it."""
    wanted = text.strip()
    folded = wanted.casefold().replace(" ", "").replace("_", "")
    for index, level in enumerate(LEVELS, start=1):
        names = {level.id, level.en, level.zh, str(index)}
        if wanted in names or folded in {
            n.casefold().replace(" ", "").replace("_", "") for n in names
        }:
            return level
    raise InvalidInput("unknown level {level}", level=wanted)
