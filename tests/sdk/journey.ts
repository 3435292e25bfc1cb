// A short journey through a TypeScript client generated from the served OpenAPI document with
// @hey-api/openapi-ts (into ./client). It must compile with `tsc --strict` and no casts, and runs
// against a live server: node out/journey.js <base URL> <admin email> <admin password>.
import { createClient } from "./client/client";
import {
  completeLesson,
  createAssignment,
  createCoupon,
  createOrder,
  createCourse,
  createLesson,
  downloadCertificate,
  enroll,
  getCourse,
  getEnrollmentGrades,
  getGradebook,
  gradeSubmission,
  publishAssignment,
  submitAssignment,
  listCourses,
  listMyCertificates,
  login,
  publishCourse,
  register,
} from "./client/sdk.gen";
import type { AuthResponse, CoursePage, MfaChallengeResponse, Problem } from "./client/types.gen";

function fail(message: string): never {
  throw new Error(message);
}

function signedIn(answer: AuthResponse | MfaChallengeResponse): string {
  if (answer.mfa_required) {
    return fail(`MFA is on for this account (${answer.mfa_method})`); // narrowed by the constant
  }
  return answer.tokens.access_token;
}

async function main(base: string, adminEmail: string, adminPassword: string): Promise<void> {
  const anonymous = createClient({ baseUrl: base });
  const signIn = await login({ client: anonymous, body: { email: adminEmail, password: adminPassword } });
  const adminToken = signIn.data ? signedIn(signIn.data) : fail(`login: ${signIn.error?.detail}`);
  const admin = createClient({ baseUrl: base, auth: () => adminToken });

  const course = (await createCourse({ client: admin, body: { title: "TypeScript journey" } })).data
    ?? fail("create course");
  const lesson = (
    await createLesson({
      client: admin,
      path: { course_id: course.id },
      body: { title: "The only lesson", lesson_type: "text", content: "Hello" },
    })
  ).data ?? fail("create lesson");
  await publishCourse({ client: admin, path: { course_id: course.id } });
  const assignment = (
    await createAssignment({
      client: admin,
      path: { course_id: course.id },
      body: { title: "Explain a status code", submission_types: ["text"], max_points: "10" },
    })
  ).data ?? fail("create assignment");
  await publishAssignment({ client: admin, path: { course_id: course.id, assignment_id: assignment.id } });

  const email = `ts-${Date.now()}@example.com`;
  const registered = await register({
    client: anonymous,
    body: { email, full_name: "Tess Script", password: "typed-journey-2026" },
  });
  const studentToken = registered.data ? signedIn(registered.data) : fail("register");
  const student = createClient({ baseUrl: base, auth: () => studentToken });

  const enrollment = (await enroll({ client: student, body: { course_id: course.id } })).data ?? fail("enroll");
  const progress = await completeLesson({
    client: student,
    path: { enrollment_id: enrollment.id, lesson_id: lesson.id },
  });
  if (progress.data?.status !== "completed") fail("the lesson did not complete");

  const submission = (
    await submitAssignment({
      client: student,
      path: { assignment_id: assignment.id },
      body: { text: "409: the state conflicts." },
    })
  ).data ?? fail("submit");
  const graded = (
    await gradeSubmission({ client: admin, path: { submission_id: submission.id }, body: { points: "9" } })
  ).data ?? fail("grade");
  if (graded.final_percentage !== "90.00") fail(`graded ${graded.final_percentage}`);
  const book = (await getGradebook({ client: admin, path: { course_id: course.id } })).data ?? fail("gradebook");
  const row = book.rows.items[0] ?? fail("no gradebook row");
  if (row.grades[0]?.status !== "graded" || row.course_percentage !== "90.00") fail("gradebook row");
  const mine = (await getEnrollmentGrades({ client: student, path: { enrollment_id: enrollment.id } })).data
    ?? fail("my grades");
  if (mine.row.course_percentage !== "90.00") fail("my grades row");

  const certificates = (await listMyCertificates({ client: student })).data ?? fail("certificates");
  const certificate = certificates.items[0] ?? fail("no certificate was issued");
  const pdf = await downloadCertificate({ client: student, path: { certificate_id: certificate.id } });
  const bytes = new Uint8Array(await (pdf.data ?? fail("download")).arrayBuffer()); // a Blob: binary
  if (String.fromCharCode(...bytes.slice(0, 4)) !== "%PDF") fail("not a PDF");

  const page: CoursePage = (await listCourses({ client: anonymous, query: { page_size: 100 } })).data
    ?? fail("list courses");
  if (!page.items.some((item) => item.id === course.id)) fail("the course is not listed");

  // A paid course: 402 with where to order; a coupon taking the whole price off pays at once.
  const paid = (await createCourse({ client: admin, body: { title: "Paid TS journey", price: "19.00" } })).data
    ?? fail("create paid course");
  await createLesson({ client: admin, path: { course_id: paid.id }, body: { title: "Paid", lesson_type: "text" } });
  await publishCourse({ client: admin, path: { course_id: paid.id } });
  const refused = await enroll({ client: student, body: { course_id: paid.id } });
  if (refused.response?.status !== 402 || refused.error?.order_url !== "/api/v1/orders") fail("expected a 402");
  const code = `GIFT-TS-${Date.now()}`;
  (await createCoupon({ client: admin, body: { code, percent_off: "100", course_id: paid.id } })).data
    ?? fail("create coupon");
  const bought = (await createOrder({ client: student, body: { course_id: paid.id, coupon_code: code } })).data
    ?? fail("create order");
  if (bought.status !== "paid" || bought.total !== "0.00") fail(`the order is ${bought.status}`);

  const missing = await getCourse({ client: anonymous, path: { course_id: "00000000-0000-0000-0000-000000000000" } });
  const problem: Problem | undefined = missing.error;
  if (missing.response?.status !== 404 || problem?.status !== 404) fail("expected a 404 problem");
  console.log(`journey complete: ${course.slug}, ${certificate.certificate_number}, ${bytes.length} PDF bytes`);
}

const [base, adminEmail, adminPassword] = process.argv.slice(2);
main(base ?? fail("base URL"), adminEmail ?? fail("admin email"), adminPassword ?? fail("admin password")).catch(
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
