"""The commerce emails: plain text, sent through the job queue."""

from __future__ import annotations

from domain.commerce.model import Order
from domain.shared.ports import EmailMessage


def receipt(to: str, full_name: str, course_title: str, order: Order) -> EmailMessage:
    """What the buyer paid, for which course, and the order to quote."""
    lines = [f"Hello {full_name},", "", f"Thank you for buying {course_title}.", ""]
    lines.append(f"Order:    {order.id}")
    lines.append(f"Price:    {order.amount} {order.currency}")
    if order.discount:
        lines.append(f"Discount: {order.discount} {order.currency} ({order.coupon_code})")
    lines.append(f"Paid:     {order.total} {order.currency}")
    lines += ["", "The LMS team", ""]
    return EmailMessage(to=to, subject=f"Your receipt for {course_title}", body="\n".join(lines))


def refunded(to: str, full_name: str, course_title: str, order: Order) -> EmailMessage:
    body = (
        f"Hello {full_name},\n\n"
        f"Order {order.id} for {course_title} was refunded: {order.total} {order.currency}.\n"
        "Your progress is kept, should you buy the course again.\n\nThe LMS team\n"
    )
    return EmailMessage(to=to, subject=f"Refund for {course_title}", body=body)
