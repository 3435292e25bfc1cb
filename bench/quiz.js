// The quiz journey's writes: each virtual user is its own enrolled student, and each iteration
// starts an attempt and submits it (graded at once). Parameters come from the environment.
import http from "k6/http";
import { check } from "k6";

const BASE = __ENV.BASE;
const QUIZ = __ENV.QUIZ_ID;
const TOKENS = JSON.parse(__ENV.TOKENS);
const ANSWERS = __ENV.ANSWERS;

export const options = {
  scenarios: {
    load: {
      executor: "constant-vus",
      vus: parseInt(__ENV.VUS || "32", 10),
      duration: __ENV.DURATION || "10s",
    },
  },
  summaryTrendStats: ["avg", "p(95)", "p(99)"],
};

export default function () {
  const params = {
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${TOKENS[(__VU - 1) % TOKENS.length]}` },
  };
  const started = http.post(`${BASE}/api/v1/quizzes/${QUIZ}/attempts`, null, params);
  if (!check(started, { "expected status": (r) => r.status === 201 })) {
    return;
  }
  const submitted = http.post(`${BASE}/api/v1/quizzes/${QUIZ}/attempts/${started.json("id")}/submit`, ANSWERS, params);
  check(submitted, { "expected status": (r) => r.status === 200 });
}
