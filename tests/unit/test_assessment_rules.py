"""Question validation, publish checks, submission checks and grading (API §7.7, §7.8), on plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.assessment import rules
from domain.assessment.model import Answer, Attempt, AttemptStatus, Option, Question, QuestionType
from domain.shared.errors import InvalidInput

NOW = datetime(2026, 11, 22, 4, 44, 45, tzinfo=UTC)
MC = QuestionType.MULTIPLE_CHOICE
TF = QuestionType.TRUE_FALSE
SA = QuestionType.SHORT_ANSWER
ES = QuestionType.ESSAY


def opts(*specs: tuple[str, str, bool]) -> list[Option]:
    return [Option(option_id=i, option_text=t, is_correct=c) for i, t, c in specs]


GOOD_MC = opts(("a", "Paris", True), ("b", "Rome", False))


def question(
    kind: QuestionType,
    *,
    options: list[Option] | None = None,
    correct: str | None = None,
    points: str = "1",
    n: int = 1,
) -> Question:
    return Question(
        id=uuid4(),
        quiz_id=uuid4(),
        question_text="A question",
        question_type=kind,
        points=Decimal(points),
        order_index=n,
        options=options,
        correct_answer=correct,
        created_at=NOW,
        updated_at=NOW,
    )


def refused(message: str, kind: QuestionType, options: list[Option] | None = None, correct: str | None = None) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.check_question(kind, options, correct)
    assert caught.value.detail == message


def test_valid_questions_of_every_type_pass() -> None:
    rules.check_question(MC, GOOD_MC, None)
    rules.check_question(MC, GOOD_MC, "")
    rules.check_question(TF, None, " TRUE ")
    rules.check_question(TF, [], "false")
    rules.check_question(SA, None, "HTTP")
    rules.check_question(ES, None, None)


def test_multiple_choice_rules_in_order() -> None:
    refused("Multiple choice questions must have at least 2 options", MC, opts(("a", "x", True)))
    refused("Multiple choice questions must have at least 2 options", MC, None)
    refused("Each multiple choice option must include an option_id", MC, opts(("a", "x", True), (" ", "y", False)))
    refused(
        "Each multiple choice option must include non-empty option_text", MC, opts(("a", "x", True), ("b", "  ", False))
    )
    refused("Multiple choice options must have unique option_id values", MC, opts(("a", "x", True), ("a", "y", False)))
    refused(
        "Multiple choice options must have unique option_text values",
        MC,
        opts(("a", " Paris", True), ("b", "paris ", False)),
    )
    refused(
        "Multiple choice questions must have exactly 1 correct option", MC, opts(("a", "x", False), ("b", "y", False))
    )
    refused(
        "Multiple choice questions must have exactly 1 correct option", MC, opts(("a", "x", True), ("b", "y", True))
    )
    refused("Multiple choice questions must not set correct_answer directly", MC, GOOD_MC, "a")


def test_other_types_rules() -> None:
    refused("True/false questions must not include options", TF, GOOD_MC, "true")
    refused("True/false questions require correct_answer to be 'true' or 'false'", TF, None, "yes")
    refused("True/false questions require correct_answer to be 'true' or 'false'", TF, None, None)
    refused("Short answer questions must not include options", SA, GOOD_MC, "x")
    refused("Short answer questions require a non-empty correct_answer", SA, None, "   ")
    refused("Essay questions must not include options", ES, GOOD_MC)
    refused("Essay questions must not include correct_answer", ES, None, "model answer")


@pytest.mark.parametrize(
    ("q", "message"),
    [
        (
            question(MC, options=opts(("a", "x", True))),
            "Cannot publish quiz with invalid multiple choice question options",
        ),
        (
            question(MC, options=opts(("a", "x", True), ("", "y", False))),
            "Cannot publish quiz with malformed multiple choice options",
        ),
        (
            question(MC, options=opts(("a", "x", True), ("a", "y", False))),
            "Cannot publish quiz with duplicate multiple choice options",
        ),
        (
            question(MC, options=opts(("a", "x", True), ("b", "X", False))),
            "Cannot publish quiz with duplicate multiple choice options",
        ),
        (
            question(MC, options=opts(("a", "x", False), ("b", "y", False))),
            "Cannot publish quiz with multiple choice questions missing a single correct option",
        ),
        (
            question(MC, options=GOOD_MC, correct="a"),
            "Cannot publish quiz with conflicting multiple choice correct_answer",
        ),
        (question(TF, options=GOOD_MC, correct="true"), "Cannot publish quiz with options on true/false questions"),
        (question(TF, correct="maybe"), "Cannot publish quiz with invalid true/false correct answer"),
        (question(SA, options=GOOD_MC, correct="x"), "Cannot publish quiz with options on short answer questions"),
        (question(SA, correct=" "), "Cannot publish quiz with empty short answer correct answer"),
        (question(ES, options=GOOD_MC), "Cannot publish quiz with options on essay questions"),
        (question(ES, correct="x"), "Cannot publish quiz with correct_answer on essay questions"),
    ],
)
def test_publish_checks_give_the_first_failure(q: Question, message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.check_publishable([question(SA, correct="ok"), q])
    assert caught.value.detail == message


def test_publishing_needs_questions() -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.check_publishable([])
    assert caught.value.detail == "Cannot publish quiz without questions"
    rules.check_publishable([question(MC, options=GOOD_MC), question(TF, correct="false"), question(ES)])


def submission_refused(questions: list[Question], answers: list[Answer], message: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        rules.check_submission(questions, answers)
    assert caught.value.detail == message


def test_submission_checks_in_order() -> None:
    mc, tf, sa = question(MC, options=GOOD_MC), question(TF, correct="true", n=2), question(SA, correct="x", n=3)
    qs = [mc, tf, sa]
    submission_refused(
        qs, [Answer(mc.id, "a"), Answer(mc.id, "b")], "Duplicate answer for the same question is not allowed"
    )
    submission_refused(qs, [Answer(uuid4(), "a")], "Answer contains a question that does not belong to this quiz")
    submission_refused(qs, [Answer(mc.id, None, "Paris")], "Multiple choice answers require selected_option_id")
    submission_refused(qs, [Answer(mc.id, "zzz")], "Selected option does not belong to the question")
    submission_refused(qs, [Answer(sa.id, "a", "x")], "selected_option_id is only valid for multiple choice questions")
    submission_refused(qs, [Answer(sa.id, None, "  ")], "Answer text is required for this question type")
    submission_refused(qs, [Answer(tf.id, None, "yes")], "True/false answers must be either 'true' or 'false'")
    rules.check_submission(qs, [])
    rules.check_submission(qs, [Answer(tf.id, None, " FALSE ")])


def test_grading_per_type_with_trimming_and_case() -> None:
    mc = question(MC, options=GOOD_MC, points="2")
    tf = question(TF, correct="True", n=2)
    sa = question(SA, correct=" Status Code ", points="3", n=3)
    es = question(ES, points="5", n=4)
    graded = rules.grade(
        [es, sa, tf, mc],
        [
            Answer(mc.id, "a"),
            Answer(tf.id, None, " true"),
            Answer(sa.id, None, "status code  "),
            Answer(es.id, None, "long essay"),
        ],
    )
    assert [g.question_id for g in graded] == [mc.id, tf.id, sa.id, es.id]  # question order
    assert [g.is_correct for g in graded] == [True, True, True, False]  # essays always score 0
    assert [g.points_earned for g in graded] == [Decimal("2"), Decimal("1"), Decimal("3"), Decimal("0.00")]
    assert graded[2].answer_text == "status code"  # trimmed
    wrong = rules.grade([mc, tf, sa], [Answer(mc.id, "b"), Answer(tf.id, None, "false"), Answer(sa.id, None, "status")])
    assert [g.is_correct for g in wrong] == [False, False, False]
    unanswered = rules.grade([mc, tf], [])
    assert [(g.selected_option_id, g.answer_text, g.points_earned) for g in unanswered] == [
        (None, None, Decimal("0.00")),
        (None, None, Decimal("0.00")),
    ]


def attempt(max_score: str, *, limit: timedelta | None = None) -> Attempt:
    return Attempt(
        id=uuid4(),
        enrollment_id=uuid4(),
        quiz_id=uuid4(),
        student_id=uuid4(),
        attempt_number=1,
        started_at=NOW,
        expires_at=NOW + limit if limit else None,
        max_score=Decimal(max_score),
    )


def test_results_and_the_pass_mark() -> None:
    mc, tf = question(MC, options=GOOD_MC, points="2"), question(TF, correct="true", n=2)
    a = attempt("3.00")
    a.record_grade(rules.grade([mc, tf], [Answer(mc.id, "a")]), Decimal("66.67"), NOW + timedelta(seconds=75))
    assert (a.status, a.score, a.percentage, a.is_passed, a.time_taken_seconds) == (
        AttemptStatus.GRADED, Decimal("2"), Decimal("66.67"), True, 75,
    )  # fmt: skip
    assert a.submitted_at == a.graded_at == NOW + timedelta(seconds=75)
    b = attempt("3.00")
    b.record_grade(rules.grade([mc, tf], [Answer(mc.id, "a")]), Decimal("66.68"), NOW)
    assert b.is_passed is False


def test_a_quiz_worth_nothing_scores_zero_percent() -> None:
    es = question(ES, points="0")
    a = attempt("0.00")
    a.record_grade(rules.grade([es], [Answer(es.id, None, "text")]), Decimal("0.00"), NOW)
    assert (a.score, a.percentage, a.is_passed) == (Decimal("0.00"), Decimal("0.00"), True)
    assert rules.total_points([]) == Decimal("0.00")


def test_expiry() -> None:
    a = attempt("5.00", limit=timedelta(minutes=10))
    assert not a.expired(NOW + timedelta(minutes=10))
    assert a.expired(NOW + timedelta(minutes=10, seconds=1))
    a.expire(NOW + timedelta(minutes=11))
    assert (a.status, a.score, a.percentage, a.is_passed, a.answers) == (
        AttemptStatus.GRADED, Decimal("0.00"), Decimal("0.00"), False, [],
    )  # fmt: skip
    assert not a.expired(NOW + timedelta(days=1))  # graded attempts never expire again
    assert not attempt("1.00").expired(NOW + timedelta(days=365))  # no time limit


MR = QuestionType.MULTIPLE_RESPONSE
GOOD_MR = opts(
    ("a", "HTTP", True), ("b", "SMTP", True), ("c", "Ruby", False), ("d", "Rust", False), ("e", "AMQP", True)
)


def test_multiple_response_needs_two_correct_options() -> None:
    rules.check_question(MR, GOOD_MR, None)
    with pytest.raises(InvalidInput, match=r"^A multiple response question needs at least two correct options$"):
        rules.check_question(MR, GOOD_MC, None)
    with pytest.raises(InvalidInput, match="at least 2 options"):
        rules.check_question(MR, GOOD_MC[:1], None)
    with pytest.raises(InvalidInput, match="fewer than 2 correct options"):
        rules.check_publishable([question(MR, options=GOOD_MC)])


@pytest.mark.parametrize(
    ("selected", "earned", "full"),
    [
        (["a", "b", "e"], "3.00", True),  # every correct option
        (["a", "b", "e", "a"], "3.00", True),  # a repeat counts once
        (["a"], "1.00", False),  # 1 right of 3
        (["a", "b"], "2.00", False),
        (["a", "c"], "0.00", False),  # 1 right, 1 wrong
        (["a", "b", "c"], "1.00", False),  # 2 right, 1 wrong
        (["c", "d"], "0.00", False),  # all wrong: never below 0
        (["a", "b", "e", "c", "d"], "1.00", False),  # everything chosen
        (["a", "zzz"], "0.00", False),  # an unknown id counts as wrong
        ([], "0.00", False),
    ],
)
def test_partial_credit(selected: list[str], earned: str, full: bool) -> None:
    q = question(MR, options=GOOD_MR, points="3")
    (graded,) = rules.grade([q], [Answer(question_id=q.id, selected_option_ids=selected)])
    assert (graded.points_earned, graded.is_correct) == (Decimal(earned), full)
    assert graded.selected_option_ids == list(dict.fromkeys(selected))


def test_partial_credit_rounds_half_even_per_question() -> None:
    q = question(MR, options=GOOD_MR, points="1")  # a third of a point per right option
    (one,) = rules.grade([q], [Answer(question_id=q.id, selected_option_ids=["a"])])
    (two,) = rules.grade([q], [Answer(question_id=q.id, selected_option_ids=["a", "b"])])
    assert (one.points_earned, two.points_earned) == (Decimal("0.33"), Decimal("0.67"))
    half = question(MR, options=opts(("a", "x", True), ("b", "y", True)), points="0.05")
    (graded,) = rules.grade([half], [Answer(question_id=half.id, selected_option_ids=["a"])])
    assert graded.points_earned == Decimal("0.02")  # 0.025 rounds to even


def test_multiple_response_answers_are_checked() -> None:
    q = question(MR, options=GOOD_MR)
    with pytest.raises(InvalidInput, match=r"^Multiple response answers require selected_option_ids$"):
        rules.check_submission([q], [Answer(question_id=q.id)])
    with pytest.raises(InvalidInput, match=r"^selected_option_id is only valid for multiple choice questions$"):
        rules.check_submission([q], [Answer(question_id=q.id, selected_option_id="a", selected_option_ids=["a"])])
    mc = question(MC, options=GOOD_MC)
    with pytest.raises(InvalidInput, match=r"^selected_option_ids is only valid for multiple response questions$"):
        rules.check_submission([mc], [Answer(question_id=mc.id, selected_option_id="a", selected_option_ids=["a"])])
    rules.check_submission([q], [Answer(question_id=q.id, selected_option_ids=["nope"])])  # wrong, not invalid
