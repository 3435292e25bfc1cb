"""Pure catalog rules: slugs, visibility, video URLs, parents and positions (API §7.4, §7.5)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest

from domain.catalog import rules
from domain.catalog.model import Course, DifficultyLevel
from domain.identity.model import Role, User
from domain.shared.errors import InvalidInput

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def user(role: Role) -> User:
    return User(
        id=uuid.uuid4(),
        email="u@example.com",
        full_name="U",
        role=role,
        password_hash="x",
        created_at=NOW,
        updated_at=NOW,
    )


def course(owner: User, *, published: bool) -> Course:
    return Course(
        id=uuid.uuid4(),
        title="T",
        slug="t-t-t",
        instructor_id=owner.id,
        is_published=published,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Intro to Python", "intro-to-python"),
        ("  Déjà   vu --- Ωmega  ", "deja-vu-omega"),
        ("C++ & Rust: a tour!", "c-rust-a-tour"),
        ("北京 Beijing", "beijing-beijing"),
        ("node.js_for_all", "nodejsforall"),
        ("tabs\tand\nnewlines", "tabs-and-newlines"),
        ("---", ""),
        ("!!", ""),
    ],
)
def test_slugify_transliterates_and_keeps_only_slug_characters(title: str, slug: str) -> None:
    assert rules.slugify(title) == slug
    if slug:
        assert re.fullmatch(rules.SLUG_PATTERN, slug)


def test_slugify_cuts_long_titles_without_a_trailing_hyphen() -> None:
    slug = rules.slugify("ab " * 200)
    assert len(slug) <= rules.SLUG_MAX
    assert re.fullmatch(rules.SLUG_PATTERN, slug)


def test_unique_slug_appends_the_first_free_number() -> None:
    assert rules.unique_slug("python", set()) == "python"
    assert rules.unique_slug("python", {"python"}) == "python-2"
    assert rules.unique_slug("python", {"python", "python-2", "python-3"}) == "python-4"
    assert rules.unique_slug("python", {"python-2"}) == "python"


def test_unique_slug_stays_within_the_maximum_length() -> None:
    base = "a" * 250 + "-bcde"
    taken = {base}
    slug = rules.unique_slug(base, taken)
    assert slug == "a" * 250 + "-bc-2"
    assert len(slug) == rules.SLUG_MAX
    edge = "a" * 253 + "-b"
    assert rules.unique_slug(edge, {edge}) == "a" * 253 + "-2"  # no "--" at the cut


def test_lesson_slug_falls_back_to_lesson() -> None:
    assert rules.lesson_slug("Variables & Types") == "variables-types"
    assert rules.lesson_slug("?!") == "lesson"


def test_managers_are_the_owner_and_admins() -> None:
    owner, other, admin, student = user(Role.INSTRUCTOR), user(Role.INSTRUCTOR), user(Role.ADMIN), user(Role.STUDENT)
    draft = course(owner, published=False)
    assert rules.can_manage(owner, draft)
    assert rules.can_manage(admin, draft)
    assert not rules.can_manage(other, draft)
    assert not rules.can_manage(student, draft)
    assert not rules.can_manage(None, draft)


def test_a_draft_is_visible_only_to_managers_and_a_published_course_to_all() -> None:
    owner, other, admin, student = user(Role.INSTRUCTOR), user(Role.INSTRUCTOR), user(Role.ADMIN), user(Role.STUDENT)
    draft, live = course(owner, published=False), course(owner, published=True)
    assert [rules.can_view(v, draft) for v in (owner, admin, other, student, None)] == [True, True, False, False, False]
    assert all(rules.can_view(v, live) for v in (owner, admin, other, student, None))


def test_list_visibility_table() -> None:
    instructor, admin, student = user(Role.INSTRUCTOR), user(Role.ADMIN), user(Role.STUDENT)
    cases = [
        (None, False, True, None),
        (None, True, True, None),
        (student, False, True, None),
        (student, True, True, None),  # `mine` means nothing to students
        (instructor, False, True, None),
        (instructor, True, False, instructor.id),
        (admin, False, False, None),
        (admin, True, False, admin.id),
    ]
    for viewer, mine, published_only, owner_id in cases:
        scope = rules.course_filter(viewer, mine=mine, category="Backend", difficulty_level=DifficultyLevel.ADVANCED)
        assert (scope.published_only, scope.instructor_id) == (published_only, owner_id), (viewer, mine)
        assert scope.category == "Backend"
        assert scope.difficulty_level is DifficultyLevel.ADVANCED
        assert rules.is_public(scope) == (published_only and owner_id is None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        (" https://videos.example.com/a?b=1 ", "https://videos.example.com/a?b=1"),
        ("HTTP://EXAMPLE.COM", "HTTP://EXAMPLE.COM"),
        ("http://localhost:8080/v", "http://localhost:8080/v"),
    ],
)
def test_video_urls_are_trimmed_and_empty_means_none(value: str | None, expected: str | None) -> None:
    assert rules.clean_video_url(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "ftp://example.com/v",
        "example.com/v",
        "https://",
        "javascript:alert(1)",
        "http://exa mple.com",
        "http://h:99999",
    ],
)
def test_bad_video_urls_are_refused(value: str) -> None:
    with pytest.raises(InvalidInput, match="video_url must be a valid http/https URL"):
        rules.clean_video_url(value)


def test_cycles_are_found_through_any_depth() -> None:
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    parent_of = {a: None, b: a, c: b, d: None}  # a <- b <- c
    assert rules.creates_cycle(a, c, parent_of)  # a under its grandchild
    assert rules.creates_cycle(a, b, parent_of)
    assert rules.creates_cycle(a, a, parent_of)
    assert not rules.creates_cycle(c, a, parent_of)  # moving down the same chain is fine
    assert not rules.creates_cycle(d, c, parent_of)
    looped = {a: b, b: a}  # corrupt data must not hang the walk
    assert not rules.creates_cycle(c, a, looped)


def test_positions_and_permutations() -> None:
    assert rules.next_position(None) == 1
    assert rules.next_position(7) == 8
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert rules.is_permutation([b, a], {a, b})
    assert not rules.is_permutation([a], {a, b})  # missing
    assert not rules.is_permutation([a, b, c], {a, b})  # extra
    assert not rules.is_permutation([a, a], {a, b})  # duplicate
    assert not rules.is_permutation([a, c], {a, b})  # foreign
    assert rules.is_permutation([], set())
