"""The nine-level pyramid, bottom to top; ids are stable, names are shown."""

from __future__ import annotations

from dataclasses import dataclass

from agentladder.config import Language
from agentladder.i18n import N_


@dataclass(frozen=True)
class Level:
    """One rung of the ladder."""

    id: str
    tier: str
    zh: str
    en: str

    def label(self, language: Language) -> str:
        """The name shown to a reader of the given language."""
        return self.zh if language == "zh_Hans" else self.en


LEVELS: tuple[Level, ...] = (
    Level("basic_fresh", "basic", "初级座席·新手", "Basic Fresh"),
    Level("basic_sophomore", "basic", "初级座席·二级", "Basic Sophomore"),
    Level("basic_junior", "basic", "初级座席·三级", "Basic Junior"),
    Level("basic_senior", "basic", "初级座席·四级", "Basic Senior"),
    Level("potential", "primary", "中级座席·潜力", "Potential Agent"),
    Level("developing", "primary", "中级座席·发展", "Developing Agent"),
    Level("skilled", "primary", "中级座席·熟练", "Skilled Agent"),
    Level("expert", "senior", "高级座席·专家", "Expert Agent"),
    Level("super", "senior", "高级座席·超级", "Super Agent"),
)

TIER_NAMES = {
    "basic": N_("Basic Agent"),
    "primary": N_("Primary Agent"),
    "senior": N_("Senior Agent"),
}
