"""Questions drawn from banks (API §12), on plain values: a draw never repeats a question, has the
asked count, and is the same when made again for the same attempt."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st

from adapters.sql.assessment_repositories import attempt_from_row, attempt_values
from domain.assessment.draws import Draw, DrawnQuestion, drawn, short_banks
from domain.assessment.model import Attempt
from domain.shared.decimals import two_places

uuids = st.builds(lambda n: UUID(int=n), st.integers(min_value=1, max_value=2**64))


@given(
    st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 3), st.integers(1, 50)), min_size=1, max_size=5),
    uuids,
)
def test_a_draw_is_distinct_counted_and_repeatable(
    sizes: list[int], asks: list[tuple[int, int]], attempt: UUID
) -> None:
    banks = {
        UUID(int=b + 1): {UUID(int=1000 * (b + 1) + q): Decimal(q) for q in range(size)} for b, size in enumerate(sizes)
    }
    draws = [
        Draw(bank_id=UUID(int=(b % len(banks)) + 1), count=count, points_each=Decimal(5) if count % 2 else None)
        for b, count in asks
    ]
    paper = drawn(draws, banks, attempt)
    chosen = [d.question_id for d in paper]
    assert len(chosen) == len(set(chosen))  # never a question twice
    for bank_id, questions in banks.items():
        asked = sum(d.count for d in draws if d.bank_id == bank_id)
        # The asked count from each bank, or all it holds when it holds fewer.
        assert len(set(chosen) & set(questions)) == min(asked, len(questions))
    assert drawn(draws, banks, attempt) == paper  # the same attempt draws the same questions
    # Each is worth its draw's points when the draw sets them, else its own.
    owner = {q: (bank_id, points) for bank_id, bank in banks.items() for q, points in bank.items()}
    for d in paper:
        bank_id, own = owner[d.question_id]
        assert d.points == own or any(x.bank_id == bank_id and x.points_each == d.points for x in draws)


def test_another_attempt_draws_another_paper() -> None:
    bank = uuid4()
    banks = {bank: {uuid4(): Decimal(1) for _ in range(500)}}
    papers = {tuple(drawn([Draw(bank_id=bank, count=20)], banks, uuid4())) for _ in range(10)}
    assert len(papers) == 10
    assert all(len(paper) == 20 for paper in papers)


def test_short_banks_count_every_draw_of_a_bank() -> None:
    a, b = uuid4(), uuid4()
    draws = [Draw(bank_id=a, count=3), Draw(bank_id=b, count=1), Draw(bank_id=a, count=2)]
    assert short_banks(draws, {a: 5, b: 1}) == []
    assert short_banks(draws, {a: 4, b: 1}) == [draws[2]]
    assert short_banks(draws, {a: 5}) == [draws[1]]


@given(st.lists(st.integers(min_value=1, max_value=500), min_size=0, max_size=30, unique=True), uuids)
def test_a_draw_reads_back_as_it_was_stored(numbers: list[int], seed: UUID) -> None:
    """What an attempt stores of its draw is what it reads back: the same questions, in the same
    order, worth the same points."""
    bank = UUID(int=1)
    questions = {UUID(int=n): Decimal(n) / 4 for n in numbers}
    paper = drawn([Draw(bank_id=bank, count=len(numbers))], {bank: questions}, seed)
    attempt = Attempt(
        id=seed, enrollment_id=seed, quiz_id=seed, student_id=seed, attempt_number=1,
        started_at=datetime(2026, 12, 6, tzinfo=UTC), max_score=Decimal(0), drawn=paper,
    )  # fmt: skip
    stored = SimpleNamespace(**json.loads(json.dumps(attempt_values(attempt), default=str)))
    stored.started_at = attempt.started_at
    assert attempt_from_row(stored).drawn == [DrawnQuestion(d.question_id, two_places(d.points)) for d in paper]
