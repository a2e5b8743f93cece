"""Search quality against labelled queries: MRR@k and recall@k over graded judgements (an item
counts as relevant from `min_grade` up: 3 answers the query, 2 helps directly, 1 is related)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Quality:
    """Mean reciprocal rank and mean recall of the first k results over some queries."""

    queries: int
    mrr: float
    recall: float


def reciprocal_rank(found: Sequence[str], relevant: set[str], k: int) -> float:
    """1/rank of the first relevant result among the first k (0 when none)."""
    for rank, key in enumerate(found[:k], start=1):
        if key in relevant:
            return 1 / rank
    return 0.0


def recall(found: Sequence[str], relevant: set[str], k: int) -> float:
    """The share of the relevant items among the first k results (1 when none is relevant)."""
    return len(relevant & set(found[:k])) / len(relevant) if relevant else 1.0


def quality(
    results: Sequence[tuple[Sequence[str], Mapping[str, int]]], k: int = 10, min_grade: int = 2
) -> Quality:
    """MRR@k and recall@k of (results found, graded judgements) pairs."""
    if not results:
        return Quality(0, 0.0, 0.0)
    ranks, recalls = [], []
    for found, grades in results:
        relevant = {key for key, grade in grades.items() if grade >= min_grade}
        ranks.append(reciprocal_rank(found, relevant, k))
        recalls.append(recall(found, relevant, k))
    return Quality(len(results), sum(ranks) / len(ranks), sum(recalls) / len(recalls))
