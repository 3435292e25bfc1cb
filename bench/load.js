// One k6 scenario: constant virtual users hitting one endpoint. Parameters come from the environment.
import http from "k6/http";
import { check } from "k6";

const BASE = __ENV.BASE;
const PATH = __ENV.PATH_UNDER_TEST;
const METHOD = __ENV.METHOD || "GET";
const BODY = __ENV.BODY || null;
const TOKEN = __ENV.TOKEN || "";
const EXPECT = parseInt(__ENV.EXPECT || "200", 10);
// Optional: one set per virtual user ({token, paths}), each VU rotating over its own paths.
const SETS = __ENV.SETS ? JSON.parse(__ENV.SETS) : null;

export const options = {
  scenarios: {
    load: {
      executor: "constant-vus",
      vus: parseInt(__ENV.VUS || "32", 10),
      duration: __ENV.DURATION || "10s",
    },
  },
  summaryTrendStats: ["avg", "p(95)", "p(99)"],
  discardResponseBodies: true,
};

const params = {
  headers: Object.assign(
    { "Content-Type": "application/json" },
    TOKEN ? { Authorization: `Bearer ${TOKEN}` } : {}
  ),
};

function paramsFor(token) {
  return {
    headers: Object.assign({ "Content-Type": "application/json" }, token ? { Authorization: `Bearer ${token}` } : {}),
  };
}

const setParams = SETS ? SETS.map((set) => paramsFor(set.token)) : null;

export default function () {
  let res;
  if (SETS) {
    const n = (__VU - 1) % SETS.length;
    const paths = SETS[n].paths;
    res = http.request(METHOD, `${BASE}${paths[__ITER % paths.length]}`, BODY, setParams[n]);
  } else {
    res = http.request(METHOD, `${BASE}${PATH}`, BODY, params);
  }
  check(res, { "expected status": (r) => r.status === EXPECT });
}
