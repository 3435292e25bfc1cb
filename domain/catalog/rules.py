"""Pure catalog rules: slugs, visibility, video URLs, lesson parents and positions."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Protocol
from urllib.parse import urlsplit
from uuid import UUID

from anyascii import anyascii

from domain.catalog.model import Course, CourseFilter, DifficultyLevel
from domain.identity.model import Role, User
from domain.shared.errors import InvalidInput

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_MIN = 3
SLUG_MAX = 255
LESSON_SLUG_FALLBACK = "lesson"

VIDEO_URL_INVALID = "video_url must be a valid http/https URL"
THUMBNAIL_URL_INVALID = "thumbnail_url must be a valid http/https URL"
VIDEO_URL_NOT_ALLOWED = "video_url is only allowed for video lessons"

_NOT_SLUG = re.compile(r"[^a-z0-9 -]")
_SEPARATORS = re.compile(r"[ -]+")
_WHITESPACE = re.compile(r"\s")


def slugify(text: str, *, max_length: int = SLUG_MAX) -> str:
    """A URL slug from free text: transliterated to ASCII, lower-cased, `[a-z0-9-]` only.

    Every other character is dropped; runs of spaces and hyphens become one hyphen, and the
    result never starts or ends with one. It is cut to `max_length` at a character boundary
    without leaving a trailing hyphen. It may be empty (a title of symbols only).
    """
    ascii_text = _WHITESPACE.sub(" ", anyascii(text)).strip().lower()
    slug = _SEPARATORS.sub("-", _NOT_SLUG.sub("", ascii_text)).strip("-")
    return slug[:max_length].rstrip("-")


def unique_slug(base: str, taken: Collection[str], *, max_length: int = SLUG_MAX) -> str:
    """`base`, or `base-2`, `base-3`, … : the first one not in `taken`, never longer than `max_length`."""
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: max_length - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        n += 1


def lesson_slug(title: str) -> str:
    return slugify(title) or LESSON_SLUG_FALLBACK


# Visibility (API §7.4): managers are the course's owner and every admin.


class Owned(Protocol):
    """Anything that names the instructor who owns a course (the course, or facts read about it)."""

    @property
    def instructor_id(self) -> UUID: ...


def can_manage(viewer: User | None, course: Owned) -> bool:
    return viewer is not None and (viewer.role is Role.ADMIN or course.instructor_id == viewer.id)


def can_view(viewer: User | None, course: Course) -> bool:
    """A published course is open to everyone; a draft, and everything under it, to its managers."""
    return course.is_published or can_manage(viewer, course)


def course_filter(
    viewer: User | None,
    *,
    mine: bool,
    category: str | None = None,
    difficulty_level: DifficultyLevel | None = None,
    text: str | None = None,
) -> CourseFilter:
    """The list-visibility table: who sees which courses in the catalog list."""
    published_only, owner = True, None  # anonymous, students (`mine` means nothing), instructors browsing
    if viewer is not None and viewer.role in (Role.INSTRUCTOR, Role.ADMIN) and mine:
        published_only, owner = False, viewer.id
    elif viewer is not None and viewer.role is Role.ADMIN:
        published_only = False
    return CourseFilter(
        published_only=published_only,
        instructor_id=owner,
        category=category,
        difficulty_level=difficulty_level,
        text=text,
    )


def is_public(scope: CourseFilter) -> bool:
    """True when the list is exactly what an anonymous visitor would see (so it may be shared)."""
    return scope.published_only and scope.instructor_id is None


# Lessons (API §7.5)


def clean_video_url(value: str | None) -> str | None:
    return clean_http_url(value, VIDEO_URL_INVALID)


def clean_http_url(value: str | None, invalid: str) -> str | None:
    """Trimmed; empty means none; otherwise an absolute http(s) URL with a host (never
    `javascript:`, `data:` or `file:`, which a front end would render as a link or an image)."""
    if value is None:
        return None
    url = value.strip()
    if not url:
        return None
    try:
        parts = urlsplit(url)
        _ = parts.port  # a malformed port raises here
    except ValueError:
        raise InvalidInput(invalid) from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or _WHITESPACE.search(url):
        raise InvalidInput(invalid)
    return url


def creates_cycle(lesson_id: UUID, parent_id: UUID, parent_of: Mapping[UUID, UUID | None]) -> bool:
    """Would making `parent_id` the parent of `lesson_id` close a loop (is it a descendant)?"""
    seen: set[UUID] = set()
    node: UUID | None = parent_id
    while node is not None and node not in seen:
        if node == lesson_id:
            return True
        seen.add(node)
        node = parent_of.get(node)
    return False


def next_position(current_max: int | None) -> int:
    """The default `order_index` of a new lesson: after the last one, or 1."""
    return (current_max or 0) + 1


def is_permutation(requested: list[UUID], existing: Collection[UUID]) -> bool:
    """Does `requested` list every id of `existing` exactly once, and nothing else?"""
    return len(requested) == len(existing) and set(requested) == set(existing)
