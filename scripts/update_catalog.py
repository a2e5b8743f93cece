"""Refresh the translation catalogs: extract the msgids, update each .po, compile each .mo.

    python scripts/update_catalog.py                  # extract, update and compile
    python scripts/update_catalog.py --print-command  # the equivalent `pybabel extract` command

Then translate what it reports as untranslated or fuzzy in
src/agentladder/locale/<language>/LC_MESSAGES/messages.po (delete the `#, fuzzy` line once a
suggested translation is right) and run it again to compile. tests/test_i18n.py fails while any
msgid lacks a translation.

Babel reads the file patterns from babel.cfg and the keywords from
agentladder.i18n.EXTRACTION_KEYWORDS. Files are rewritten only when more than their dates
changed, and locations carry no line numbers, so unrelated edits cause no churn.
"""

from __future__ import annotations

import argparse
import io
import re
import shlex
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = ROOT / "src" / "agentladder"
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from agentladder import __version__  # noqa: E402
from agentladder.i18n import DOMAIN, EXTRACTION_KEYWORDS  # noqa: E402

MAPPING_FILE = ROOT / "babel.cfg"
LOCALE_DIR = SOURCE_DIR / "locale"
TEMPLATE_FILE = LOCALE_DIR / f"{DOMAIN}.pot"
LANGUAGES = ("zh_Hans",)
COMMENT_TAGS = ("Translators:",)

# Msgids the code translates without marking them, so no keyword finds them:
# msgid -> the file that uses it. Better to wrap them in N_() there and drop them here.

# Header lines that change on every run; a file differing only in them is left alone.
_VOLATILE = re.compile(rb'^"(?:POT-Creation-Date|PO-Revision-Date): .*\n', re.MULTILINE)


def po_path(language: str) -> Path:
    """The editable catalog of a language."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    """The compiled catalog of a language, what agentladder.i18n loads."""
    return po_path(language).with_suffix(".mo")


def keywords() -> dict[str, object]:
    """Babel's default keywords plus agentladder's, parsed."""
    return {**DEFAULT_KEYWORDS, **parse_keywords(EXTRACTION_KEYWORDS)}


def extract(source_dir: Path = SOURCE_DIR) -> Catalog:
    """Every msgid in the sources (per babel.cfg and EXTRACTION_KEYWORDS), plus the unmarked."""
    with MAPPING_FILE.open(encoding="utf-8") as mapping:
        method_map, options_map = parse_mapping_cfg(mapping, str(MAPPING_FILE))
    catalog = Catalog(
        project="agentladder",
        version=__version__,
        charset="utf-8",
        header_comment="# Translations template for agentladder.",
        fuzzy=False,
    )
    prefix = SOURCE_DIR.relative_to(ROOT).as_posix()
    for filename, lineno, message, comments, context in extract_from_dir(
        str(source_dir),
        method_map,
        options_map,
        keywords=keywords(),
        comment_tags=COMMENT_TAGS,
        strip_comment_tags=True,
    ):
        location = (f"{prefix}/{Path(filename).as_posix()}", lineno)
        catalog.add(message, None, [location], auto_comments=comments, context=context)
    return catalog


def render_po(catalog: Catalog) -> bytes:
    """A catalog as .po/.pot text, file names but no line numbers, no obsolete entries."""
    buffer = io.BytesIO()
    write_po(buffer, catalog, include_lineno=False, ignore_obsolete=True, width=100)
    return buffer.getvalue()


def differs(path: Path, data: bytes) -> bool:
    """Whether the file is missing or holds something other than `data`, dates aside."""
    return not path.exists() or _VOLATILE.sub(b"", path.read_bytes()) != _VOLATILE.sub(b"", data)


def save(path: Path, data: bytes) -> None:
    """Write the file unless it already holds the same, dates aside."""
    if differs(path, data):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def write_template(path: Path = TEMPLATE_FILE) -> Catalog:
    """Extract and write the .pot; return the template catalog."""
    template = extract()
    save(path, render_po(template))
    return template


def update(template: Catalog, language: str) -> Catalog:
    """Merge the template into a language's .po (creating it if need be); return it as saved."""
    path = po_path(language)
    locale = Locale.parse(language)
    if path.exists():
        with path.open("rb") as file:
            catalog = read_po(file, locale=language)
        catalog.update(template, update_header_comment=False)
    else:
        catalog = Catalog(
            locale=locale,
            project="agentladder",
            version=__version__,
            charset="utf-8",
            header_comment=f"# {locale.english_name} translations for agentladder.",
            fuzzy=False,
        )
        catalog.update(template)
    catalog.last_translator = "agentladder maintainers"
    catalog.language_team = f"{locale.english_name} <{language}>"
    data = render_po(catalog)
    if differs(path, data):
        catalog.revision_date = datetime.now(UTC)
        data = render_po(catalog)
    save(path, data)
    with path.open("rb") as file:
        return read_po(file, locale=language)


def compile_mo(catalog: Catalog, path: Path) -> None:
    """Compile a catalog, leaving out fuzzy and untranslated entries."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    save(path, buffer.getvalue())


def pybabel_command() -> list[str]:
    """The `pybabel extract` call equivalent to the extraction here."""
    command = ["pybabel", "extract", "-F", "babel.cfg", "--no-location"]
    for keyword in EXTRACTION_KEYWORDS:
        command += ["-k", keyword]
    output = TEMPLATE_FILE.relative_to(ROOT).as_posix()
    return [*command, "-o", output, SOURCE_DIR.relative_to(ROOT).as_posix()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--print-command", action="store_true", help="print the pybabel extract command and exit"
    )
    if parser.parse_args(argv).print_command:
        print(shlex.join(pybabel_command()))
        return 0
    template = write_template()
    print(f"{TEMPLATE_FILE.relative_to(ROOT)}: {len(template)} msgids")
    for language in LANGUAGES:
        catalog = update(template, language)
        compile_mo(catalog, mo_path(language))
        messages = [message for message in catalog if message.id]
        missing = [message for message in messages if not message.string or message.fuzzy]
        print(
            f"{po_path(language).relative_to(ROOT)}: "
            f"{len(messages) - len(missing)} of {len(messages)} translated"
        )
        for message in missing:
            state = "fuzzy" if message.fuzzy and message.string else "untranslated"
            print(f"  {state}: {message.id!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
