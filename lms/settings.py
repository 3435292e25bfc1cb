"""One frozen Settings object read from `LMS_*` environment variables (API §8.1)."""

from __future__ import annotations

import difflib
import enum
import ipaddress
import os
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec

from domain.shared import money
from domain.shared.errors import DomainError


class SettingsError(Exception):
    """An invalid or unsafe configuration; the CLI prints it on one line and exits 2."""


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class OidcSettings(msgspec.Struct, frozen=True, kw_only=True):
    """One OpenID Provider (API §10.3), from `LMS_OIDC_<NAME>_*`."""

    name: str
    issuer: str
    client_id: str
    client_secret: str
    scopes: str = "openid email profile"
    display_name: str = ""
    allowed_domains: tuple[str, ...] = ()
    default_role: str = "student"
    require_local_mfa: bool = False


class RateLimit(msgspec.Struct, frozen=True):
    count: int
    seconds: int


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    environment: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("./var")
    database_url: str = ""
    redis_url: str | None = None
    queue_url: str | None = None
    storage_url: str = ""
    # Signed download URLs point here instead of the endpoint the API itself uses (a store that
    # browsers reach by another name, such as a compose service behind a published port).
    storage_public_endpoint: str | None = None
    storage_connect_timeout_seconds: int = 5
    # One storage request (a PUT, a multipart part, a GET's answer), retries included.
    storage_timeout_seconds: int = 30
    # Unset: `console` in development and test; production must choose (console logs every
    # message, reset links included).
    email_backend: str = ""
    email_dir: Path | None = None
    email_from: str = "no-reply@lms.local"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    secret_key: str = ""
    secret_key_generated: bool = False
    # Earlier signing keys: tokens they signed still verify (rotation); none signs.
    secret_key_previous: tuple[str, ...] = ()
    access_token_expire_minutes: int = 15
    refresh_token_expire_days: int = 30
    refresh_reuse_revokes_session: bool = False
    allow_public_role_registration: bool = False
    require_email_verification: bool = False
    # Failed password checks of one email within the lockout time that lock its password sign-in.
    login_max_failures: int = 5
    # Seconds of the first lock (and of the window failures are counted in); repeats double it.
    login_lockout_seconds: int = 900
    # Single sign-on (API §10.3): the providers' names; each reads its own LMS_OIDC_<NAME>_*.
    oidc_providers: tuple[str, ...] = ()
    # The front-end URLs a sign-in flow may end at.
    oidc_redirect_uris: tuple[str, ...] = ()
    oidc: tuple[OidcSettings, ...] = ()
    # Browser-session cookies (API §10.2): `Secure` unset means on outside development.
    cookie_secure: bool | None = None
    cookie_domain: str | None = None
    cookie_samesite: str = "lax"
    response_envelope: bool = False
    rate_limit_enabled: bool = True
    rate_limit_global: RateLimit = RateLimit(100, 60)
    rate_limit_auth: RateLimit = RateLimit(60, 60)
    rate_limit_upload: RateLimit = RateLimit(100, 3600)
    max_upload_mb: int = 100
    allowed_upload_extensions: tuple[str, ...] = ("mp4", "avi", "mov", "pdf", "doc", "docx", "jpg", "jpeg", "png")
    file_url_expire_seconds: int = 900
    frontend_url: str = "http://localhost:3000"
    totp_issuer: str = "LMS"
    webhook_urls: tuple[str, ...] = ()
    webhook_secret: str | None = None
    # Days a relayed event and its finished deliveries are kept; 0 keeps them forever.
    webhook_retention_days: int = 30
    logfire_token: str | None = None
    # Paid courses (API §14): the currency of a course created without one, and who takes money:
    # `stripe://`, `manual://` (admins mark orders paid), or unset (paid courses cannot be bought).
    default_currency: str = "USD"
    payments_url: str | None = None
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    # Another Stripe-compatible server than Stripe's own (a local one in tests).
    stripe_api_base: str | None = None
    # Verifiable credentials (API §15.2): the host the API is reached at over HTTPS (the issuer is
    # did:web:<host>), the issuer's private key (a PEM: Ed25519 or P-256) and its display name.
    # Outside production an unset host is localhost:8000 and the key is made in the data dir.
    public_host: str | None = None
    credential_signing_key: str | None = None
    # Keys that signed credentials before the current one (PEM blocks, one after another): their
    # public halves stay in the DID document, so that those credentials still verify.
    credential_signing_key_previous: tuple[str, ...] = ()
    credential_issuer_name: str = "LMS"
    # xAPI (API §15.1): the LRS's endpoint (statements go to <url>/statements), its Basic-auth
    # credentials, and the actors' account home page (default: the front end's URL).
    xapi_lrs_url: str | None = None
    xapi_lrs_username: str | None = None
    xapi_lrs_password: str | None = None
    xapi_homepage: str | None = None
    log_level: str = "INFO"
    cors_origins: tuple[str, ...] = ()
    trusted_hosts: tuple[str, ...] = ()
    # Peers (CIDRs) whose Forwarded / X-Forwarded-For headers name the client; none by default.
    trusted_proxies: tuple[str, ...] = ()
    # A bearer token `/metrics` requires; unset: open in development and test, private
    # addresses only in production.
    metrics_token: str | None = None
    # Seconds a request body may pause between two chunks before the request is refused (408).
    body_read_timeout_seconds: int = 30
    # Seconds a stopping `lms worker` lets its running jobs finish before it cancels them.
    worker_shutdown_grace_seconds: int = 30
    db_pool_size: int = 20
    # Seconds a catalog read may be cached (API §7.12 allows up to 120); 0 turns the cache off.
    cache_ttl_seconds: int = 120
    # Where the worker processes of one `lms run` share their request metrics (set by `lms run`).
    metrics_dir: Path | None = None
    # Seconds a course's analytics may be cached (API §7.12 allows up to 300); 0 turns it off.
    analytics_cache_ttl_seconds: int = 300

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def docs_enabled(self) -> bool:
        return not self.is_production

    @property
    def mail_dir(self) -> Path:
        return self.email_dir or self.data_dir / "mail"

    @property
    def storage_in_memory(self) -> bool:
        return self.storage_url.startswith("memory://")

    def check_workers(self, workers: int) -> None:
        """Several processes need shared state: refuse in-memory stores with more than one."""
        if workers > 1 and not self.redis_url:
            raise SettingsError(
                "LMS_REDIS_URL must be set to run more than one worker: the in-process cache, "
                "rate limiter, token blacklist and MFA codes are not shared between processes"
            )
        if workers > 1 and self.storage_in_memory:
            raise SettingsError(
                "LMS_STORAGE_URL=memory:// cannot serve more than one worker: each process would keep "
                "its own files; use file://, s3://, az:// or gs://"
            )


_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be one of true/false/1/0/yes/no, got {raw!r}")


def _int(name: str, raw: str, minimum: int = 1) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _list(_name: str, raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _limit(name: str, raw: str) -> RateLimit:
    count, sep, seconds = raw.partition("/")
    if not sep:
        raise SettingsError(f"{name} must be written <count>/<seconds>, got {raw!r}")
    return RateLimit(_int(name, count), _int(name, seconds))


def _choice(*allowed: str) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        value = raw.strip().lower()
        if value not in allowed:
            raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
        return value

    return parse


def _redis(name: str, raw: str) -> str:
    if urlsplit(raw).scheme not in {"redis", "rediss", "unix"}:
        raise SettingsError(f"{name} must be a redis:// or rediss:// URL")
    return raw.strip()


def _queue(name: str, raw: str) -> str:
    if urlsplit(raw).scheme.split("+")[0] in {"postgresql", "postgres"}:
        return raw.strip()
    try:
        return _redis(name, raw)
    except SettingsError:
        raise SettingsError(f"{name} must be a redis://, rediss:// or postgresql:// URL") from None


STORAGE_SCHEMES = ("file", "memory", "s3", "az", "gs")


def _storage(name: str, raw: str) -> str:
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in STORAGE_SCHEMES:
        schemes = ", ".join(f"{scheme}://" for scheme in STORAGE_SCHEMES)
        raise SettingsError(f"{name} must start with one of {schemes}, got {raw!r}")
    if parts.scheme == "file" and (parts.netloc not in ("", "localhost") or not parts.path.startswith("/")):
        raise SettingsError(f"{name} must name an absolute directory (file:///abs/path), got {raw!r}")
    if parts.scheme in {"s3", "az", "gs"} and not parts.netloc:
        raise SettingsError(f"{name} must name a bucket or container ({parts.scheme}://<name>/<prefix>), got {raw!r}")
    return url


def _currency(name: str, raw: str) -> str:
    try:
        return money.currency_code(raw.strip().upper())
    except DomainError:
        raise SettingsError(f"{name} must be an ISO 4217 currency code with minor units, got {raw!r}") from None


def _http_url(name: str, raw: str) -> str:
    url = raw.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise SettingsError(f"{name} must be an http:// or https:// URL, got {raw!r}")
    return url


_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?")


def _host(name: str, raw: str) -> str:
    """A host name with an optional port, as a URL's authority spells it (no scheme, no path)."""
    host = raw.strip().lower()
    if not _HOST.fullmatch(host) or int(host.partition(":")[2] or 1) > 65535:
        raise SettingsError(f"{name} must be a host name, with an optional :port (no scheme or path), got {raw!r}")
    return host


def _pem(_name: str, raw: str) -> str:
    """A PEM in one variable: real newlines, or `\\n` escapes as some environments need."""
    return raw.strip().replace("\\n", "\n")


_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]+-----.+?-----END [A-Z ]+-----", re.DOTALL)


def _pems(name: str, raw: str) -> tuple[str, ...]:
    """PEM blocks one after another in one variable."""
    blocks = tuple(_PEM_BLOCK.findall(_pem(name, raw)))
    if raw.strip() and not blocks:
        raise SettingsError(f"{name} must hold PEM blocks (-----BEGIN …----- … -----END …-----)")
    return blocks


def _networks(name: str, raw: str) -> tuple[str, ...]:
    """CIDRs (a bare address is a /32 or /128), normalised."""
    found = []
    for item in _list(name, raw):
        try:
            found.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(f"{name} must list IP addresses or CIDRs, got {item!r}") from None
    return tuple(found)


_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "environment": lambda n, raw: Environment(_choice(*(e.value for e in Environment))(n, raw)),
    "data_dir": lambda _n, raw: Path(raw),
    "metrics_dir": lambda _n, raw: Path(raw),
    "email_dir": lambda _n, raw: Path(raw),
    "redis_url": _redis,
    "queue_url": _queue,
    "storage_url": _storage,
    "storage_public_endpoint": _http_url,
    "public_host": _host,
    "xapi_lrs_url": _http_url,
    "xapi_homepage": _http_url,
    "credential_signing_key": _pem,
    "credential_signing_key_previous": _pems,
    "storage_connect_timeout_seconds": _int,
    "storage_timeout_seconds": _int,
    "email_backend": _choice("console", "file", "smtp"),
    "secret_key_previous": _list,
    "trusted_proxies": _networks,
    "body_read_timeout_seconds": _int,
    "worker_shutdown_grace_seconds": lambda n, raw: _int(n, raw, minimum=0),
    "smtp_port": _int,
    "smtp_starttls": _bool,
    "smtp_ssl": _bool,
    "access_token_expire_minutes": _int,
    "refresh_token_expire_days": _int,
    "refresh_reuse_revokes_session": _bool,
    "allow_public_role_registration": _bool,
    "require_email_verification": _bool,
    "login_max_failures": _int,
    "login_lockout_seconds": _int,
    "response_envelope": _bool,
    "cookie_secure": _bool,
    "oidc_providers": lambda n, raw: tuple(_provider_name(n, name) for name in _list(n, raw)),
    "oidc_redirect_uris": lambda n, raw: tuple(_http_url(n, url) for url in _list(n, raw)),
    "cookie_samesite": _choice("lax", "strict", "none"),
    "rate_limit_enabled": _bool,
    "rate_limit_global": _limit,
    "rate_limit_auth": _limit,
    "rate_limit_upload": _limit,
    "max_upload_mb": _int,
    "allowed_upload_extensions": lambda n, raw: tuple(e.lower().lstrip(".") for e in _list(n, raw)),
    "file_url_expire_seconds": _int,
    "webhook_urls": _list,
    "default_currency": _currency,
    "payments_url": _choice("stripe://", "manual://"),
    "stripe_api_base": _http_url,
    "log_level": _choice("debug", "info", "warning", "error", "critical"),
    "cors_origins": _list,
    "trusted_hosts": _list,
    "db_pool_size": _int,
    "cache_ttl_seconds": lambda n, raw: _int(n, raw, minimum=0),
    "webhook_retention_days": lambda n, raw: _int(n, raw, minimum=0),
    "analytics_cache_ttl_seconds": lambda n, raw: _int(n, raw, minimum=0),
}
_STRINGS = {
    "database_url",
    "metrics_token",
    "email_from",
    "smtp_host",
    "cookie_domain",
    "smtp_username",
    "smtp_password",
    "secret_key",
    "frontend_url",
    "totp_issuer",
    "webhook_secret",
    "logfire_token",
    "stripe_api_key",
    "stripe_webhook_secret",
    "credential_issuer_name",
    "xapi_lrs_username",
    "xapi_lrs_password",
}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _variable(field: str) -> str:
    return f"LMS_{field.upper()}"


KNOWN_VARIABLES = frozenset(
    _variable(field.name)
    for field in msgspec.structs.fields(Settings)
    if field.name not in ("secret_key_generated", "oidc")
)


def unknown_variables(env: Mapping[str, str] | None = None) -> list[str]:
    """A warning for each `LMS_*` variable no setting reads (a typo is otherwise silently
    ignored), naming the closest known one. `LMS_TEST_*` belong to the test suite."""
    env = os.environ if env is None else env
    warnings = []
    providers = [name.strip() for name in env.get("LMS_OIDC_PROVIDERS", "").split(",") if name.strip()]
    known = KNOWN_VARIABLES | {oidc_variable(p, field) for p in providers for field in _OIDC_FIELDS}
    for name in sorted(env):
        if not name.startswith("LMS_") or name in known or name.startswith("LMS_TEST_"):
            continue
        close = difflib.get_close_matches(name, KNOWN_VARIABLES, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        warnings.append(f"{name} is not a known setting and is ignored{hint}")
    return warnings


_PROVIDER_NAME = re.compile(r"[a-z0-9-]{1,32}")
_OIDC_FIELDS = ("issuer", "client_id", "client_secret", "scopes", "display_name", "allowed_domains",
                "default_role", "require_local_mfa")  # fmt: skip


def _provider_name(name: str, raw: str) -> str:
    if not _PROVIDER_NAME.fullmatch(raw):
        raise SettingsError(f"{name} must list names of 1 to 32 of a-z, 0-9 and -, got {raw!r}")
    return raw


def oidc_variable(provider: str, field: str) -> str:
    return f"LMS_OIDC_{provider.upper().replace('-', '_')}_{field.upper()}"


def _oidc(env: Mapping[str, str], provider: str) -> OidcSettings:
    """A provider's settings from its `LMS_OIDC_<NAME>_*` variables, parsed as the others are."""
    parsers: dict[str, Callable[[str, str], Any]] = {
        "issuer": _http_url,
        "allowed_domains": lambda n, raw: tuple(domain.lower() for domain in _list(n, raw)),
        "default_role": _choice("student", "instructor", "admin"),
        "require_local_mfa": _bool,
    }
    values: dict[str, Any] = {"name": provider}
    for field in _OIDC_FIELDS:
        name = oidc_variable(provider, field)
        raw = env.get(name, "").strip()
        if raw:
            values[field] = parsers[field](name, raw) if field in parsers else raw
        elif field in ("issuer", "client_id", "client_secret"):
            raise SettingsError(f"{name} must be set for the provider {provider!r}")
    return OidcSettings(**values)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read, validate and complete the settings; raise SettingsError naming the bad variable."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for field in msgspec.structs.fields(Settings):
        var = _variable(field.name)
        raw = env.get(var)
        if raw is None or raw == "" or field.name == "secret_key_generated":
            continue
        if field.name in _PARSERS:
            values[field.name] = _PARSERS[field.name](var, raw)
        elif field.name in _STRINGS:
            values[field.name] = raw
    if "log_level" in values:
        values["log_level"] = values["log_level"].upper()
    values["oidc"] = tuple(_oidc(env, name) for name in values.get("oidc_providers", ()))
    settings = Settings(**values)
    return _complete(settings)


def _complete(s: Settings) -> Settings:
    changes: dict[str, Any] = {}
    data_dir = s.data_dir
    if not s.database_url:
        changes["database_url"] = f"sqlite+aiosqlite:///{(data_dir / 'lms.db').resolve()}"
    if not s.storage_url:
        changes["storage_url"] = f"file://{(data_dir / 'files').resolve()}"
    if not s.email_backend:
        if s.is_production:
            raise SettingsError(
                "LMS_EMAIL_BACKEND must be set in production: smtp (or file); console writes every "
                "message, password reset links included, to the log"
            )
        changes["email_backend"] = "console"
    if s.is_production and s.storage_in_memory:
        raise SettingsError(
            "LMS_STORAGE_URL=memory:// is not for production: files vanish with the process and no other "
            "process (a second worker, `lms worker`) sees them; use file://, s3://, az:// or gs://"
        )
    if not s.cors_origins:
        changes["cors_origins"] = (_origin(s.frontend_url),)
    if not s.public_host and not s.is_production:
        changes["public_host"] = "localhost:8000"
    if s.secret_key:
        if len(s.secret_key.encode()) < 32:
            raise SettingsError("LMS_SECRET_KEY must be at least 32 bytes")
    elif s.environment is Environment.DEVELOPMENT:
        changes["secret_key"] = secrets.token_urlsafe(32)
        changes["secret_key_generated"] = True
    else:
        raise SettingsError("LMS_SECRET_KEY must be set to at least 32 bytes outside development")
    if any(len(key.encode()) < 32 for key in s.secret_key_previous):
        raise SettingsError("LMS_SECRET_KEY_PREVIOUS must list keys of at least 32 bytes each")
    if s.cookie_secure is None:
        changes["cookie_secure"] = s.environment is not Environment.DEVELOPMENT
    if s.cookie_samesite == "none" and changes.get("cookie_secure", s.cookie_secure) is False:
        raise SettingsError("LMS_COOKIE_SAMESITE=none needs secure cookies: browsers refuse it otherwise")
    if s.is_production and not s.trusted_hosts:
        raise SettingsError("LMS_TRUSTED_HOSTS must be set in production")
    if s.email_backend == "smtp" and not s.smtp_host:
        raise SettingsError("LMS_SMTP_HOST must be set when LMS_EMAIL_BACKEND is smtp")
    if s.payments_url == "stripe://" and not (s.stripe_api_key and s.stripe_webhook_secret):
        raise SettingsError(
            "LMS_STRIPE_API_KEY and LMS_STRIPE_WEBHOOK_SECRET must be set when LMS_PAYMENTS_URL=stripe://"
        )
    if s.webhook_urls and not s.webhook_secret:
        raise SettingsError("LMS_WEBHOOK_SECRET must be set when LMS_WEBHOOK_URLS is set")
    db = changes.get("database_url", s.database_url)
    if not (db.startswith("sqlite+aiosqlite://") or db.startswith("postgresql+asyncpg://")):
        raise SettingsError("LMS_DATABASE_URL must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
    return msgspec.structs.replace(s, **changes) if changes else s
