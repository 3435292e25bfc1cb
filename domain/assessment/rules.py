"""Pure assessment rules: question validation, publish checks, submission checks, grading (API §7.7, §7.8)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from uuid import UUID

from domain.assessment.model import Answer, EssayGrading, GradedAnswer, Option, Question, QuestionType
from domain.shared.decimals import ZERO, two_places
from domain.shared.errors import InvalidInput

TRUE_FALSE = ("true", "false")


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


def _normalized(text: str | None) -> str:
    return (text or "").strip().lower()


MR_TWO_CORRECT = "A multiple response question needs at least two correct options"
CHOICES = (QuestionType.MULTIPLE_CHOICE, QuestionType.MULTIPLE_RESPONSE)  # questions with options


def check_question(question_type: QuestionType, options: Sequence[Option] | None, correct_answer: str | None) -> None:
    """The validation table of Q9/Q10: the first rule broken answers 400 with its message. A
    multiple response question's options follow the multiple choice rules, but for the number
    of correct options (API §12)."""
    if question_type in CHOICES:
        opts = list(options or [])
        if len(opts) < 2:
            raise InvalidInput("Multiple choice questions must have at least 2 options")
        if any(_blank(o.option_id) for o in opts):
            raise InvalidInput("Each multiple choice option must include an option_id")
        if any(_blank(o.option_text) for o in opts):
            raise InvalidInput("Each multiple choice option must include non-empty option_text")
        if len({o.option_id for o in opts}) != len(opts):
            raise InvalidInput("Multiple choice options must have unique option_id values")
        if len({_normalized(o.option_text) for o in opts}) != len(opts):
            raise InvalidInput("Multiple choice options must have unique option_text values")
        if question_type is QuestionType.MULTIPLE_RESPONSE:
            if sum(o.is_correct for o in opts) < 2:
                raise InvalidInput(MR_TWO_CORRECT)
        elif sum(o.is_correct for o in opts) != 1:
            raise InvalidInput("Multiple choice questions must have exactly 1 correct option")
        if not _blank(correct_answer):
            raise InvalidInput("Multiple choice questions must not set correct_answer directly")
        return
    label = {
        QuestionType.TRUE_FALSE: "True/false",
        QuestionType.SHORT_ANSWER: "Short answer",
        QuestionType.ESSAY: "Essay",
    }[question_type]
    if options:
        raise InvalidInput(f"{label} questions must not include options")
    if question_type is QuestionType.TRUE_FALSE and _normalized(correct_answer) not in TRUE_FALSE:
        raise InvalidInput("True/false questions require correct_answer to be 'true' or 'false'")
    if question_type is QuestionType.SHORT_ANSWER and _blank(correct_answer):
        raise InvalidInput("Short answer questions require a non-empty correct_answer")
    if question_type is QuestionType.ESSAY and correct_answer is not None and correct_answer != "":
        raise InvalidInput("Essay questions must not include correct_answer")


def check_publishable(questions: Sequence[Question], *, draws: bool = False) -> None:
    """Publishing needs questions (its own, or drawn from banks: API §12), each valid again; the
    first failure gives its publish message."""
    if not questions and not draws:
        raise InvalidInput("Cannot publish quiz without questions")
    for q in questions:
        opts = list(q.options or [])
        if q.question_type in CHOICES:
            if len(opts) < 2:
                raise InvalidInput("Cannot publish quiz with invalid multiple choice question options")
            if any(_blank(o.option_id) or _blank(o.option_text) for o in opts):
                raise InvalidInput("Cannot publish quiz with malformed multiple choice options")
            if len({o.option_id for o in opts}) != len(opts) or len({_normalized(o.option_text) for o in opts}) != len(
                opts
            ):
                raise InvalidInput("Cannot publish quiz with duplicate multiple choice options")
            if q.question_type is QuestionType.MULTIPLE_RESPONSE:
                if sum(o.is_correct for o in opts) < 2:
                    raise InvalidInput(
                        "Cannot publish quiz with multiple response questions with fewer than 2 correct options"
                    )
            elif sum(o.is_correct for o in opts) != 1:
                raise InvalidInput("Cannot publish quiz with multiple choice questions missing a single correct option")
            if not _blank(q.correct_answer):
                raise InvalidInput("Cannot publish quiz with conflicting multiple choice correct_answer")
        elif q.question_type is QuestionType.TRUE_FALSE:
            if opts:
                raise InvalidInput("Cannot publish quiz with options on true/false questions")
            if _normalized(q.correct_answer) not in TRUE_FALSE:
                raise InvalidInput("Cannot publish quiz with invalid true/false correct answer")
        elif q.question_type is QuestionType.SHORT_ANSWER:
            if opts:
                raise InvalidInput("Cannot publish quiz with options on short answer questions")
            if _blank(q.correct_answer):
                raise InvalidInput("Cannot publish quiz with empty short answer correct answer")
        else:
            if opts:
                raise InvalidInput("Cannot publish quiz with options on essay questions")
            if not _blank(q.correct_answer):
                raise InvalidInput("Cannot publish quiz with correct_answer on essay questions")


def check_submission(questions: Sequence[Question], answers: Sequence[Answer]) -> None:
    """The submit validation of T3, in its order (all before the time limit)."""
    seen: set[UUID] = set()
    for answer in answers:
        if answer.question_id in seen:
            raise InvalidInput("Duplicate answer for the same question is not allowed")
        seen.add(answer.question_id)
    by_id = {q.id: q for q in questions}
    if any(a.question_id not in by_id for a in answers):
        raise InvalidInput("Answer contains a question that does not belong to this quiz")
    for answer in answers:
        question = by_id[answer.question_id]
        if question.question_type is QuestionType.MULTIPLE_RESPONSE:
            if answer.selected_option_id is not None:
                raise InvalidInput("selected_option_id is only valid for multiple choice questions")
            if answer.selected_option_ids is None:
                raise InvalidInput("Multiple response answers require selected_option_ids")
            continue  # unknown ids count as wrong choices
        if answer.selected_option_ids is not None:
            raise InvalidInput("selected_option_ids is only valid for multiple response questions")
        if question.question_type is QuestionType.MULTIPLE_CHOICE:
            if _blank(answer.selected_option_id):
                raise InvalidInput("Multiple choice answers require selected_option_id")
            if answer.selected_option_id not in {o.option_id for o in question.options or []}:
                raise InvalidInput("Selected option does not belong to the question")
            continue
        if answer.selected_option_id is not None:
            raise InvalidInput("selected_option_id is only valid for multiple choice questions")
        if _blank(answer.answer_text):
            raise InvalidInput("Answer text is required for this question type")
        if question.question_type is QuestionType.TRUE_FALSE and _normalized(answer.answer_text) not in TRUE_FALSE:
            raise InvalidInput("True/false answers must be either 'true' or 'false'")


def is_correct(question: Question, answer: Answer | None) -> bool:
    if answer is None:
        return False
    if question.question_type is QuestionType.MULTIPLE_CHOICE:
        correct = next((o.option_id for o in question.options or [] if o.is_correct), None)
        return correct is not None and answer.selected_option_id == correct
    if question.question_type in (QuestionType.TRUE_FALSE, QuestionType.SHORT_ANSWER):
        return not _blank(answer.answer_text) and _normalized(answer.answer_text) == _normalized(
            question.correct_answer
        )
    return False  # essays always score 0: there is no manual grading in v1


def partial_credit(question: Question, selected: Sequence[str]) -> Decimal:
    """A multiple response question's points: `points x max(0, (right - wrong) / correct_total)`,
    rounded half-even to 2 places; an option chosen twice counts once, an unknown one is wrong."""
    correct = {o.option_id for o in question.options or [] if o.is_correct}
    chosen = set(selected)
    right, wrong = len(chosen & correct), len(chosen - correct)
    if not correct:
        return ZERO
    return two_places(question.points * max(Decimal(0), Decimal(right - wrong) / len(correct)))


def grade(questions: Sequence[Question], answers: Sequence[Answer]) -> list[GradedAnswer]:
    """One graded answer per question, in question order; unanswered questions score 0."""
    by_question = {a.question_id: a for a in answers}
    graded: list[GradedAnswer] = []
    for question in sorted(questions, key=lambda q: q.order_index):
        answer = by_question.get(question.id)
        if question.question_type is QuestionType.MULTIPLE_RESPONSE:
            selected = list(dict.fromkeys(answer.selected_option_ids or [])) if answer else []
            earned = partial_credit(question, selected)
            graded.append(
                GradedAnswer(
                    question_id=question.id,
                    selected_option_id=None,
                    answer_text=None,
                    is_correct=earned == two_places(question.points),
                    points_earned=earned,
                    selected_option_ids=selected if answer else None,
                )
            )
            continue
        correct = is_correct(question, answer)
        graded.append(
            GradedAnswer(
                question_id=question.id,
                selected_option_id=answer.selected_option_id if answer else None,
                answer_text=answer.answer_text.strip() if answer and answer.answer_text is not None else None,
                is_correct=correct,
                points_earned=question.points if correct else ZERO,
            )
        )
    return graded


def for_review(questions: Sequence[Question], graded: list[GradedAnswer], essays: EssayGrading) -> list[GradedAnswer]:
    """With `manual` essay grading, every essay answer (given or not) waits for a grader (API §11.2)."""
    if essays is not EssayGrading.MANUAL:
        return graded
    essay_ids = {q.id for q in questions if q.question_type is QuestionType.ESSAY}
    return [replace(a, needs_review=True) if a.question_id in essay_ids else a for a in graded]


def total_points(questions: Sequence[Question]) -> Decimal:
    return sum((q.points for q in questions), ZERO)
