"""`/api/v1/coupons`: coupons for every course (admins) or for one course (its instructor) (API §14 Y7)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from adapters.http.commerce.schemas import CouponCreate, CouponResponse
from adapters.http.openapi import errors
from adapters.http.pagination import PageResponse, page_response
from adapters.http.security import SIGNED_IN, UuidPath, coupons_of, parse_uuid
from domain.commerce.coupons import NewCoupon
from domain.identity.model import Principal
from domain.shared.pagination import PageParams


class CouponsController(Controller):
    path = "/coupons"
    tags = ["coupons"]

    @post(
        "/", operation_id="create_coupon", status_code=201, **SIGNED_IN, responses=errors(401, 403, 404, 409, 422, 429)
    )
    async def create_coupon(
        self, *, request: Request[Any, Any, Any], data: JSONBody[CouponCreate], principal: NamedDependency[Principal]
    ) -> CouponResponse:
        """A coupon: exactly one of `percent_off` and `amount_off`. Bound to a course (its
        instructor or an admin) or, without `course_id`, to every course (admins)."""
        new = msgspec.convert(data.checked(), NewCoupon, from_attributes=True)
        return CouponResponse.of(await coupons_of(request).create(principal.user, new))

    @get("/", operation_id="list_coupons", **SIGNED_IN, responses=errors(401, 403, 422, 429))
    async def list_coupons(
        self,
        *,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        paging: NamedDependency[PageParams],
    ) -> Response[PageResponse[CouponResponse]]:
        """Newest first: every coupon (admins), or those of the caller's courses (instructors)."""
        page = await coupons_of(request).list_coupons(principal.user, paging)
        return page_response(request, page, CouponResponse.of)

    @delete("/{coupon_id:str}", operation_id="delete_coupon", **SIGNED_IN, responses=errors(401, 403, 404, 422, 429))
    async def delete_coupon(
        self, *, request: Request[Any, Any, Any], coupon_id: UuidPath, principal: NamedDependency[Principal]
    ) -> None:
        """Remove a coupon; orders made with it keep its code."""
        await coupons_of(request).delete(principal.user, parse_uuid("coupon_id", coupon_id))
