"""ACD identity aliases: one person, many spellings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from agentladder.errors import Conflict, InvalidInput
from agentladder.org import service as org_service
from agentladder.org.identity import identity_key
from tests.factories import make_agent


@pytest.mark.parametrize(
    "identity",
    [
        "Agent/1001",
        "SIP/1001",
        "PJSIP/1001",
        "Local/1001@from-queue/n",
        "SIP/1001-0000002a",
        "PJSIP/1001-00000012",
        "Local/1001@from-queue-0000001f;1",
        "IAX2/1001",
        " agent/1001 ",
        "1001",
        "１００１",
    ],
)
def test_channel_spellings_share_one_key(identity: str) -> None:
    assert identity_key(identity) == "1001"


def test_names_fold_case_and_spaces() -> None:
    assert identity_key("  Zhang   Wei ") == identity_key("zhang wei")
    assert identity_key("王芳") == "王芳"
    assert identity_key("Queue/Support") == "queue/support"  # not a channel technology


@given(st.from_regex(r"[0-9]{2,6}", fullmatch=True), st.sampled_from(["Agent", "SIP", "PJSIP"]))
def test_any_extension_through_any_technology(extension: str, technology: str) -> None:
    assert identity_key(f"{technology}/{extension}") == identity_key(extension)
    assert identity_key(f"Local/{extension}@from-queue/n") == identity_key(extension)


@given(st.text(max_size=40))
def test_identity_key_is_idempotent_and_never_crashes(text: str) -> None:
    key = identity_key(text)
    assert identity_key(key) == key


def test_resolution_through_alias_employee_number_and_unique_name(session: Session) -> None:
    wang = make_agent(session, employee_no="100001", name="王芳")
    li = make_agent(session, employee_no="100002", name="李强")
    make_agent(session, employee_no="100003", name="李强")  # a second 李强: names are ambiguous
    org_service.add_alias(session=session, agent=wang, identity="Agent/8001")
    resolve = org_service.identity_resolver(session=session)
    assert resolve("SIP/8001-0000abcd") == wang.id
    assert resolve("Local/8001@from-queue/n") == wang.id
    assert resolve("100002") == li.id
    assert resolve("王芳") == wang.id
    assert resolve("李强") is None
    assert resolve("Agent/9999") is None


def test_an_identity_belongs_to_one_agent(session: Session) -> None:
    wang = make_agent(session, employee_no="100001")
    li = make_agent(session, employee_no="100002")
    org_service.add_alias(session=session, agent=wang, identity="Agent/8001")
    assert (
        org_service.add_alias(session=session, agent=wang, identity="SIP/8001").identity
        == "Agent/8001"
    )
    with pytest.raises(Conflict):
        org_service.add_alias(session=session, agent=li, identity="PJSIP/8001")


@pytest.mark.parametrize("identity", ["A" * 201, "ß" * 150])
def test_an_identity_or_key_too_long_to_store_is_refused(session: Session, identity: str) -> None:
    # The API answered these with a server error on PostgreSQL (the columns hold 200).
    agent = make_agent(session, employee_no="100001")
    with pytest.raises(InvalidInput, match="at most"):
        org_service.add_alias(session=session, agent=agent, identity=identity)
    assert org_service.add_alias(session=session, agent=agent, identity="ß" * 100).identity_key
