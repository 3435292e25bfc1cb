// The student journey: each virtual user is one student and repeats what a learner's session does:
// who am I, my courses, the course's lessons, a progress report, my progress figures.
import http from "k6/http";
import { check } from "k6";

const BASE = __ENV.BASE;
const STUDENTS = JSON.parse(__ENV.STUDENTS); // [{token, course, progress: [paths]}]
const STEPS = ["me", "my_courses", "lessons", "progress", "my_progress"];
const REPORT = JSON.stringify({ status: "in_progress", time_spent_seconds: 30, last_position_seconds: 12 });

export const options = {
  scenarios: {
    journey: { executor: "constant-vus", vus: parseInt(__ENV.VUS || "32", 10), duration: __ENV.DURATION || "10s" },
  },
  summaryTrendStats: ["avg", "p(95)", "p(99)"],
  discardResponseBodies: true,
  // A threshold per step makes the summary carry that step's own latency.
  thresholds: Object.fromEntries(STEPS.map((s) => [`http_req_duration{step:${s}}`, ["max>=0"]])),
};

export default function () {
  const student = STUDENTS[(__VU - 1) % STUDENTS.length];
  const params = (step) => ({
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${student.token}` },
    tags: { step },
  });
  const progress = student.progress[__ITER % student.progress.length];
  const results = [
    http.get(`${BASE}/api/v1/users/me`, params("me")),
    http.get(`${BASE}/api/v1/enrollments/my-courses`, params("my_courses")),
    http.get(`${BASE}/api/v1/courses/${student.course}/lessons`, params("lessons")),
    http.put(`${BASE}${progress}`, REPORT, params("progress")),
    http.get(`${BASE}/api/v1/analytics/my-progress`, params("my_progress")),
  ];
  check(results, { "every step 200": (rs) => rs.every((r) => r.status === 200) });
}
