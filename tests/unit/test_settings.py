"""The operator contract (API §8.1, §8.2): parsing, defaults and refusals."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from lms.settings import Environment, RateLimit, SettingsError, load_settings, unknown_variables

KEY = "k" * 32


def test_zero_configuration_is_embedded_development(tmp_path: Path) -> None:
    s = load_settings({"LMS_DATA_DIR": str(tmp_path)})
    assert s.environment is Environment.DEVELOPMENT
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path.resolve()}/lms.db"
    assert s.storage_url == f"file://{tmp_path.resolve()}/files"
    assert s.redis_url is None
    assert s.queue_url is None
    assert s.secret_key_generated
    assert len(s.secret_key) >= 32
    assert s.cors_origins == ("http://localhost:3000",)
    assert s.rate_limit_global == RateLimit(100, 60)


def test_values_are_parsed() -> None:
    s = load_settings(
        {
            "LMS_ENVIRONMENT": "TEST",
            "LMS_SECRET_KEY": KEY,
            "LMS_RATE_LIMIT_AUTH": "5/10",
            "LMS_RESPONSE_ENVELOPE": "Yes",
            "LMS_RATE_LIMIT_ENABLED": "0",
            "LMS_TRUSTED_HOSTS": "api.example.com, *.example.org",
            "LMS_FRONTEND_URL": "https://app.example.com/path",
            "LMS_LOG_LEVEL": "debug",
            "LMS_CACHE_TTL_SECONDS": "0",
        }
    )
    assert s.environment is Environment.TEST
    assert s.rate_limit_auth == RateLimit(5, 10)
    assert s.response_envelope is True
    assert s.rate_limit_enabled is False
    assert s.trusted_hosts == ("api.example.com", "*.example.org")
    assert s.cors_origins == ("https://app.example.com",)
    assert s.log_level == "DEBUG"
    assert s.cache_ttl_seconds == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LMS_RESPONSE_ENVELOPE": "maybe"}, "LMS_RESPONSE_ENVELOPE"),
        ({"LMS_RATE_LIMIT_GLOBAL": "100"}, "LMS_RATE_LIMIT_GLOBAL"),
        ({"LMS_RATE_LIMIT_GLOBAL": "x/60"}, "LMS_RATE_LIMIT_GLOBAL"),
        ({"LMS_SMTP_PORT": "-1"}, "LMS_SMTP_PORT"),
        ({"LMS_ENVIRONMENT": "staging"}, "LMS_ENVIRONMENT"),
        ({"LMS_REDIS_URL": "http://localhost"}, "LMS_REDIS_URL"),
        ({"LMS_SECRET_KEY": "short"}, "LMS_SECRET_KEY"),
        ({"LMS_ENVIRONMENT": "test"}, "LMS_SECRET_KEY must be set to at least 32 bytes outside development"),
        (
            {"LMS_ENVIRONMENT": "production", "LMS_SECRET_KEY": KEY, "LMS_EMAIL_BACKEND": "smtp", "LMS_SMTP_HOST": "m"},
            "LMS_TRUSTED_HOSTS",
        ),
        (
            {"LMS_ENVIRONMENT": "production", "LMS_SECRET_KEY": KEY, "LMS_TRUSTED_HOSTS": "x"},
            "LMS_EMAIL_BACKEND must be set in production",
        ),
        ({"LMS_STORAGE_URL": "ftp://x"}, "LMS_STORAGE_URL must start with one of file://"),
        ({"LMS_STORAGE_URL": "file://relative/dir"}, "LMS_STORAGE_URL must name an absolute directory"),
        ({"LMS_STORAGE_URL": "s3://"}, "LMS_STORAGE_URL must name a bucket"),
        (
            {
                "LMS_ENVIRONMENT": "production",
                "LMS_SECRET_KEY": KEY,
                "LMS_TRUSTED_HOSTS": "x",
                "LMS_EMAIL_BACKEND": "file",
                "LMS_STORAGE_URL": "memory://",
            },
            "memory:// is not for production",
        ),
        ({"LMS_TRUSTED_PROXIES": "10.0.0.0/8, not-an-ip"}, "LMS_TRUSTED_PROXIES must list IP addresses or CIDRs"),
        ({"LMS_SECRET_KEY_PREVIOUS": "short"}, "LMS_SECRET_KEY_PREVIOUS"),
        ({"LMS_STORAGE_PUBLIC_ENDPOINT": "minio:9000"}, "LMS_STORAGE_PUBLIC_ENDPOINT"),
        ({"LMS_STORAGE_TIMEOUT_SECONDS": "0"}, "LMS_STORAGE_TIMEOUT_SECONDS"),
        ({"LMS_EMAIL_BACKEND": "smtp"}, "LMS_SMTP_HOST"),
        ({"LMS_WEBHOOK_URLS": "https://hook.example.com"}, "LMS_WEBHOOK_SECRET"),
        ({"LMS_DATABASE_URL": "mysql://x"}, "LMS_DATABASE_URL"),
        ({"LMS_QUEUE_URL": "amqp://x"}, "LMS_QUEUE_URL must be a redis://, rediss:// or postgresql:// URL"),
        ({"LMS_CACHE_TTL_SECONDS": "-5"}, "LMS_CACHE_TTL_SECONDS"),
        ({"LMS_CACHE_TTL_SECONDS": "soon"}, "LMS_CACHE_TTL_SECONDS"),
        ({"LMS_LOGIN_MAX_FAILURES": "0"}, "LMS_LOGIN_MAX_FAILURES"),
        ({"LMS_LOGIN_LOCKOUT_SECONDS": "a while"}, "LMS_LOGIN_LOCKOUT_SECONDS"),
        ({"LMS_COOKIE_SAMESITE": "loose"}, "LMS_COOKIE_SAMESITE"),
        ({"LMS_COOKIE_SAMESITE": "none", "LMS_COOKIE_SECURE": "false"}, "LMS_COOKIE_SAMESITE=none"),
    ],
)
def test_invalid_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_cookies_are_secure_outside_development_unless_told() -> None:
    assert load_settings({"LMS_ENVIRONMENT": "test", "LMS_SECRET_KEY": KEY}).cookie_secure is True
    assert load_settings({"LMS_ENVIRONMENT": "development"}).cookie_secure is False
    assert load_settings({"LMS_ENVIRONMENT": "development", "LMS_COOKIE_SECURE": "true"}).cookie_secure is True


def test_the_queue_runs_on_redis_or_postgresql() -> None:
    for url in ("redis://localhost:6379/1", "postgresql://lms@db/lms", "postgresql+asyncpg://lms@db/lms"):
        assert load_settings({"LMS_QUEUE_URL": url}).queue_url == url


def test_several_workers_need_redis() -> None:
    s = load_settings({})
    s.check_workers(1)
    with pytest.raises(SettingsError, match="LMS_REDIS_URL"):
        s.check_workers(2)
    load_settings({"LMS_REDIS_URL": "redis://localhost:6379/0"}).check_workers(4)


def test_several_workers_cannot_share_memory_storage() -> None:
    s = load_settings({"LMS_REDIS_URL": "redis://localhost:6379/0", "LMS_STORAGE_URL": "memory://"})
    s.check_workers(1)
    with pytest.raises(SettingsError, match="memory:// cannot serve more than one worker"):
        s.check_workers(2)


def test_operational_settings_are_parsed() -> None:
    s = load_settings(
        {
            "LMS_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.7, fd00::/8",
            "LMS_SECRET_KEY": KEY,
            "LMS_SECRET_KEY_PREVIOUS": "p" * 32 + ", " + "q" * 40,
            "LMS_STORAGE_URL": "s3://bucket/prefix",
            "LMS_STORAGE_PUBLIC_ENDPOINT": "https://files.example.com/",
            "LMS_STORAGE_TIMEOUT_SECONDS": "7",
            "LMS_WORKER_SHUTDOWN_GRACE_SECONDS": "0",
            "LMS_METRICS_TOKEN": "scrape-me",
        }
    )
    assert s.trusted_proxies == ("10.0.0.0/8", "192.168.1.7/32", "fd00::/8")
    assert s.secret_key_previous == ("p" * 32, "q" * 40)
    assert s.storage_public_endpoint == "https://files.example.com"
    assert (s.storage_timeout_seconds, s.storage_connect_timeout_seconds) == (7, 5)
    assert s.worker_shutdown_grace_seconds == 0
    assert s.metrics_token == "scrape-me"
    assert s.email_backend == "console"  # outside production, console stays the default


def test_console_email_in_production_only_when_asked_for() -> None:
    env = {"LMS_ENVIRONMENT": "production", "LMS_SECRET_KEY": KEY, "LMS_TRUSTED_HOSTS": "api.example.com"}
    with pytest.raises(SettingsError, match="LMS_EMAIL_BACKEND must be set in production"):
        load_settings(env)
    assert load_settings({**env, "LMS_EMAIL_BACKEND": "console"}).email_backend == "console"


def test_misspelled_variables_are_named_with_the_closest_known_one() -> None:
    warnings = unknown_variables(
        {
            "LMS_REDIS_URI": "redis://x",  # a typo
            "LMS_DATABASE_URL": "sqlite+aiosqlite:///x.db",  # known
            "LMS_TEST_DATABASE_URL": "postgresql://x",  # the test suite's own
            "LMS_ZZZ": "1",  # nothing close
            "PATH": "/bin",
        }
    )
    assert warnings == [
        "LMS_REDIS_URI is not a known setting and is ignored; did you mean LMS_REDIS_URL?",
        "LMS_ZZZ is not a known setting and is ignored",
    ]


def test_console_email_in_production_is_a_warning_at_start_up(caplog: pytest.LogCaptureFixture) -> None:
    from lms.logs import configure_logging

    settings = load_settings(
        {
            "LMS_ENVIRONMENT": "production",
            "LMS_SECRET_KEY": KEY,
            "LMS_TRUSTED_HOSTS": "api.example.com",
            "LMS_EMAIL_BACKEND": "console",
        }
    )
    ours = logging.getLogger("lms")
    ours.addHandler(caplog.handler)  # configure_logging replaces the root's handlers, not ours
    try:
        configure_logging(settings)
    finally:
        ours.removeHandler(caplog.handler)
    assert any("LMS_EMAIL_BACKEND=console in production" in r.getMessage() for r in caplog.records)
