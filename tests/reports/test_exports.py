"""Every ladder report in every format: the PDF embeds its Chinese font and reads back with
the names in it, the XLSX holds numbers as numbers, the HTML stands alone and escapes what
people typed."""

from __future__ import annotations

import base64
import csv
import io
import random
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy.orm import Session

from agentladder.ladder.decisions import service as decisions_service
from agentladder.ladder.documents import service as documents_service
from agentladder.ladder.policy import service as policy_service
from agentladder.org import service as org_service
from agentladder.org.schemas import LEVELS
from agentladder.periods import parse_period
from agentladder.reports import service as reports_service
from agentladder.reports.schemas import Column, Document, Section
from tests.factories import make_agent, make_skill_group, make_team
from tests.ladder.builders import HIRED, give, policy_text
from tests.reports.conftest import pdf_text
from tests.reports.situation import APPEAL_TEXT, SCRIPT_NAME, Centre

EVERYONE = org_service.AgentScope.everyone_scope()
TODAY = date(2026, 11, 15)
A4_POINTS = {(595, 842), (842, 595)}

Build = Callable[[Session, str], Document]
BUILDS: dict[str, Build] = {
    "scorecard": lambda session, language: documents_service.scorecard_document(
        session=session,
        employee_no="100003",
        language=language,  # type: ignore[arg-type]
        scope=EVERYONE,
    ),
    "team": lambda session, language: documents_service.team_document(
        session=session,
        language=language,  # type: ignore[arg-type]
        scope=EVERYONE,
        today=TODAY,
    ),
    "promotions": lambda session, language: documents_service.promotions_document(
        session=session,
        language=language,  # type: ignore[arg-type]
    ),
}


@pytest.mark.parametrize("fmt", ["xlsx", "pdf", "html"])
@pytest.mark.parametrize("kind", list(BUILDS))
def test_each_report_in_each_format(session: Session, centre: Centre, kind: str, fmt: str) -> None:
    document = BUILDS[kind](session, "zh_Hans")
    data = reports_service.render_document(document, fmt)
    if fmt == "pdf":
        reader = PdfReader(io.BytesIO(data))
        assert len(reader.pages) >= 1
        box = reader.pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) in A4_POINTS
        assert document.title in pdf_text(data)[0]
    elif fmt == "xlsx":
        workbook = load_workbook(io.BytesIO(data))
        assert len(workbook.sheetnames) == len(document.sections)
        assert workbook.properties.title == document.title
    else:
        page = data.decode("utf-8")
        assert page.startswith("<!DOCTYPE html>")
        for section in document.sections:
            assert f'<section id="{section.key}">' in page


def test_pdf_embeds_the_chinese_font_and_reads_back(session: Session, centre: Centre) -> None:
    data = reports_service.render_document(BUILDS["team"](session, "zh_Hans"), "pdf")
    reader = PdfReader(io.BytesIO(data))
    fonts = {
        str(font.get_object()["/BaseFont"]): font.get_object()
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    [(name, font)] = fonts.items()
    assert re.fullmatch(r"/[A-Z]{6}\+NotoSansCJKSC", name)  # a subset, tagged as such
    descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    embedded = descriptor["/FontFile3"].get_object()
    assert 1_000 < len(embedded.get_data()) < 300_000  # the glyphs used, not the 19 MB font
    text = "\n".join(pdf_text(data))
    for words in (
        "初级座席·三级",
        "初级座席·二级",
        "高级座席·超级",
        "王芳",
        "赵敏",
        "刘洋",
        "李强",
    ):
        assert words in text
    # Typed text is printed as it is (here wrapped in its narrow column), never interpreted.
    assert SCRIPT_NAME in "".join(text.split())


def test_xlsx_cells_hold_numbers(session: Session, centre: Centre) -> None:
    document = BUILDS["promotions"](session, "en")
    workbook = load_workbook(io.BytesIO(reports_service.render_document(document, "xlsx")))
    sheet = workbook["Fairness table"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    header = [cell.value for cell in sheet[1]]
    assert header[:5] == ["Dimension", "Group", "Agents", "Promoted", "Promotion rate"]
    rows = {(row[0].value, row[1].value): row for row in sheet.iter_rows(min_row=2) if row[0].value}
    t01 = rows["Team", "T01"]
    assert [cell.value for cell in t01[2:5]] == [2, 1, 0.5]
    assert t01[4].number_format == "0.0%"
    assert t01[2].number_format == "#,##0"
    t02 = rows["Team", "T02"]
    assert t02[6].value == pytest.approx(1 / 3)
    moves = workbook["Promotions and demotions"]
    assert [moves.cell(row=r, column=1).value for r in (2, 3)] == ["100001", "100003"]
    assert moves.cell(row=2, column=7).value == pytest.approx(80.0)
    assert moves.cell(row=2, column=7).number_format == "#,##0.0"

    scorecard = load_workbook(
        io.BytesIO(reports_service.render_document(BUILDS["scorecard"](session, "en"), "xlsx"))
    )
    evidence = scorecard["Evidence 2026-10"]
    assert [evidence.cell(row=r, column=7).value for r in (2, 3)] == [120, 6]  # sample sizes
    assert evidence.cell(row=2, column=6).value == pytest.approx(0.4)
    assert evidence.cell(row=2, column=6).number_format == "0.0%"
    summary = scorecard["Summary"]
    values = {
        summary.cell(row=r, column=1).value: summary.cell(row=r, column=2) for r in range(2, 17)
    }
    assert values["Composite score"].value == pytest.approx(40.0)
    assert values["Decision"].value == "Demote"
    team = load_workbook(
        io.BytesIO(reports_service.render_document(BUILDS["team"](session, "zh_Hans"), "xlsx"))
    )
    pyramid = team["级别金字塔"]
    assert [pyramid.cell(row=r, column=3).value for r in range(2, 11)] == [
        0,
        0,
        0,
        0,
        0,
        0,
        2,
        1,
        2,
    ]
    assert len(pyramid._charts) == 1


def test_html_stands_alone_and_escapes_what_people_typed(session: Session, centre: Centre) -> None:
    for kind in ("team", "promotions"):
        page = reports_service.render_document(BUILDS[kind](session, "zh_Hans"), "html").decode()
        assert "<script" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page or kind == "promotions"
        assert "&lt;b&gt;不服&lt;/b&gt;" in page or kind == "team"
        assert APPEAL_TEXT not in page
        # No external resources: styles inline, charts SVG images in data URLs, nothing fetched.
        assert not re.search(r"<link|<script|@import|url\(", page)
        images = _chart_images(page)
        assert re.findall(r"src=", page) == ["src="] * len(images)
        assert "<style>" in page
        # Pyramid, distribution and the two teams compared.
        assert len(images) == (3 if kind == "team" else 0)
        if kind == "team":
            assert "高级座席·超级" in images[0]  # the pyramid's top level
            assert "客服" not in images[2]
            assert "T01" in images[2]
    scorecard = reports_service.render_document(BUILDS["scorecard"](session, "en"), "html")
    assert b'<html lang="en">' in scorecard
    assert b"Agent scorecard" in scorecard
    [trend] = _chart_images(scorecard.decode())  # a demotion waiting: no progress chart
    assert "Next level needs" in trend
    assert "Composite score" in trend


def _chart_images(page: str) -> list[str]:
    """The SVG documents of a standalone page's chart images."""
    found = re.findall(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', page)
    return [base64.b64decode(data).decode("utf-8") for data in found]


def test_english_reports_use_english_names(session: Session, centre: Centre) -> None:
    text = "\n".join(
        pdf_text(reports_service.render_document(BUILDS["promotions"](session, "en"), "pdf"))
    )
    assert "Promotion list · 2026-10" in text
    assert "Basic Sophomore" in text
    assert "Fairness table" in text
    assert "初级座席" not in text


def test_a_centre_of_120_agents(session: Session) -> None:
    """The team dashboard of 120 agents: a few A4 pages, every table page with its header."""
    rng = random.Random(7)
    levels = [level.id for level in LEVELS]
    for number in range(1, 7):
        make_team(session, f"T{number:02d}", f"客服{number}组")
    make_skill_group(session, "general", "普通话热线")
    agents = [
        make_agent(
            session,
            employee_no=str(100001 + i),
            name=f"座席{i:03d}",
            hire_date=HIRED,
            team_code=f"T{i % 6 + 1:02d}",
            skill_group_codes=["general"],
            level=levels[min(i // 20, 6)],
        )
        for i in range(120)
    ]
    policy = policy_service.load_policy_text(session=session, text=policy_text(approval="manager"))
    for period in ("2026-08", "2026-09", "2026-10"):
        for agent in agents:
            give(
                session, agent, period, score=rng.uniform(40, 95), qa_evaluations=rng.choice([5, 8])
            )
        decisions_service.run_period(session=session, period=parse_period(period), policy=policy)
    started = time.perf_counter()
    document = BUILDS["team"](session, "zh_Hans")
    data = reports_service.render_document(document, "pdf")
    seconds = time.perf_counter() - started
    pages = pdf_text(data)
    print(
        f"team dashboard PDF, 120 agents: {len(data):,} bytes, {len(pages)} pages, {seconds:.2f} s"
    )
    assert len(document.section("decisions").rows) == 120
    assert len(data) < 1_000_000
    assert seconds < 30
    assert len(pages) > 3
    # Tables of agents run over several pages, each of which repeats the table's header.
    agent_pages = [page for page in pages if "座席0" in page]
    assert len(agent_pages) > 2
    assert all("工号" in page for page in agent_pages)


def test_typed_text_is_never_a_formula_in_xlsx() -> None:
    document = Document(
        kind="test",
        title="t",
        subtitle="s",
        language="en",
        generated_at=datetime(2026, 11, 1, tzinfo=UTC),
        sections=[Section("s", "Sheet", [Column("Name"), Column("Score", "decimal1")])],
    )
    document.sections[0].rows = [['=HYPERLINK("http://example.invalid","x")', 1.5]]
    sheet = load_workbook(io.BytesIO(reports_service.render_document(document, "xlsx")))["Sheet"]
    assert sheet["A2"].data_type == "s"
    assert sheet["A2"].value.startswith("=HYPERLINK")
    assert sheet["B2"].value == 1.5


def test_scorecard_html_escapes_the_agent_name_in_the_title(
    session: Session, centre: Centre
) -> None:
    document = documents_service.scorecard_document(
        session=session, employee_no="100005", language="en", scope=EVERYONE
    )
    page = reports_service.render_document(document, "html").decode()
    assert "<script" not in page
    assert "<title>Agent scorecard · &lt;script&gt;alert(1)&lt;/script&gt; (100005)</title>" in page
    assert "Insufficient evidence" in page


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_typed_text_is_never_a_formula_in_csv(lead: str) -> None:
    text = f'{lead}HYPERLINK("http://example.invalid","x")'
    body = reports_service.export_table([[text, -1.5, 3]], ["name", "delta", "n"], "csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[1] == ["'" + text, "-1.5", "3"]  # numbers, negative ones too, stay numbers


def test_the_scorecard_names_the_primary_skill_group_first(
    session: Session, centre: Centre
) -> None:
    for language, marked in (("en", "(primary)"), ("zh_Hans", "（主）")):
        page = reports_service.render_document(BUILDS["scorecard"](session, language), "html")
        assert marked in page.decode()
