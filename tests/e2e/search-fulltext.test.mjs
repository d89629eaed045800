// Full text of guides in search (issue 19): a query naming only a material
// finds the items that need it, each saying where it matched (申请材料) with
// the words highlighted; public FAQ entries and guides' Q&A come back as
// questions on the first page; answers carry no personal data.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { boot, call, postJson } from "./helpers.mjs";
import { checkResponse } from "./contract.mjs";
import { demoCatalog } from "../../scripts/catalog/demo.mjs";

const demo = demoCatalog();
let rt;
before(async () => {
  rt = await boot();
  const editor = rt.token(["catalogue_editor", "catalogue_reviewer"]);
  assert.equal((await postJson(rt.url, "/v1/admin/items:import", demo, editor)).status, 200);
  // A public 常见问题 entry, as a handler writes it (source_number: the complaint it came from).
  rt.sql(`INSERT INTO faq (id, question, answer, category, created_by, created_at)
          VALUES ('FAQE2E01', '户口簿丢了还能办事吗？', '可先到户籍窗口补领居民户口簿，补领当天可出具户籍证明。',
                  '户政', 'tok_handler', '2026-11-20T10:00:00+08:00')`);
});
after(async () => { await rt?.stop(); });

const search = (q, more = "") => call(rt.url, `/v1/items/search?q=${encodeURIComponent(q)}&nocache=1${more}`);
const marked = (text, [s, e]) => [...text].slice(s, e).join("");

test("a material-only query finds the items needing it, saying 申请材料 with the words highlighted", async () => {
  const r = await search("户口簿");
  assert.equal(r.status, 200);
  checkResponse("/v1/items/search", "get", r);
  const needing = demo.items.filter((i) => i.materials.some((m) => m.name.includes("户口簿"))).map((i) => i.name);
  assert.ok(needing.length >= 5);
  assert.ok(r.body.total >= needing.length, `${r.body.total} results for ${needing.length} items needing 户口簿`);
  const hit = r.body.items.find((i) => i.name === "居民身份证换领");
  assert.ok(hit, JSON.stringify(r.body.items.map((i) => i.name)));
  assert.equal(hit.matched.field, "materials");
  assert.equal(hit.matched.label, "申请材料");
  assert.ok([...hit.matched.text].length <= 60);
  assert.equal(marked(hit.matched.text, hit.matched.highlights[0]), "户口簿");
  // A name match needs no location.
  const water = await search("水费缴费");
  assert.equal(water.body.items[0].name, "水费缴费");
  assert.equal(water.body.items[0].matched, undefined);
});

test("everyday questions about what to bring are rewritten to the catalogue's words", async () => {
  const r = await search("要带户口本吗");
  assert.equal(r.body.searched, "户口簿");
  assert.ok(r.body.items.some((i) => i.matched?.label === "申请材料"));
  const licence = await search("办营业执照要什么材料");
  checkResponse("/v1/items/search", "get", licence);
  assert.ok(licence.body.items.length > 0);
  assert.ok(licence.body.items.every((i) => i.matched?.text.includes("营业执照")));
});

test("a public FAQ entry and guides' answers come back as questions on the first page only", async () => {
  const r = await search("户口簿");
  assert.ok(r.body.questions.length >= 1 && r.body.questions.length <= 3);
  const faq = r.body.questions.find((q) => q.faq_id === "FAQE2E01");
  assert.ok(faq, JSON.stringify(r.body.questions));
  assert.equal(marked(faq.question, faq.question_highlights[0]), "户口簿");
  assert.ok(faq.highlights.length > 0);
  assert.ok(r.body.questions.every((q) => [...q.answer].length <= 120));
  const guideQa = (await search("委托书")).body.questions.find((q) => q.item_code);
  assert.ok(guideQa?.item_name, "a guide's own Q&A names its item");
  const page2 = await search("户口簿", "&page=2&size=3");
  checkResponse("/v1/items/search", "get", page2);
  assert.deepEqual(page2.body.questions, []);
});

test("answers carry no personal data: no author, complaint or token of a FAQ entry", async () => {
  const r = await search("户口簿");
  const text = JSON.stringify(r.body);
  for (const secret of ["tok_handler", "created_by", "source_number", "created_at"]) assert.ok(!text.includes(secret), secret);
  for (const q of r.body.questions) {
    assert.deepEqual(Object.keys(q).filter((k) => !["question", "answer", "highlights", "question_highlights", "item_code", "item_name", "faq_id"].includes(k)), []);
  }
});
