// Uploads and downloads of one file size: each VU uploads, then downloads what it uploaded.
import http from "k6/http";
import { check } from "k6";

const BASE = __ENV.BASE;
const TOKEN = __ENV.TOKEN;
const SIZE = parseInt(__ENV.SIZE || "10485760", 10);
const payload = new Uint8Array(SIZE).fill(65).buffer;

export const options = {
  scenarios: {
    load: { executor: "constant-vus", vus: parseInt(__ENV.VUS || "4", 10), duration: __ENV.DURATION || "10s" },
  },
  summaryTrendStats: ["avg", "p(95)", "p(99)"],
  discardResponseBodies: false,
};

const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };

export default function () {
  const up = http.post(`${BASE}/api/v1/files/upload`, { file: http.file(payload, "bench.mp4", "video/mp4") }, auth);
  if (!check(up, { "expected status": (r) => r.status === 201 })) {
    return;
  }
  const down = http.get(`${BASE}/api/v1/files/download/${up.json("id")}`, Object.assign({ responseType: "none" }, auth));
  check(down, { "expected status": (r) => r.status === 200 });
}
