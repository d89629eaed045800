// Steps every online-application test takes: walking an item's 情形引导 tree
// to the item itself, and uploading a material file.
import assert from "node:assert/strict";
import { call, postJson } from "./helpers.mjs";

/** A small PDF (its bytes are what the upload check sniffs). */
export const PDF = Buffer.from("%PDF-1.4\n% bianmin e2e\n");

/**
 * Answers the tree of `code` at `url` until it resolves to that item itself
 * (depth first); `onAnswer(r)` sees every answer (a contract check).
 */
export async function walkTree(url, code, answers = [], onAnswer = () => {}) {
  const r = await postJson(url, "/v1/applications/resolve", { item_code: code, answers });
  assert.equal(r.status, 200, r.text);
  onAnswer(r);
  if (r.body.kind === "resolved") return r.body;
  if (r.body.kind === "elsewhere") return null;
  for (const option of r.body.question.options) {
    const found = await walkTree(url, code, [...answers, option], onAnswer);
    if (found) return found;
  }
  return null;
}

/** Uploads `bytes` as `type` for `token`'s applications; answers the upload's id. */
export async function uploadFile(url, token, bytes = PDF, type = "application/pdf", path = "/v1/applications/uploads", onAnswer = () => {}) {
  const r = await call(url, path, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": type }, body: bytes });
  assert.equal(r.status, 201, r.text);
  onAnswer(r);
  return r.body.id;
}
