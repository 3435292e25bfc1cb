"""A short journey through a Python client generated from the served OpenAPI document with
openapi-python-client (the package `lms_client`). It must pass `mypy --strict` with no casts, and runs
against a live server: python journey.py <base URL> <admin email> <admin password>."""

from __future__ import annotations

import sys
import time
import uuid

from lms_client import AuthenticatedClient, Client
from lms_client.api.assignments import create_assignment, publish_assignment
from lms_client.api.auth import login, register
from lms_client.api.certificates import download_certificate, list_my_certificates
from lms_client.api.coupons import create_coupon
from lms_client.api.courses import create_course, create_lesson, get_course, list_courses, publish_course
from lms_client.api.enrollments import complete_lesson, enroll
from lms_client.api.grading import get_enrollment_grades, get_gradebook
from lms_client.api.orders import create_order, list_orders
from lms_client.api.submissions import grade_submission, submit_assignment
from lms_client.models import (
    AssignmentCreate,
    AssignmentResponse,
    AuthResponse,
    CertificatePage,
    CouponCreate,
    CouponResponse,
    CourseCreate,
    CoursePage,
    CourseResponse,
    EnrollmentCreate,
    EnrollmentResponse,
    GradebookResponse,
    GradeRequest,
    GradeStatus,
    LessonCreate,
    LessonProgressResponse,
    LessonResponse,
    LessonType,
    LoginRequest,
    MfaChallengeResponse,
    OrderCreate,
    OrderPage,
    OrderResponse,
    OrderStatus,
    Problem,
    ProgressStatus,
    StudentGradesResponse,
    SubmissionCreate,
    SubmissionResponse,
    SubmissionStatus,
    SubmissionType,
    UserCreate,
)
from lms_client.types import File


def signed_in(base: str, answer: AuthResponse | MfaChallengeResponse | Problem | None) -> AuthenticatedClient:
    if not isinstance(answer, AuthResponse):
        raise SystemExit(f"sign-in failed: {answer}")
    return AuthenticatedClient(base_url=base, token=answer.tokens.access_token)


def main(base: str, admin_email: str, admin_password: str) -> None:
    anonymous = Client(base_url=base)
    admin = signed_in(base, login.sync(client=anonymous, body=LoginRequest(email=admin_email, password=admin_password)))

    course = create_course.sync(client=admin, body=CourseCreate(title="Python journey"))
    assert isinstance(course, CourseResponse), course
    lesson = create_lesson.sync(
        client=admin, course_id=course.id, body=LessonCreate(title="The only lesson", lesson_type=LessonType.TEXT)
    )
    assert isinstance(lesson, LessonResponse), lesson
    assert isinstance(publish_course.sync(client=admin, course_id=course.id), CourseResponse)
    assignment = create_assignment.sync(
        client=admin,
        course_id=course.id,
        body=AssignmentCreate(title="Explain a status code", submission_types=[SubmissionType.TEXT], max_points="10"),
    )
    assert isinstance(assignment, AssignmentResponse), assignment
    published = publish_assignment.sync(client=admin, course_id=course.id, assignment_id=assignment.id)
    assert isinstance(published, AssignmentResponse) and published.is_published, published

    email = f"py-{int(time.time() * 1000)}@example.com"
    registration = register.sync(
        client=anonymous, body=UserCreate(email=email, full_name="Py Thon", password="typed-journey-2026")
    )
    student = signed_in(base, registration)

    enrollment = enroll.sync(client=student, body=EnrollmentCreate(course_id=course.id))
    assert isinstance(enrollment, EnrollmentResponse), enrollment
    progress = complete_lesson.sync(client=student, enrollment_id=enrollment.id, lesson_id=lesson.id)
    assert isinstance(progress, LessonProgressResponse) and progress.status is ProgressStatus.COMPLETED, progress

    handed_in = submit_assignment.sync(
        client=student, assignment_id=assignment.id, body=SubmissionCreate(text="409: the state conflicts.")
    )
    assert isinstance(handed_in, SubmissionResponse) and handed_in.status is SubmissionStatus.SUBMITTED, handed_in
    graded = grade_submission.sync(client=admin, submission_id=handed_in.id, body=GradeRequest(points="9"))
    assert isinstance(graded, SubmissionResponse) and graded.final_percentage == "90.00", graded
    book = get_gradebook.sync(client=admin, course_id=course.id)
    assert isinstance(book, GradebookResponse) and [i.id for i in book.items] == [assignment.id], book
    (row,) = book.rows.items
    assert row.grades[0].status is GradeStatus.GRADED and row.course_percentage == "90.00", row
    mine = get_enrollment_grades.sync(client=student, enrollment_id=enrollment.id)
    assert isinstance(mine, StudentGradesResponse) and mine.row.course_percentage == "90.00", mine

    certificates = list_my_certificates.sync(client=student)
    assert isinstance(certificates, CertificatePage) and certificates.items, certificates
    pdf = download_certificate.sync(client=student, certificate_id=certificates.items[0].id)
    assert isinstance(pdf, File), pdf
    assert pdf.payload.read(4) == b"%PDF"

    # Optional-auth routes take an AuthenticatedClient (the generator asks for one whenever a
    # route names a scheme, though `{}` makes it optional): a signed-in reader's, here.
    page = list_courses.sync(client=student, page_size=100)
    assert isinstance(page, CoursePage) and course.id in [item.id for item in page.items], page

    # A paid course: enrolling answers 402 with where to order; a coupon that takes the whole price
    # off pays the order at once, and the student is enrolled.
    paid = create_course.sync(client=admin, body=CourseCreate(title="Paid journey", price="19.00"))
    assert isinstance(paid, CourseResponse) and paid.price == "19.00" and paid.currency == "USD", paid
    create_lesson.sync(
        client=admin, course_id=paid.id, body=LessonCreate(title="Paid lesson", lesson_type=LessonType.TEXT)
    )
    assert isinstance(publish_course.sync(client=admin, course_id=paid.id), CourseResponse)
    refused = enroll.sync(client=student, body=EnrollmentCreate(course_id=paid.id))
    assert isinstance(refused, Problem) and refused.status == 402 and refused.order_url == "/api/v1/orders", refused
    code = f"GIFT-{int(time.time() * 1000)}"
    coupon = create_coupon.sync(client=admin, body=CouponCreate(code=code, percent_off="100", course_id=paid.id))
    assert isinstance(coupon, CouponResponse) and coupon.percent_off == "100.00", coupon
    bought = create_order.sync(client=student, body=OrderCreate(course_id=paid.id, coupon_code=code))
    assert isinstance(bought, OrderResponse) and bought.status is OrderStatus.PAID and bought.total == "0.00", bought
    orders = list_orders.sync(client=student)
    assert isinstance(orders, OrderPage) and [o.id for o in orders.items] == [bought.id], orders

    missing = get_course.sync(client=student, course_id=uuid.UUID(int=0))
    assert isinstance(missing, Problem) and missing.status == 404, missing
    print(f"journey complete: {course.slug}, {certificates.items[0].certificate_number}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
