"""Questions drawn from banks (API §12): each attempt draws, from each bank a quiz names, that many
distinct questions at random, fixed for the attempt. Pure rules: the caller brings the banks'
question ids and stores what was drawn with the attempt."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

FEWER_THAN = "Question bank {name} has fewer than {count} questions"


@dataclass(frozen=True, slots=True, kw_only=True)
class Draw:
    """One of a quiz's draws: `count` questions of a bank, each worth `points_each` when given."""

    bank_id: UUID
    count: int
    points_each: Decimal | None = None


@dataclass(frozen=True, slots=True)
class DrawnQuestion:
    """A question an attempt drew from a bank, and the points it is worth in that attempt."""

    question_id: UUID
    points: Decimal


def drawn(draws: Sequence[Draw], banks: Mapping[UUID, Mapping[UUID, Decimal]], seed: UUID) -> list[DrawnQuestion]:
    """The questions an attempt draws, in draw order: from each bank (its questions with their
    points), `count` distinct questions (all of them when the bank holds fewer), never one twice
    even when two draws name the same bank; each worth the draw's `points_each` when it has one.
    The same seed (the attempt's id) draws the same questions from the same banks."""
    rng = random.Random(seed.int)  # noqa: S311 (a fair draw, not a secret)
    taken: set[UUID] = set()
    chosen: list[DrawnQuestion] = []
    for draw in draws:
        bank = banks.get(draw.bank_id, {})
        pool = [q for q in sorted(bank) if q not in taken]
        picked = rng.sample(pool, k=min(draw.count, len(pool)))
        taken.update(picked)
        chosen.extend(DrawnQuestion(q, draw.points_each if draw.points_each is not None else bank[q]) for q in picked)
    return chosen


def short_banks(draws: Sequence[Draw], sizes: Mapping[UUID, int]) -> list[Draw]:
    """The draws whose bank holds fewer questions than they ask for (publishing is refused then),
    counting what the quiz's earlier draws from the same bank take."""
    asked: dict[UUID, int] = {}
    short = []
    for draw in draws:
        asked[draw.bank_id] = asked.get(draw.bank_id, 0) + draw.count
        if sizes.get(draw.bank_id, 0) < asked[draw.bank_id]:
            short.append(draw)
    return short
