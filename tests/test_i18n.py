"""The zh_Hans catalog translates every msgid in the code, keeps its placeholders, and its
compiled .mo is what the .po says. Extraction is the one scripts/update_catalog.py runs."""

from __future__ import annotations

import ast
import importlib.util
import io
import string
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import parse_keywords
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from agentladder.i18n import EXTRACTION_KEYWORDS, translate

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "update_catalog.py"
SRC = ROOT / "src" / "agentladder"
LANGUAGE = "zh_Hans"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("update_catalog", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def extracted(script: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """The msgids as the script finds them today, written to and read back from a temp .pot."""
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    script.write_template(pot)
    with pot.open("rb") as file:
        return read_po(file)


@pytest.fixture(scope="module")
def po(script: ModuleType) -> Catalog:
    with script.po_path(LANGUAGE).open("rb") as file:
        return read_po(file, locale=LANGUAGE)


def _texts(value: str | tuple[str, ...] | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _fields(text: str) -> Counter[str]:
    """The `{named}` placeholders of a str.format template."""
    return Counter(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def _hashable(value: object) -> object:
    # A plural entry's id and string are lists in a catalog read back from the .mo.
    return tuple(value) if isinstance(value, list) else value


def _translations(catalog: Catalog) -> dict[tuple[object, object], object]:
    return {(_hashable(m.id), m.context): _hashable(m.string) for m in catalog if m.id}


def test_extraction_finds_the_marked_strings(extracted: Catalog) -> None:
    msgids = {message.id for message in extracted if message.id}
    assert len(msgids) > 100
    # one of each: template _(), template tr(), N_(), an exception, translate(language, ...)
    assert {
        "Log in",
        "{count} agents",
        "Team lead",
        "agent not found",
        "invalid input in: {fields}",
    } <= msgids


def test_every_msgid_is_translated(script: ModuleType, extracted: Catalog, po: Catalog) -> None:
    problems = []
    for message in extracted:
        if not message.id:
            continue
        entry: Message | None = po.get(message.id, message.context)
        if entry is None:
            problems.append(f"not in the .po: {message.id!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
        elif not entry.string or not all(text.strip() for text in _texts(entry.string)):
            problems.append(f"untranslated: {message.id!r}")
    assert problems == [], (
        "run `python scripts/update_catalog.py`, translate these in "
        f"{script.po_path(LANGUAGE).relative_to(ROOT)}, then run it again:\n" + "\n".join(problems)
    )


def test_translations_keep_the_placeholders(po: Catalog) -> None:
    problems = []
    for message in po:
        if not message.id or not message.string:
            continue
        wanted = _fields(_texts(message.id)[-1])
        for text in _texts(message.string):
            try:
                found = _fields(text)
                text.format(**dict.fromkeys(found, "x"))
            except (ValueError, IndexError, KeyError) as exc:
                problems.append(f"{message.id!r}: {text!r} is not a valid template ({exc})")
                continue
            if found != wanted:
                problems.append(f"{message.id!r}: {text!r} has {dict(found)}, not {dict(wanted)}")
    assert problems == []


def test_compiled_catalog_matches_the_po(script: ModuleType, po: Catalog) -> None:
    buffer = io.BytesIO()
    write_mo(buffer, po, use_fuzzy=False)
    expected = read_mo(io.BytesIO(buffer.getvalue()))
    with script.mo_path(LANGUAGE).open("rb") as file:
        compiled = read_mo(file)
    assert _translations(compiled) == _translations(expected), (
        "messages.mo is stale: run `python scripts/update_catalog.py`"
    )


def test_the_app_loads_the_compiled_catalog() -> None:
    assert translate(LANGUAGE, "Log in") == "登录"
    assert translate(LANGUAGE, "{count} agents", count=7) == "共 7 名座席"
    assert translate("en", "{count} agents", count=7) == "7 agents"


def test_new_marked_strings_are_extracted(script: ModuleType, tmp_path: Path) -> None:
    """What a new template or module would add reaches the catalog (and so the test above)."""
    templates = tmp_path / "newdomain" / "templates" / "newdomain"
    templates.mkdir(parents=True)
    (templates / "page.html").write_text(
        '{% extends "base.html" %}{% block content %}'
        '{{ _("Probe template text") }} {{ tr("Probe {name}", name=user.name) }}'
        "{% endblock %}",
        encoding="utf-8",
    )
    (tmp_path / "newdomain" / "service.py").write_text(
        "def f(language, code):\n"
        '    label = N_("Probe label")\n'
        '    text = translate(language, "Probe translated")\n'
        '    raise InvalidInput("probe {code}", code=code)\n',
        encoding="utf-8",
    )
    msgids = {message.id for message in script.extract(tmp_path)}
    assert {
        "Probe template text",
        "Probe {name}",
        "Probe label",
        "Probe translated",
        "probe {code}",
    } <= msgids


def test_every_domain_error_is_an_extraction_keyword() -> None:
    """A message raised with a DomainError subclass is a msgid; Babel must know the class."""
    bases: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                names = {
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
                }
                bases.setdefault(node.name, set()).update(names)
    errors = {"DomainError"}
    while grown := {name for name, parents in bases.items() if parents & errors} - errors:
        errors |= grown
    assert len(errors) > 5
    assert errors <= set(parse_keywords(EXTRACTION_KEYWORDS))


def test_pybabel_with_babel_cfg_finds_the_same_msgids(
    script: ModuleType, extracted: Catalog, tmp_path: Path
) -> None:
    """The command `update_catalog.py --print-command` shows works and agrees with the script."""
    command = script.pybabel_command()
    output = command.index("-o") + 1
    command[output] = str(tmp_path / "cli.pot")
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", *command[1:]],
        cwd=ROOT,
        check=True,
    )
    with (tmp_path / "cli.pot").open("rb") as file:
        by_cli = {message.id for message in read_po(file) if message.id}
    by_script = {message.id for message in extracted if message.id}
    assert by_cli == by_script
