// The supply-area tree the outage tests share: 义乌市 > 稠城街道 > 宾王小区
// (1幢, 2幢) and 绣湖小区 (1幢), codes yw, cc, bw, xh, bw-1, bw-2, xh-1.
import assert from "node:assert/strict";
import { putJson } from "./helpers.mjs";

export const TOWN = [
  { code: "yw", name: "义乌市", level: "district" }, { code: "cc", name: "稠城街道", level: "street", parent: "yw" },
  { code: "bw", name: "宾王小区", level: "community", parent: "cc" }, { code: "xh", name: "绣湖小区", level: "community", parent: "cc" },
  { code: "bw-1", name: "1幢", level: "building", parent: "bw" }, { code: "bw-2", name: "2幢", level: "building", parent: "bw" },
  { code: "xh-1", name: "1幢", level: "building", parent: "xh" },
];

/** Loads the town's areas as `publisher` (an outage_publisher token). */
export async function loadTown(url, publisher) {
  const res = await putJson(url, "/v1/admin/supply-areas", { areas: TOWN }, publisher);
  assert.equal(res.status, 200, res.text);
}
