"""Pure helpers of the HTTP adapter: Link headers, host matching, rate-limit rule choice."""

from __future__ import annotations

from adapters.http.metrics import host_allowed
from adapters.http.pagination import link_header
from adapters.http.ratelimit import Rule, Rules, choose_rule
from domain.shared.ids import new_id
from domain.shared.pagination import Page


def test_link_header_matches_the_contract_example() -> None:
    link = link_header("/api/v1/courses", [("category", "Backend"), ("page", "2")], 2, 20, 3)
    assert link == (
        '</api/v1/courses?category=Backend&page=1&page_size=20>; rel="first", '
        '</api/v1/courses?category=Backend&page=1&page_size=20>; rel="prev", '
        '</api/v1/courses?category=Backend&page=3&page_size=20>; rel="next", '
        '</api/v1/courses?category=Backend&page=3&page_size=20>; rel="last"'
    )


def test_link_header_edges() -> None:
    assert link_header("/x", [], 1, 20, 0) is None
    only = link_header("/x", [], 1, 20, 1)
    assert only == '</x?page=1&page_size=20>; rel="first", </x?page=1&page_size=20>; rel="last"'
    beyond = link_header("/x", [], 9, 20, 3)
    assert beyond is not None
    assert '</x?page=3&page_size=20>; rel="prev"' in beyond
    assert 'rel="next"' not in beyond


def test_total_pages() -> None:
    assert Page(items=[], total=0, page=1, page_size=20).total_pages == 0
    assert Page(items=[], total=41, page=1, page_size=20).total_pages == 3
    assert Page(items=[], total=40, page=1, page_size=20).total_pages == 2


def test_host_patterns() -> None:
    assert host_allowed("api.example.com:8000", ["api.example.com"])
    assert host_allowed("a.b.example.org", ["*.example.org"])
    assert not host_allowed("example.org", ["*.example.org"])
    assert not host_allowed("evil.com", ["api.example.com"])


def test_each_request_counts_under_exactly_one_rule() -> None:
    rules = Rules(global_=Rule("global", 1, 1), auth=Rule("auth", 1, 1), upload=Rule("upload", 1, 1))
    assert choose_rule("POST", "/api/v1/auth/login/", rules) is rules.auth
    assert choose_rule("POST", "/api/v1/auth/mfa/login", rules) is rules.auth
    assert choose_rule("GET", "/api/v1/auth/login", rules) is rules.global_
    assert choose_rule("POST", "/api/v1/files/upload", rules) is rules.upload
    assert choose_rule("GET", "/api/v1/users/me", rules) is rules.global_
    for exempt in ("/", "/schema", "/schema/openapi.json", "/api/v1/health", "/api/v1/ready", "/metrics"):
        assert choose_rule("GET", exempt, rules) is None


def test_ids_are_time_ordered_uuid7() -> None:
    ids = [new_id() for _ in range(50)]
    assert all(i.version == 7 for i in ids)
    assert len(set(ids)) == 50
    assert ids == sorted(ids)  # monotonic within a millisecond too
