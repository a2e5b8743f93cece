"""`agentladder knowledge ...`: search the library, rebuild its index, keep the centre's search
vocabulary and the contribution point rules, read the points ledger, import and export items."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
import yaml

from agentladder.cli_output import FormatOption, OutputFormat, console, emit, fail, local_time_text
from agentladder.db import session_scope
from agentladder.errors import DomainError, NotFound
from agentladder.knowledge.items.cli import export_command, import_command, template_command
from agentladder.knowledge.points import service as points_service
from agentladder.knowledge.points.schemas import parse_rules
from agentladder.knowledge.search import service as search_service
from agentladder.knowledge.search.index import Filters
from agentladder.org import service as org_service

knowledge_app = typer.Typer(
    help="The knowledge library (KM系统库): search, import and export, vocabulary, points.",
    no_args_is_help=True,
)
knowledge_app.command("import")(import_command)
knowledge_app.command("export")(export_command)
knowledge_app.command("template")(template_command)

TABLE_SNIPPET_CHARS = 60


class SearchStatus(StrEnum):
    """The statuses `knowledge search --status` takes (the CLI reads as the system: any)."""

    published = "published"
    in_review = "in_review"
    draft = "draft"
    archived = "archived"
    all = "all"


rules_app = typer.Typer(help="Contribution point rules (versioned YAML).", no_args_is_help=True)
knowledge_app.add_typer(rules_app, name="rules")


@knowledge_app.command("search")
def search(
    query: Annotated[str, typer.Argument(help="What to look for, as an agent types it: 光猫红灯.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=100, help="At most this many.")] = 10,
    item_type: Annotated[
        str | None, typer.Option("--type", help="Only this type: article, case, sop, script.")
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", help="Only this category (and below): 宽带/故障.")
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only items with this tag.")] = None,
    product: Annotated[
        str | None, typer.Option("--product", help="Only items for this product.")
    ] = None,
    status: Annotated[
        SearchStatus,
        typer.Option("--status", help="Items of this status (all: every status)."),
    ] = SearchStatus.published,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Search the library (published items unless --status says otherwise); JSON prints
    {"query", "results": [{"id", "title", "type", "score", "snippet"}]} (and "suggestion" when
    the query found little)."""
    filters = Filters(
        type=item_type,
        status=None if status is SearchStatus.all else status.value,
        category=tuple(part for part in (category or "").split("/") if part),
        tag=tag,
        product=product,
    )
    try:
        with session_scope() as session:
            found = search_service.search(
                session=session, query=query, filters=filters, limit=limit, log=False
            )
    except DomainError as error:
        raise fail(error) from error
    response = found.response()
    if fmt is OutputFormat.json:
        print(response.model_dump_json(indent=2, exclude_none=True))
        return
    # A table cell shows the start of the snippet; JSON and CSV carry it whole.
    rows: list[dict[str, object]] = [
        {
            **hit.model_dump(),
            "snippet": hit.snippet
            if fmt is not OutputFormat.table or len(hit.snippet) <= TABLE_SNIPPET_CHARS
            else hit.snippet[:TABLE_SNIPPET_CHARS] + "…",
        }
        for hit in response.results
    ]
    emit(rows, ["id", "type", "score", "title", "snippet"], fmt, f"knowledge: {response.query}")
    if response.suggestion and fmt is OutputFormat.table:
        console.print(f"did you mean: {response.suggestion}")


@knowledge_app.command("reindex")
def reindex() -> None:
    """Rebuild the search index in the data directory from the database."""
    with session_scope() as session:
        count = search_service.rebuild_index(session=session)
        where = search_service.index_directory(session)
    console.print(f"indexed {count} items into {where}")


@knowledge_app.command("vocabulary")
def vocabulary(
    terms: Annotated[
        Path | None,
        typer.Option(
            "--terms",
            exists=True,
            dir_okay=False,
            help="A user dictionary: one term a line (jieba's format: a frequency and tag may "
            "follow it).",
        ),
    ] = None,
    synonyms: Annotated[
        Path | None,
        typer.Option(
            "--synonyms",
            exists=True,
            dir_okay=False,
            help="Synonym groups as YAML: a list of lists, the first word stands for the group.",
        ),
    ] = None,
) -> None:
    """Show the centre's search vocabulary, or replace it from files (the index is rebuilt)."""
    try:
        with session_scope() as session:
            current = search_service.vocabulary(session=session)
            if terms is None and synonyms is None:
                console.print(f"{len(current.terms)} terms, {len(current.synonyms)} synonym groups")
                for group in current.synonyms:
                    console.print(" = ".join(group), highlight=False)
                return
            new_terms = (
                [
                    line.split()[0]
                    for line in terms.read_text(encoding="utf-8-sig").splitlines()
                    if line.strip() and not line.startswith("#")
                ]
                if terms
                else list(current.terms)
            )
            groups = (
                [
                    [str(word) for word in group]
                    for group in yaml.safe_load(synonyms.read_text(encoding="utf-8-sig")) or []
                ]
                if synonyms
                else [list(group) for group in current.synonyms]
            )
            changed = search_service.set_vocabulary(
                session=session, terms=new_terms, synonyms=groups
            )
    except (DomainError, yaml.YAMLError, TypeError) as error:
        if isinstance(error, DomainError):
            raise fail(error) from error
        console.print(f"[red]cannot read the synonyms file: {error}[/red]")
        raise typer.Exit(1) from error
    console.print(
        f"vocabulary: {len(changed.terms)} terms, {len(changed.synonyms)} synonym groups; "
        "index rebuilt"
    )


@rules_app.command("show")
def rules_show() -> None:
    """Print the rules in force (YAML, with its version hash)."""
    with session_scope() as session:
        current = points_service.rules_in_force(session=session)
    console.print(f"# hash {current.content_hash}", highlight=False)
    print(current.yaml_text)


@rules_app.command("validate")
def rules_validate(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Check a rules file without applying it."""
    try:
        parse_rules(file.read_text(encoding="utf-8-sig"))
    except DomainError as error:
        raise fail(error) from error
    console.print(f"{file.name}: valid")


@rules_app.command("apply")
def rules_apply(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    note: Annotated[str, typer.Option("--note", help="Why the rules change.")] = "",
) -> None:
    """Make a rules file the rules in force (points earned before keep their version)."""
    try:
        with session_scope() as session:
            version = points_service.apply_rules(
                session=session, text=file.read_text(encoding="utf-8-sig"), by=None, note=note
            )
            content_hash = version.content_hash
    except DomainError as error:
        raise fail(error) from error
    console.print(f"applied: {file.name} (hash {content_hash[:12]})")


@knowledge_app.command("points")
def points(
    employee_no: Annotated[
        str, typer.Argument(help="The agent's employee number or ACD identity.")
    ],
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """An agent's points ledger, the latest first: what earned each point, under which rules."""
    try:
        with session_scope() as session:
            agent_id = org_service.resolve_identity(session=session, identity=employee_no)
            if agent_id is None:
                raise NotFound("agent not found")
            entries = points_service.ledger(session=session, agent_ids=[agent_id], limit=limit)
    except DomainError as error:
        raise fail(error) from error
    rows: list[dict[str, object]] = [
        {
            "earned_at": local_time_text(entry.earned_at),
            "event": entry.event,
            "points": entry.points,
            "item": entry.item_id,
            "detail": json.dumps(entry.detail, ensure_ascii=False, sort_keys=True),
            "rules": entry.rules_hash[:12],
        }
        for entry in entries
    ]
    emit(rows, ["earned_at", "event", "points", "item", "detail", "rules"], fmt, "knowledge points")
