"""ETags and conditional requests (RFC 9110 §8.8.3, §13.1.1, §13.1.2)."""

from __future__ import annotations

import pytest

from adapters.http.representation import Representation, etag_of, if_match, none_match
from domain.shared.errors import PreconditionFailed


def test_etags_are_strong_and_follow_the_bytes() -> None:
    a, b = etag_of(b'{"a":1}'), etag_of(b'{"a":2}')
    assert a != b
    assert a == etag_of(b'{"a":1}')
    assert a.startswith('"') and a.endswith('"') and not a.startswith("W/")


def test_pack_round_trip_keeps_body_tag_and_link() -> None:
    rep = Representation.of({"x": "line\nbreak"}, link='</a?page=1>; rel="first"')
    assert Representation.unpack(rep.pack()) == rep
    bare = Representation.of([1, 2])
    assert Representation.unpack(bare.pack()) == bare


def test_if_none_match_uses_weak_comparison_and_lists() -> None:
    tag = etag_of(b"x")
    assert none_match(tag, tag)
    assert none_match(f'"other", W/{tag}', tag)
    assert none_match("*", tag)
    assert not none_match('"other"', tag)
    assert not none_match(None, tag)
    assert not none_match("garbage", tag)


def test_if_match_uses_strong_comparison() -> None:
    current = {"v": 1}
    tag = Representation.of(current).etag
    assert if_match(None, dict) is None  # not sent: no precondition

    check = if_match(tag, dict)
    assert check is not None
    check(current)
    check_any = if_match("*", dict)
    assert check_any is not None
    check_any(current)
    listed = if_match(f'"nope", {tag}', dict)
    assert listed is not None
    listed(current)

    for header in (f"W/{tag}", '"stale"', "garbage"):
        refused = if_match(header, dict)
        assert refused is not None
        with pytest.raises(PreconditionFailed):
            refused(current)
