"""Authentication guards and dependencies: the Bearer token is checked before validation (API §1.6)."""

from __future__ import annotations

from typing import Annotated, Any, cast
from uuid import UUID

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Example
from litestar.params import PathParameter

from adapters.http.problems import VALIDATION_DETAIL
from adapters.http.ratelimit import ACCESS_COOKIE, API_KEY_HEADER, CSRF_COOKIE, CSRF_HEADER, PRECHECK
from adapters.http.scopes import require_scope
from adapters.live.hub import LiveHub
from domain.analytics.services import AnalyticsService
from domain.assessment.attempts import AttemptService
from domain.assessment.banks import QuestionBankService
from domain.assessment.essays import EssayService
from domain.assessment.quizzes import QuizService
from domain.assignments.assignments import AssignmentService
from domain.assignments.gradebook import GradebookService
from domain.assignments.grading_queue import GradingQueue
from domain.assignments.submissions import SubmissionService
from domain.catalog.services import CatalogService
from domain.commerce.coupons import CouponService
from domain.commerce.orders import OrderService
from domain.credentials.badges import OpenBadges
from domain.credentials.services import CertificateService
from domain.files.services import FileService
from domain.identity.api_keys import ApiKeys, is_api_key
from domain.identity.blacklist import RevocationCheck
from domain.identity.browser_sessions import check_csrf, csrf_passes
from domain.identity.model import AuthMethod, Principal, Role, User
from domain.identity.policy import ADMIN_ONLY
from domain.identity.sign_in import SignIn
from domain.integrations.webhooks import WebhookService
from domain.learning.roster import RosterImport
from domain.learning.services import LearningService
from domain.notifications.inbox import InboxService
from domain.notifications.live import CourseFeeds
from domain.notifications.tickets import TicketService
from domain.privacy.erasure import Erasure
from domain.privacy.exports import DataExports
from domain.shared.errors import FieldError, FieldsInvalid, Forbidden, Unauthenticated, Unavailable

PRINCIPAL = "principal"
# OpenAPI security requirements: a Bearer token is required, or optional (the empty alternative).
# API-key alternatives, with each route's scope, are added to the document from `scopes.py`.
BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}, {"AccessCookie": []}]
OPTIONAL_BEARER: list[dict[str, list[str]]] = [{}, {"BearerToken": []}, {"AccessCookie": []}]


def bearer_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The Bearer credential, or None when there is no Authorization header or another scheme."""
    header = connection.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


Connection = ASGIConnection[Any, Any, Any, Any]


def _service(connection: Connection, name: str) -> Any:
    """A use-case service, read from the app rather than injected: a second injected dependency
    makes Litestar resolve them in a task group, which measured as half of a cached read's cost."""
    return getattr(connection.app.state["container"], name)


def roster_of(connection: Connection) -> RosterImport:
    return cast(RosterImport, _service(connection, "roster"))


def orders_of(connection: Connection) -> OrderService:
    return cast(OrderService, _service(connection, "orders"))


def coupons_of(connection: Connection) -> CouponService:
    return cast(CouponService, _service(connection, "coupons"))


def analytics_of(connection: Connection) -> AnalyticsService:
    return cast(AnalyticsService, _service(connection, "analytics"))


def catalog_of(connection: Connection) -> CatalogService:
    return cast(CatalogService, _service(connection, "catalog"))


def learning_of(connection: Connection) -> LearningService:
    return cast(LearningService, _service(connection, "learning"))


def quizzes_of(connection: Connection) -> QuizService:
    return cast(QuizService, _service(connection, "quizzes"))


def inbox_of(connection: Connection) -> InboxService:
    return cast(InboxService, _service(connection, "inbox"))


def tickets_of(connection: Connection) -> TicketService:
    return cast(TicketService, _service(connection, "tickets"))


def live_of(connection: Connection) -> LiveHub:
    return cast(LiveHub, _service(connection, "live"))


def course_feeds_of(connection: Connection) -> CourseFeeds:
    return cast(CourseFeeds, _service(connection, "course_feeds"))


def sign_in_of(connection: Connection) -> SignIn:
    return cast(SignIn, _service(connection, "identity").sign_in)


def banks_of(connection: Connection) -> QuestionBankService:
    return cast(QuestionBankService, _service(connection, "banks"))


def attempts_of(connection: Connection) -> AttemptService:
    return cast(AttemptService, _service(connection, "attempts"))


def essays_of(connection: Connection) -> EssayService:
    return cast(EssayService, _service(connection, "essays"))


def grading_queue_of(connection: Connection) -> GradingQueue:
    return cast(GradingQueue, _service(connection, "grading_queue"))


def gradebook_of(connection: Connection) -> GradebookService:
    return cast(GradebookService, _service(connection, "gradebook"))


def assignments_of(connection: Connection) -> AssignmentService:
    return cast(AssignmentService, _service(connection, "assignments"))


def submissions_of(connection: Connection) -> SubmissionService:
    return cast(SubmissionService, _service(connection, "submissions"))


def certificates_of(connection: Connection) -> CertificateService:
    return cast(CertificateService, _service(connection, "certificates"))


def exports_of(connection: Connection) -> DataExports:
    return cast(DataExports, _service(connection, "exports"))


def erasure_of(connection: Connection) -> Erasure:
    return cast(Erasure, _service(connection, "erasure"))


def badges_of(connection: Connection) -> OpenBadges:
    return cast(OpenBadges, _service(connection, "badges"))


def files_of(connection: Connection) -> FileService:
    return cast(FileService, _service(connection, "files"))


def webhooks_of(connection: Connection) -> WebhookService:
    return cast(WebhookService, _service(connection, "webhooks"))


def api_keys_of(connection: Connection) -> ApiKeys:
    return cast(ApiKeys, _service(connection, "identity").api_keys)


def _precheck(connection: Connection) -> RevocationCheck | None:
    """The blacklist answer the rate limiter read in its round trip, if it did."""
    found = connection.scope.get("state", {}).get(PRECHECK)
    return found if isinstance(found, RevocationCheck) else None


def credential_of(connection: Connection) -> tuple[str, AuthMethod] | None:
    """The credential a request carries: its Bearer header (an access token or an API key), else
    its `X-API-Key` header (API §10.4), else its access cookie (API §10.2)."""
    token = bearer_token(connection)
    if token is not None:
        return token, AuthMethod.API_KEY if is_api_key(token) else AuthMethod.BEARER
    key = connection.headers.get(API_KEY_HEADER)
    if key:
        return key.strip(), AuthMethod.API_KEY
    cookie = connection.cookies.get(ACCESS_COOKIE)
    return (cookie, AuthMethod.COOKIE) if cookie else None


async def principal_of(connection: Connection, token: str, via: AuthMethod) -> Principal:
    """Who the credential speaks for; a key only within its scopes for this route."""
    if via is not AuthMethod.API_KEY:
        return await sign_in_of(connection).authenticate(token, _precheck(connection), via=via)
    principal = await api_keys_of(connection).authenticate(token)
    require_scope(str(connection.scope.get("method", "GET")), connection.scope["path"], principal.scopes or frozenset())
    return principal


def csrf_of(connection: Connection) -> tuple[str | None, str | None]:
    """The CSRF cookie and the header that must echo it."""
    return connection.cookies.get(CSRF_COOKIE), connection.headers.get(CSRF_HEADER)


async def authenticated(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: a valid access token is required; the current user is loaded from the database. A
    request signed in by cookie must pass the CSRF check on unsafe methods."""
    credential = credential_of(connection)
    if credential is None:
        raise Unauthenticated("Not authenticated")
    token, via = credential
    principal = await principal_of(connection, token, via)
    if via is AuthMethod.COOKIE:
        check_csrf(str(connection.scope.get("method", "GET")), *csrf_of(connection))
    connection.state[PRINCIPAL] = principal


# Route options of an authenticated route in a controller whose other routes are public or optional.
SIGNED_IN: dict[str, Any] = {"guards": [authenticated], "security": BEARER}


async def optional_viewer(connection: ASGIConnection[Any, Any, Any, Any]) -> User | None:
    """The caller on an `optional` route: a token that is missing, invalid, expired or revoked
    counts as anonymous (API §1.4), and so does one that cannot be checked right now."""
    credential = credential_of(connection)
    if credential is None:
        return None
    token, via = credential
    if via is AuthMethod.COOKIE and not csrf_passes(str(connection.scope.get("method", "GET")), *csrf_of(connection)):
        return None
    try:
        return (await principal_of(connection, token, via)).user
    except (Unauthenticated, Unavailable):
        return None


def viewer_scope(user: User) -> str:
    """A cache key part for what one viewer may see (API §7.12): role plus user id."""
    return f"{user.role.value}:{user.id}"


def require_roles(*roles: Role, detail: str) -> Any:
    """Guard factory: after `authenticated`, the caller's role must be one of `roles`."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal: Principal = connection.state[PRINCIPAL]
        if principal.user.role not in roles:
            raise Forbidden(detail)

    return guard


admin_only = require_roles(Role.ADMIN, detail=ADMIN_ONLY)


async def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    principal: Principal = request.state[PRINCIPAL]
    return principal


# Path ids are strings to Litestar (so a bad one is a 422 after auth), documented as UUIDs.
UuidPath = Annotated[
    str, PathParameter(format="uuid", description="A UUID", examples=[Example(value=str(UUID(int=1)))])
]


def parse_uuid(name: str, value: str) -> UUID:
    """Path ids are declared as strings so a bad UUID gives 422 (not 404), after authentication."""
    try:
        return UUID(value)
    except ValueError:
        raise FieldsInvalid(VALIDATION_DETAIL, [FieldError(f"path.{name}", "Invalid UUID")]) from None
