// Checks live responses against schemas/openapi.json: the status must be one
// the operation declares, and the body must match its JSON Schema.
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";
import { ROOT } from "../../scripts/runtime.mjs";

const spec = JSON.parse(readFileSync(join(ROOT, "schemas", "openapi.json"), "utf8"));
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
ajv.addSchema({ $id: "openapi", components: spec.components });

/** Asserts that `res` ({status, body}) is what the contract promises for `path` `method`. */
export function checkResponse(path, method, res) {
  const op = spec.paths[path]?.[method];
  assert.ok(op, `no operation ${method} ${path} in the contract`);
  const declared = op.responses[String(res.status)];
  assert.ok(declared, `${method} ${path} answered ${res.status}, which the contract does not declare`);
  const schema = declared.content?.["application/json"]?.schema;
  if (!schema) return;
  // A response is one schema or a oneOf of schemas, each a $ref into the contract.
  const ref = (r) => ({ $ref: `openapi${r.$ref}` });
  const validate = ajv.compile(schema.oneOf ? { oneOf: schema.oneOf.map(ref) } : ref(schema));
  if (!validate(res.body)) {
    assert.fail(`${method} ${path} ${res.status} body breaks the contract: ${ajv.errorsText(validate.errors)}`);
  }
}

export { spec };
