"""The operator contract (API §8.1, §8.2): parsing, defaults and refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.settings import Environment, RateLimit, SettingsError, load_settings

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
        ({"LMS_ENVIRONMENT": "production", "LMS_SECRET_KEY": KEY}, "LMS_TRUSTED_HOSTS"),
        ({"LMS_EMAIL_BACKEND": "smtp"}, "LMS_SMTP_HOST"),
        ({"LMS_WEBHOOK_URLS": "https://hook.example.com"}, "LMS_WEBHOOK_SECRET"),
        ({"LMS_DATABASE_URL": "mysql://x"}, "LMS_DATABASE_URL"),
        ({"LMS_CACHE_TTL_SECONDS": "-5"}, "LMS_CACHE_TTL_SECONDS"),
        ({"LMS_CACHE_TTL_SECONDS": "soon"}, "LMS_CACHE_TTL_SECONDS"),
    ],
)
def test_invalid_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(env)


def test_several_workers_need_redis() -> None:
    s = load_settings({})
    s.check_workers(1)
    with pytest.raises(SettingsError, match="LMS_REDIS_URL"):
        s.check_workers(2)
    load_settings({"LMS_REDIS_URL": "redis://localhost:6379/0"}).check_workers(4)
