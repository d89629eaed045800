// Generates schemas/openapi.json (OpenAPI 3.1) from the JSON Schemas in
// schemas/json/ and the route tables: guide-detail's below, and the planned
// routes of the other workers read from their `ROUTES` constants, so the
// contract lists exactly what the code answers.
//   node scripts/gen-openapi.mjs          write schemas/openapi.json
//   node scripts/gen-openapi.mjs --check  fail if it is out of date
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, FUNCTIONS } from "./runtime.mjs";

const dir = join(ROOT, "schemas", "json");
const ref = (name) => ({ $ref: `#/components/schemas/${name}` });
const json = (name, description) => ({ description, content: { "application/json": { schema: ref(name) } } });
const ERR = (d) => json("error", d);

function loadSchemas() {
  const out = {};
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".json")).sort()) {
    const s = JSON.parse(readFileSync(join(dir, f), "utf8"));
    delete s.$schema; delete s.$id;
    out[f.replace(/\.json$/, "")] = JSON.parse(JSON.stringify(s).replace(/"\$ref":"([a-z-]+)\.json"/g, '"$ref":"#/components/schemas/$1"'));
  }
  return out;
}

const codeParam = { name: "item_code", in: "path", required: true, description: "实施编码（31位）", schema: { type: "string", pattern: "^[0-9A-HJ-NPQRTUWXY]{18}[1-6][0-9]{12}$" } };
const q = (name, description, schema, required = false) => ({ name, in: "query", required, description, schema });
const common = { 400: ERR("请求参数有误"), 503: ERR("存储暂不可用，可重试") };
const admin = { 401: ERR("令牌缺失或无效"), 403: ERR("角色不符") };

const GUIDE_DETAIL = {
  "/v1/health": { get: { operationId: "health", summary: "静态基线（探活、压测基准）", responses: { 200: json("health", "正常") } } },
  "/v1/guides/{item_code}": { get: { operationId: "getGuide", summary: "办事指南全文", parameters: [codeParam, { name: "If-None-Match", in: "header", schema: { type: "string" } }],
    responses: { 200: json("guide", "指南全文，带强 ETag"), 304: { description: "未修改" }, 404: ERR("事项不存在"), ...common } } },
  "/v1/guides/{item_code}/materials": { get: { operationId: "getMaterials", summary: "申请材料目录", parameters: [codeParam],
    responses: { 200: json("materials", "材料目录，带强 ETag"), 304: { description: "未修改" }, 404: ERR("事项不存在"), ...common } } },
  "/v1/halls": { get: { operationId: "listHalls", summary: "全部办事大厅", responses: { 200: json("hall-list", "大厅列表"), ...common } } },
  "/v1/halls/nearby": { get: { operationId: "nearbyHalls", summary: "按距离排序的附近大厅",
    parameters: [q("lat", "纬度", { type: "number" }, true), q("lng", "经度", { type: "number" }, true), q("item", "只看能办理该事项的大厅", { type: "string" }), q("limit", "最多返回数", { type: "integer", minimum: 1, maximum: 50 })],
    responses: { 200: json("nearby-halls", "附近大厅"), ...common } } },
  "/v1/halls/{id}": { get: { operationId: "getHall", summary: "大厅详情", parameters: [{ name: "id", in: "path", required: true, schema: { type: "string", maxLength: 32 } }],
    responses: { 200: json("hall-detail", "大厅详情及可办事项"), 404: ERR("大厅不存在"), ...common } } },
  "/v1/admin/items:import": { post: { operationId: "importItems", summary: "事项目录批量导入（全部成功或全部不导入）", security: [{ adminToken: [] }],
    requestBody: { required: true, content: { "application/json": { schema: ref("import-request") } } },
    responses: { 200: json("import-outcome", "已导入"), 413: ERR("内容过大"), 415: ERR("不是 JSON"), 422: ERR("校验未通过，列出每一处错误"), ...admin, ...common } } },
  "/v1/admin/audit-log": { get: { operationId: "auditLog", summary: "审计日志（auditor）", security: [{ adminToken: [] }],
    parameters: [q("before", "游标：只看 id 小于它的条目", { type: "integer" }), q("size", "每页条数", { type: "integer", minimum: 1, maximum: 100 })],
    responses: { 200: json("audit-page", "一页审计日志"), ...admin, ...common } } },
};

/** The `ROUTES` constant of a planned worker. */
function plannedRoutes(name) {
  const src = readFileSync(join(ROOT, "functions", name, "src", "lib.rs"), "utf8");
  return [...src.matchAll(/\("(GET|POST|PUT|PATCH|DELETE)", "([^"]+)"\)/g)].map((m) => [m[1].toLowerCase(), m[2]]);
}

export function buildOpenApi() {
  const paths = structuredClone(GUIDE_DETAIL);
  paths["/v1/halls/{id}/slots"] = { get: planned("appointment", "/v1/halls/{id}/slots") };
  for (const name of FUNCTIONS.filter((n) => n !== "guide-detail")) {
    for (const [method, path] of plannedRoutes(name)) {
      paths[path] ??= {};
      paths[path][method] = planned(name, path);
    }
  }
  for (const [path, ops] of Object.entries(paths)) {
    const names = [...path.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]);
    for (const op of Object.values(ops)) {
      if (op.tags?.includes("planned")) {
        op.parameters = names.map((n) => ({ name: n, in: "path", required: true, schema: { type: "string" } }));
      }
    }
  }
  return {
    openapi: "3.1.0",
    info: { title: "bianmin 便民 API", version: "0.1.0", description: "城市便民服务边缘函数。所有错误均为统一的 JSON 信封，见 components.schemas.error 与 schemas/error-codes.json。" },
    servers: [{ url: "https://api.bianmin.example.cn" }, { url: "http://127.0.0.1:8787", description: "scripts/dev" }],
    paths: Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b))),
    components: {
      schemas: loadSchemas(),
      securitySchemes: { adminToken: { type: "http", scheme: "bearer", description: "scripts/admin-token 生成的管理令牌（bma_...）" } },
    },
  };
}

function planned(worker, path) {
  return { operationId: `planned_${worker}_${path.replace(/[^a-z0-9]+/gi, "_")}`.replace(/_+$/, ""), tags: ["planned"],
    summary: `由 ${worker} 提供，建设中`, responses: { 501: ERR("not_implemented：功能建设中") } };
}

const text = JSON.stringify(buildOpenApi(), null, 2) + "\n";
const target = join(ROOT, "schemas", "openapi.json");
if (process.argv.includes("--check")) {
  if (readFileSync(target, "utf8") !== text) { console.error("schemas/openapi.json is out of date: run node scripts/gen-openapi.mjs"); process.exit(1); }
} else {
  writeFileSync(target, text);
}
