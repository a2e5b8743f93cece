"""Service quality monitoring: the forms agents' calls are scored on."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from agentladder.quality.schemas import FormSpec

DEFAULT_FORM_PATH = Path(__file__).parent / "default_form.yaml"


@cache
def default_form() -> FormSpec:
    """The bilingual form agentladder ships (the source design's quality items and fatal
    errors); a centre starts from it."""
    return FormSpec.model_validate(yaml.safe_load(DEFAULT_FORM_PATH.read_text(encoding="utf-8")))
