"""`agentladder knowledge ...` as a script runs it: the search JSON contract, reindex, the
vocabulary from files, the point rules, an agent's ledger."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.orm import Session
from typer.testing import CliRunner

from agentladder.cli import app
from agentladder.config import Settings
from agentladder.knowledge.items import service as items_service
from agentladder.knowledge.points import service as points_service
from tests.knowledge.kb_world import build, case, published
from tests.knowledge.library import LIBRARY

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_search_prints_the_json_contract(session: Session, cli_env: Settings) -> None:
    world = build(session, cli_env)
    item = published(session, world)
    published(
        session,
        world,
        draft=case(title="机顶盒没有信号", situation="电视黑屏", solution="重启机顶盒"),
    )
    session.commit()
    body = json.loads(_run("knowledge", "search", "光猫 红灯", "--format", "json", "--limit", "5"))
    assert body["query"] == "光猫 红灯"
    assert next(hit["id"] for hit in body["results"]) == item.id
    first = body["results"][0]
    assert list(first) == ["id", "title", "type", "score", "snippet"]
    assert (first["type"], first["title"]) == ("case", "光猫红灯闪烁怎么处理")
    assert isinstance(first["score"], float)
    assert first["snippet"]
    assert "suggestion" not in body or body["suggestion"]
    nothing = json.loads(_run("knowledge", "search", "国际漫游", "--format", "json"))
    assert nothing["results"] == []
    # The table names what was searched.
    assert "光猫红灯闪烁怎么处理" in _run("knowledge", "search", "光猫")


def test_reindex_rebuilds_from_the_database(session: Session, cli_env: Settings) -> None:
    world = build(session, cli_env)
    published(session, world)
    session.commit()
    index = cli_env.data_dir / "knowledge-index"
    assert "indexed 1 items" in _run("knowledge", "reindex")
    assert (index / "vocabulary.json").exists()
    # A lost index is rebuilt by the next search, and by reindex.
    for path in sorted(index.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    assert json.loads(_run("knowledge", "search", "光猫", "--format", "json"))["results"]


def test_vocabulary_from_files_changes_what_is_found(
    session: Session, cli_env: Settings, tmp_path: Path
) -> None:
    world = build(session, cli_env)
    item = published(
        session,
        world,
        draft=case(
            title="网络断了怎么办", situation="客户说网络断了", solution="重启路由器", tags=["故障"]
        ),
    )
    session.commit()

    def score() -> float:
        found = json.loads(_run("knowledge", "search", "宽带", "--format", "json"))["results"]
        return sum(hit["score"] for hit in found if hit["id"] == item.id)

    before = score()
    synonyms = tmp_path / "synonyms.yaml"
    synonyms.write_text("- [宽带, 网络]\n", encoding="utf-8")
    terms = str(LIBRARY / "userdict.txt")
    _run("knowledge", "vocabulary", "--synonyms", str(synonyms), "--terms", terms)
    # 宽带 now means 网络, which the title, situation and tag say: a strong match, not a faint one.
    assert score() > 2 * before
    assert "宽带 = 网络" in _run("knowledge", "vocabulary")


def test_rules_validate_apply_show(cli_env: Settings, tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        points_service.default_rules_text().replace("adopted: 20", "adopted: 30"), encoding="utf-8"
    )
    assert "valid" in _run("knowledge", "rules", "validate", str(rules))
    assert "applied" in _run("knowledge", "rules", "apply", str(rules), "--note", "更看重采纳")
    assert "adopted: 30" in _run("knowledge", "rules", "show")
    bad = tmp_path / "bad.yaml"
    bad.write_text("adopted: many\n", encoding="utf-8")
    result = runner.invoke(app, ["knowledge", "rules", "validate", str(bad)])
    assert result.exit_code != 0
    assert "adopted" in result.output


def test_points_prints_an_agents_ledger(session: Session, cli_env: Settings) -> None:
    world = build(session, cli_env)
    published(session, world, grade=5)
    session.commit()
    rows = json.loads(
        _run("knowledge", "points", world.agents["a1"].employee_no, "--format", "json")
    )
    assert sorted((row["event"], row["points"]) for row in rows) == [
        ("publish", 10),
        ("review_grade", 5),
    ]
    assert runner.invoke(app, ["knowledge", "points", "nobody"]).exit_code != 0


def test_search_by_status(session: Session, cli_env: Settings) -> None:
    world = build(session, cli_env)
    draft = items_service.create_item(session=session, draft=case(), by=world.users["a1"])
    session.commit()
    assert json.loads(_run("knowledge", "search", "光猫", "--format", "json"))["results"] == []
    found = json.loads(_run("knowledge", "search", "光猫", "--status", "draft", "--format", "json"))
    assert [hit["id"] for hit in found["results"]] == [draft.id]
    every = json.loads(_run("knowledge", "search", "光猫", "--status", "all", "--format", "json"))
    assert [hit["id"] for hit in every["results"]] == [draft.id]
