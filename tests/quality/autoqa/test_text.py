"""Recognised speech in normal form, and approximate phrase matching that quotes the original."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rapidfuzz import fuzz

from agentladder.quality.autoqa.text import (
    SOUND_ALIKE_SCORE,
    count_phrases,
    find_each,
    find_phrase,
    has_punctuation,
    normalise,
)


def test_width_punctuation_spaces_case_and_traditional_characters_fold_away() -> None:
    assert normalise("您好，ＡＢＣ　公司！").text == "您好abc公司"
    assert normalise("謝謝您的來電, 再見").text == "谢谢您的来电再见"
    assert normalise("Thank you for calling.").text == "thankyouforcalling"


def test_digits_read_out_in_chinese_become_digits_but_words_stay() -> None:
    assert normalise("我是三零二一号客服").text == "我是3021号客服"
    assert normalise("工号幺零零八").text == "工号1008"
    assert normalise("请稍等一下").text == "请稍等一下"  # 一 in a word is not a number
    assert normalise("十一点").text == "十一点"


def test_a_greeting_with_recognition_errors_still_matches_and_quotes_the_original() -> None:
    said = "你好，安信电器三零二一号客服很高兴为您服务"
    hit = find_phrase(said, ["您好"], threshold=50)
    assert hit is not None
    assert hit.score >= 50
    number = find_phrase(said, ["3021"], threshold=90)
    assert number is not None
    assert said[number.start : number.end] == "三零二一"
    # Two inserted characters (其他): alike, not the same; each rule sets its own threshold.
    said = "请问还有其他什么可以帮您的吗"
    closing = find_phrase(said, ["还有什么可以帮您"], threshold=70)
    assert closing is not None
    assert 70 <= closing.score < 100
    assert "什么可以帮您" in said[closing.start : closing.end]


def test_an_unrelated_turn_does_not_match() -> None:
    assert find_phrase("我家空调不制冷了", ["谢谢您的来电"], threshold=80) is None
    assert find_phrase("", ["您好"], threshold=50) is None


def test_polite_phrases_are_counted_without_overlap() -> None:
    text = "麻烦您稍等，谢谢！不好意思让您久等了，谢谢您的耐心"
    assert count_phrases(text, ["谢谢", "谢谢您", "不好意思", "麻烦您"]) == 4


@given(st.text(max_size=60))
def test_normal_form_is_stable_and_maps_back_into_the_original(text: str) -> None:
    once = normalise(text)
    assert normalise(once.text).text == once.text
    assert len(once.origin) == len(once.text)
    assert all(0 <= index < len(text) for index in once.origin)
    assert list(once.origin) == sorted(once.origin)


@given(st.text(alphabet="您好谢谢再见请稍等的了吗，。 ", min_size=1, max_size=40))
def test_a_phrase_found_exactly_is_quoted_from_the_original(text: str) -> None:
    phrase = normalise(text).text[:3]
    if not phrase:
        return
    hit = find_phrase(text, [phrase], threshold=100)
    assert hit is not None
    assert normalise(text[hit.start : hit.end]).text == phrase


def test_every_exact_occurrence_is_found_and_a_near_miss_only_without_one() -> None:
    said = "不知道，我也不知道"
    hits = find_each(said, "不知道", threshold=90)
    assert [said[h.start : h.end] for h in hits] == ["不知道", "不知道"]
    near = find_each("感谢您耐心等待", "感谢您的耐心等待", threshold=70)
    assert len(near) == 1
    assert near[0].score < 100
    assert find_each("感谢您耐心等待", "感谢您的耐心等待", threshold=100) == []


def test_characters_of_another_sense_are_not_counted() -> None:
    assert count_phrases("请您在订单里点申请退货", ["请"], skip=["申请"]) == 1
    assert count_phrases("请您在订单里点申请退货", ["请"]) == 2


def test_punctuation_marks_a_clause_boundary() -> None:
    assert has_punctuation("不知道，您")
    assert not has_punctuation("不知道您")


@given(
    st.text(alphabet="我家空调不制冷了好的", max_size=20),
    st.sampled_from(["谢谢您的来电", "请您稍等", "还有什么可以帮您"]),
    st.lists(st.sampled_from(["，", "。", " ", "？", "、"]), min_size=0, max_size=6),
    st.text(alphabet="我家空调不制冷了好的", max_size=20),
)
def test_a_phrase_broken_up_by_punctuation_and_spaces_is_still_found_exactly(
    before: str, phrase: str, marks: list[str], after: str
) -> None:
    # An ASR puts stray punctuation or spaces anywhere; the normal form drops them.
    chars = list(phrase)
    for offset, mark in enumerate(marks):
        chars.insert(1 + offset % (len(chars) - 1), mark)
    said = before + "".join(chars) + after
    hit = find_phrase(said, [phrase], threshold=100)
    assert hit is not None
    assert normalise(said[hit.start : hit.end]).text == phrase


@given(st.text(alphabet="谢谢请您好申请不客气麻烦的，", max_size=40))
def test_polite_counting_agrees_with_a_plain_scan(text: str) -> None:
    # 申请 is skipped whole; every other 请 and every 谢谢 / 麻烦 counts once.
    normal = normalise(text).text
    expected = normal.replace("申请", "").count("请") + normal.count("谢谢") + normal.count("麻烦")
    assert count_phrases(text, ["请", "谢谢", "麻烦"], skip=["申请"]) == expected


def test_a_homophone_the_recogniser_wrote_still_matches_by_sound() -> None:
    # 您号 for 您好 and 安心 for 安信 read the same (nin hao, an xin), tones aside; the fuzzy
    # ratio alone gives a two-character phrase with one wrong character only 50.
    hit = find_phrase("您号，这里是安心电器", ["您好"], 75)
    assert hit is not None
    assert (hit.score, hit.start, hit.end) == (SOUND_ALIKE_SCORE, 0, 2)
    company = find_phrase("您号，这里是安心电器", ["安信电器"], 75)
    assert company is not None
    assert "您号，这里是安心电器"[company.start : company.end] == "安心电器"
    # A stricter threshold (the forbidden phrases' 90) never takes a sound-alike.
    assert find_phrase("我给您布置到系统里", ["不知道"], 90) is None
    assert find_phrase("我给您布置到系统里", ["不知道"], 75) is not None
    assert find_phrase("今天天气不错", ["您好"], 75) is None


@given(st.text(alphabet="您好号安信心电器稍少等", max_size=12))
def test_an_exact_phrase_is_always_found_at_least_as_well_as_by_sound(text: str) -> None:
    hit = find_phrase(text + "稍等", ["稍等"], 75)
    assert hit is not None
    assert hit.score == 100


@given(st.data(), st.sampled_from([75, 80, 90]))
def test_ruling_out_turns_early_never_drops_an_approximate_match(
    data: st.DataObject, threshold: int
) -> None:
    # A phrase that is a stretch of the text with a character changed to one the text lacks
    # (a recognition error): whenever the alignment itself reaches the threshold (coverage
    # counted), the phrase is found despite the early rejection.
    text = data.draw(st.text(alphabet="您好请稍等安信电器谢再见", min_size=4, max_size=16))
    start = data.draw(st.integers(0, len(text) - 4))
    length = data.draw(st.integers(4, min(8, len(text) - start)))
    stretch = list(text[start : start + length])
    stretch[data.draw(st.integers(0, length - 1))] = data.draw(st.sampled_from("号心少您"))
    phrase = "".join(stretch)
    normal, wanted = normalise(text).text, normalise(phrase).text
    aligned = fuzz.partial_ratio_alignment(wanted, normal, score_cutoff=threshold)
    if aligned is None:
        return
    covered = min(1.0, (aligned.dest_end - aligned.dest_start) / len(wanted))
    if aligned.score * covered >= threshold:
        assert find_each(text, phrase, threshold)
