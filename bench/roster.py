"""Benchmark: a roster import of 10,000 rows on PostgreSQL (API §15.4; target: under 30 s).

    uv run just bench-roster

The API runs as `lms run --workers 2` in production on PostgreSQL + Redis (SAQ queue; the
invitations are jobs, sent by no worker here: the request pays for queueing them, not for SMTP).
One admin imports a file of 10,000 people into a published course with five lessons: 9,000
unknown (accounts made, invitations queued) and 1,000 with accounts already. Then the same file
again (nothing to do: every row already enrolled), and a dry run of a new file of 10,000. Each
import is timed from the first byte sent to the answer; the serving process's resident memory is
sampled while it runs (the file is kept aside, not held whole).

The baseline, in the same run: the same 10,000-row body posted with `dry_run` to a course the
caller does not manage (`403` once the body is received): what receiving the file alone costs.
"""

from __future__ import annotations

import threading
import time

import httpx

from bench.run import admin_headers, options, rss_mb, stack

ROWS = 10_000
KNOWN = 1_000


def timed_post(url: str, body: bytes, headers: dict[str, str], pid: int) -> tuple[float, float, httpx.Response]:
    """(seconds, peak MB of the serving process while it ran, the answer)."""
    peak = [rss_mb(pid)]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb(pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    try:
        answer = httpx.post(url, content=body, headers={**headers, "Content-Type": "text/csv"}, timeout=600)
    finally:
        done.set()
        sampler.join()
    return time.perf_counter() - started, peak[0], answer


def main() -> None:
    opts = options(__doc__)
    with stack("lms-roster-") as servers:
        api = servers.serve_api(opts.workers)
        pid = servers.procs[-1].pid
        admin = admin_headers(api)
        course = httpx.post(f"{api}/api/v1/courses", json={"title": "Roster bench"}, headers=admin).json()
        for n in range(5):
            body = {"title": f"Lesson {n}", "lesson_type": "text"}
            httpx.post(f"{api}/api/v1/courses/{course['id']}/lessons", json=body, headers=admin).raise_for_status()
        httpx.post(f"{api}/api/v1/courses/{course['id']}/publish", headers=admin).raise_for_status()
        known = "email,full_name\n" + "".join(f"known{n}@example.com,Known {n}\n" for n in range(KNOWN))
        roster = f"{api}/api/v1/courses/{course['id']}/roster"
        # The known people first, in another course, so they have accounts and no enrollment here.
        other = httpx.post(f"{api}/api/v1/courses", json={"title": "Roster other"}, headers=admin).json()
        httpx.post(
            f"{api}/api/v1/courses/{other['id']}/roster", content=known.encode(),
            headers={**admin, "Content-Type": "text/csv"}, timeout=600,
        ).raise_for_status()  # fmt: skip
        lines = [f"known{n}@example.com,Known {n}" for n in range(KNOWN)]
        lines += [f"person{n}@example.com,Person {n}" for n in range(ROWS - KNOWN)]
        body = ("email,full_name\n" + "\n".join(lines) + "\n").encode()
        fresh = ("email\n" + "".join(f"dry{n}@example.com\n" for n in range(ROWS))).encode()

        instructor = httpx.post(
            f"{api}/api/v1/auth/register",
            json={"email": "bystander@example.com", "full_name": "By Stander", "password": "bystander-pass-1"},
        ).json()
        bystander = {"Authorization": f"Bearer {instructor['tokens']['access_token']}"}
        base_s, base_mb, base = timed_post(f"{roster}?dry_run=true", body, bystander, pid)
        assert base.status_code == 403, base.text
        first_s, first_mb, first = timed_post(roster, body, admin, pid)
        again_s, again_mb, again = timed_post(roster, body, admin, pid)
        dry_s, dry_mb, dry = timed_post(f"{roster}?dry_run=true", fresh, admin, pid)
        for answer in (first, again, dry):
            assert answer.status_code == 200, answer.text

    print(f"\n{ROWS:,} rows ({len(body) / 1024:.0f} KiB), {opts.workers} granian workers, PostgreSQL + Redis\n")
    print("| import | seconds | peak MB of the process | created_users | enrolled | already_enrolled |")
    print("|---|---:|---:|---:|---:|---:|")
    print(f"| baseline: the body received, then 403 | {base_s:.2f} | {base_mb:.0f} | | | |")
    for name, seconds, mb, answer in (
        ("first (9,000 new, 1,000 known)", first_s, first_mb, first),
        ("the same file again", again_s, again_mb, again),
        ("dry run of 10,000 new", dry_s, dry_mb, dry),
    ):
        j = answer.json()
        print(
            f"| {name} | {seconds:.2f} | {mb:.0f} | {j['created_users']:,} | {j['enrolled']:,} "
            f"| {j['already_enrolled']:,} |"
        )


if __name__ == "__main__":
    main()
