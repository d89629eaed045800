// Local stand-ins for the outside services bianmin calls, speaking their
// real protocols: WeChat's jscode2session, stable_token and subscribeMessage.send, Aliyun SMS (dysmsapi RPC with
// signature version 1.0, verified here exactly as Aliyun verifies it), the
// external item library's JSON feed (bearer token), and WeChat Pay and
// Alipay (./payments.mjs, with keys generated at start).
// Control endpoints under /__fake/ let tests read sent codes and inject failures.
//   node tests/fakes/providers.mjs [--port 8790]
import { createServer } from "node:http";
import { createHmac, createHash, randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { paymentKeys, paymentFakes, paymentVars } from "./payments.mjs";

export const FAKE_CREDENTIALS = {
  WECHAT_APPID: "wxbianmindev000001",
  WECHAT_SECRET: "dev-wechat-secret",
  ALIYUN_ACCESS_KEY_ID: "LTAIdevbianmin",
  ALIYUN_ACCESS_KEY_SECRET: "dev-aliyun-secret",
  SMS_SIGN_NAME: "义乌便民",
  SMS_TEMPLATE_LOGIN: "SMS_465900001",
  SMS_TEMPLATE_APPOINTMENT: "SMS_465900002",
  SMS_TEMPLATE_REMINDER: "SMS_465900003",
  SMS_TEMPLATE_BILL_OVERDUE: "SMS_465900021",
  SMS_TEMPLATE_OUTAGE_NOTICE: "SMS_465900011",
  SMS_TEMPLATE_OUTAGE_CORRECTION: "SMS_465900012",
  SMS_TEMPLATE_OUTAGE_CANCELLATION: "SMS_465900013",
  SMS_TEMPLATE_OUTAGE_REMINDER: "SMS_465900014",
  SMS_TEMPLATE_OUTAGE_PRESSURE: "SMS_465900015",
  SMS_CALLBACK_TOKEN: "dev-sms-callback-token",
  OPEN311_API_KEYS: "dev:dev-open311-key",
  IDENTITY_PEPPER: "dev-pepper-not-for-production",
  // Development phone-vault key (32 bytes); production keys are secrets (scripts/rekey-phones rotates).
  PHONE_KEYS: "dev1:Ymlhbm1pbi1kZXYtcGhvbmUta2V5LW5vdC1wcm9kISE=",
  ITEM_FEED_TOKEN: "dev-feed-token",
};

/** RFC 3986 percent-encoding as Aliyun specifies it. */
export function pe(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

export function aliyunSignature(method, params, secret) {
  const canonical = Object.keys(params).sort().map((k) => `${pe(k)}=${pe(params[k])}`).join("&");
  return createHmac("sha1", `${secret}&`).update(`${method}&%2F&${pe(canonical)}`).digest("base64");
}

const json = (res, status, body) => { res.writeHead(status, { "content-type": "application/json" }); res.end(JSON.stringify(body)); };
async function push(url, body) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}
const readBody = (req) => new Promise((ok) => { let b = ""; req.on("data", (c) => (b += c)); req.on("end", () => ok(b)); });

export async function startFakes({ port = 0 } = {}) {
  const state = { messages: [], failures: [], usedCodes: new Set(), nonces: new Set(), wechatCalls: 0, feed: { status: 200, items: [] }, feedCalls: 0,
    // Aliyun SMS: calls per Action, numbers the API refuses, numbers the carrier reports blacklisted.
    smsCalls: { SendSms: 0, SendBatchSms: 0 }, badNumbers: new Set(), blacklisted: new Set(), reported: 0 };
  // WeChat 订阅消息: stable_token calls, tokens issued (token -> expiry ms), the current one,
  // messages taken, openids that refuse (43101).
  const wx = { tokenCalls: 0, tokens: new Map(), current: null, sent: [], refusing: new Set() };
  state.wx = wx;

  // The external item library (事项库) feed: `{"items": [...]}` behind a bearer token.
  function feed(req, res) {
    state.feedCalls++;
    if (req.headers.authorization !== `Bearer ${FAKE_CREDENTIALS.ITEM_FEED_TOKEN}`) return json(res, 401, { error: "unauthorized" });
    if (state.feed.status !== 200) return json(res, state.feed.status, { error: "feed down" });
    return json(res, 200, { items: state.feed.items });
  }

  function wechat(url, res) {
    state.wechatCalls++;
    const q = url.searchParams;
    if (q.get("appid") !== FAKE_CREDENTIALS.WECHAT_APPID || q.get("secret") !== FAKE_CREDENTIALS.WECHAT_SECRET) return json(res, 200, { errcode: 40125, errmsg: "invalid appsecret" });
    if (q.get("grant_type") !== "authorization_code") return json(res, 200, { errcode: 40002, errmsg: "invalid grant_type" });
    const code = q.get("js_code") ?? "";
    if (code.startsWith("busy-")) return json(res, 200, { errcode: -1, errmsg: "system error" });
    if (code.startsWith("limit-")) return json(res, 200, { errcode: 45011, errmsg: "api minute-quota reach limit" });
    if (!code.startsWith("ok-")) return json(res, 200, { errcode: 40029, errmsg: "invalid code" });
    if (state.usedCodes.has(code)) return json(res, 200, { errcode: 40163, errmsg: "code been used" });
    state.usedCodes.add(code);
    // The same person ("ok-<who>-<n>") always gets the same openid.
    const who = code.split("-")[1];
    const openid = "o" + createHash("sha256").update(who).digest("base64url").slice(0, 27);
    return json(res, 200, { openid, session_key: randomBytes(16).toString("base64") });
  }

  // WeChat stable_token: {grant_type, appid, secret, force_refresh} -> {access_token, expires_in}.
  // A normal call returns the current token while more than 5 minutes of it remain.
  function stableToken(body, res) {
    wx.tokenCalls++;
    let q;
    try { q = JSON.parse(body); } catch { return json(res, 200, { errcode: 47001, errmsg: "data format error" }); }
    if (q.grant_type !== "client_credential") return json(res, 200, { errcode: 40002, errmsg: "invalid grant_type" });
    if (q.appid !== FAKE_CREDENTIALS.WECHAT_APPID) return json(res, 200, { errcode: 40013, errmsg: "invalid appid" });
    if (q.secret !== FAKE_CREDENTIALS.WECHAT_SECRET) return json(res, 200, { errcode: 40125, errmsg: "invalid appsecret" });
    const now = Date.now();
    const left = wx.current ? (wx.tokens.get(wx.current) ?? 0) - now : 0;
    if (q.force_refresh === true || left <= 300e3) {
      wx.current = "wxtok_" + randomBytes(24).toString("base64url");
      wx.tokens.set(wx.current, now + 7200e3);
    }
    return json(res, 200, { access_token: wx.current, expires_in: Math.floor(((wx.tokens.get(wx.current) ?? now) - now) / 1000) });
  }

  // WeChat subscribeMessage.send: the token, the openid's refusal, the data format.
  function subscribeSend(url, body, res) {
    const token = url.searchParams.get("access_token") ?? "";
    if (!wx.tokens.has(token)) return json(res, 200, { errcode: 40001, errmsg: "invalid credential, access_token is invalid or not latest" });
    if (wx.tokens.get(token) <= Date.now()) return json(res, 200, { errcode: 42001, errmsg: "access_token expired" });
    let m;
    try { m = JSON.parse(body); } catch { return json(res, 200, { errcode: 47001, errmsg: "data format error" }); }
    if (typeof m.touser !== "string" || !/^o[\w-]{10,}$/.test(m.touser)) return json(res, 200, { errcode: 40003, errmsg: "invalid openid" });
    if (typeof m.template_id !== "string" || !m.template_id) return json(res, 200, { errcode: 40037, errmsg: "invalid template_id" });
    const values = Object.entries(m.data ?? {});
    if (values.some(([k, v]) => typeof v?.value !== "string" || (k.startsWith("thing") && [...v.value].length > 20))) return json(res, 200, { errcode: 47003, errmsg: "argument invalid! data.thing.value invalid" });
    if (wx.refusing.has(m.touser)) return json(res, 200, { errcode: 43101, errmsg: "user refuse to accept the msg" });
    const msgid = 2000000000000 + wx.sent.length + 1;
    wx.sent.push({ touser: m.touser, template_id: m.template_id, page: m.page, data: m.data, msgid });
    return json(res, 200, { errcode: 0, errmsg: "ok", msgid });
  }

  function aliyun(body, res) {
    const params = Object.fromEntries(new URLSearchParams(body));
    const { Signature, ...rest } = params;
    const fail = (status, Code, Message) => json(res, status, { Code, Message, RequestId: randomBytes(8).toString("hex") });
    if (rest.AccessKeyId !== FAKE_CREDENTIALS.ALIYUN_ACCESS_KEY_ID) return fail(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
    if (rest.SignatureMethod !== "HMAC-SHA1" || rest.SignatureVersion !== "1.0" || rest.Version !== "2017-05-25") return fail(400, "InvalidParameter", "bad protocol parameters");
    if (Signature !== aliyunSignature("POST", rest, FAKE_CREDENTIALS.ALIYUN_ACCESS_KEY_SECRET)) return fail(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.");
    if (Math.abs(Date.parse(rest.Timestamp) - Date.now()) > 15 * 60 * 1000) return fail(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
    if (state.nonces.has(rest.SignatureNonce)) return fail(400, "SignatureNonceUsed", "Specified signature nonce was used already.");
    state.nonces.add(rest.SignatureNonce);
    const injected = state.failures.shift();
    if (injected) return fail(200, injected, "injected by the test");
    let phones, params_;
    if (rest.Action === "SendSms") { phones = rest.PhoneNumbers.split(","); params_ = JSON.parse(rest.TemplateParam ?? "{}"); }
    else if (rest.Action === "SendBatchSms") { phones = JSON.parse(rest.PhoneNumberJson); params_ = JSON.parse(rest.TemplateParamJson)[0]; }
    else return fail(400, "InvalidAction.NotFound", "Specified api is not found");
    state.smsCalls[rest.Action]++;
    if (phones.length > (rest.Action === "SendSms" ? 1000 : 100)) return fail(200, "isv.MOBILE_COUNT_OVER_LIMIT", "手机号码数量超过限制");
    if (phones.some((p) => !/^1[3-9]\d{9}$/.test(p) || state.badNumbers.has(p))) return fail(200, "isv.MOBILE_NUMBER_ILLEGAL", "非法手机号");
    if (Object.values(params_).some((v) => typeof v !== "string")) return fail(200, "isv.INVALID_JSON_PARAM", "JSON参数不合法，只接受字符串值");
    const bizId = `${Date.now()}${randomBytes(3).toString("hex")}^0`;
    const at = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 19).replace("T", " ");
    for (const phone of phones) state.messages.push({ phone, sign: rest.SignName ?? JSON.parse(rest.SignNameJson)[0], template: rest.TemplateCode, params: params_, bizId, at });
    return json(res, 200, { Code: "OK", Message: "OK", BizId: bizId, RequestId: randomBytes(8).toString("hex") });
  }

  const keys = paymentKeys();
  const pay = paymentFakes(keys);
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, "http://fake");
    const body = await readBody(req);
    if (await pay.handle(req, res, url, body)) return;
    if (url.pathname === "/sns/jscode2session" && req.method === "GET") return wechat(url, res);
    if (url.pathname === "/" && req.method === "POST") return aliyun(body, res);
    if (url.pathname === "/cgi-bin/stable_token" && req.method === "POST") return stableToken(body, res);
    if (url.pathname === "/cgi-bin/message/subscribe/send" && req.method === "POST") return subscribeSend(url, body, res);
    if (url.pathname === "/__fake/wechat-messages") {
      if (req.method === "DELETE") { wx.sent.length = 0; return json(res, 200, {}); }
      const touser = url.searchParams.get("touser");
      return json(res, 200, wx.sent.filter((m) => !touser || m.touser === touser));
    }
    if (url.pathname === "/__fake/wechat" && req.method === "GET") return json(res, 200, { token_calls: wx.tokenCalls, refusing: [...wx.refusing] });
    // {refuse: openid} makes that user refuse (43101); {expire_tokens: true} expires every token issued.
    if (url.pathname === "/__fake/wechat" && req.method === "POST") {
      const c = JSON.parse(body);
      if (c.refuse) wx.refusing.add(c.refuse);
      if (c.accept) wx.refusing.delete(c.accept);
      if (c.expire_tokens) for (const t of wx.tokens.keys()) wx.tokens.set(t, 0);
      return json(res, 200, {});
    }
    if (url.pathname === "/feed/items" && req.method === "GET") return feed(req, res);
    if (url.pathname === "/__fake/feed" && req.method === "PUT") { state.feed = JSON.parse(body); return json(res, 200, {}); }
    if (url.pathname === "/__fake/messages") {
      if (req.method === "DELETE") { state.messages.length = 0; return json(res, 200, {}); }
      const phone = url.searchParams.get("phone");
      return json(res, 200, state.messages.filter((m) => !phone || m.phone === phone));
    }
    if (url.pathname === "/__fake/fail" && req.method === "POST") { const { code, times = 1 } = JSON.parse(body); for (let i = 0; i < times; i++) state.failures.push(code); return json(res, 200, {}); }
    return json(res, 404, { error: "no such fake endpoint" });
  });
  await new Promise((ok) => server.listen(port, "127.0.0.1", ok));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base,
    state,
    /** The bindings that point a worker at these fakes. */
    vars: { ...FAKE_CREDENTIALS, WECHAT_API_BASE: base, SMS_API_BASE: base, ITEM_FEED_URL: `${base}/feed/items?source=e2e`, ...paymentVars(keys, base, FAKE_CREDENTIALS.WECHAT_APPID) },
    keys,
    pay: pay.state,
    lastCode(phone) { const m = state.messages.filter((x) => x.phone === phone).at(-1); return m?.params.code; },
    failNext(code, times = 1) { for (let i = 0; i < times; i++) state.failures.push(code); },
    /** Pushes the delivery receipts (Aliyun SmsReport, HTTP batch push) of the messages not yet reported to `url`. */
    async pushReports(url) {
      const todo = state.messages.slice(state.reported);
      state.reported = state.messages.length;
      const reports = todo.map((m) => {
        const black = state.blacklisted.has(m.phone);
        return { phone_number: m.phone, send_time: m.at, report_time: m.at, success: !black, err_code: black ? "MOBILE_IN_BLACK" : "DELIVERED",
          err_msg: black ? "手机号在黑名单" : "用户接收成功", sms_size: "1", biz_id: m.bizId, out_id: "" };
      });
      let answers = [];
      for (let i = 0; i < reports.length; i += 100) answers.push(await push(url, reports.slice(i, i + 100)));
      return answers;
    },
    /** A citizen's reply (Aliyun SmsUp, HTTP batch push) to `url`. */
    reply(url, phone, content) {
      return push(url, [{ phone_number: phone, send_time: new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 19).replace("T", " "),
        content, sign_name: FAKE_CREDENTIALS.SMS_SIGN_NAME, dest_code: "1065", sequence_id: Date.now() }]);
    },
    close: () => new Promise((ok) => server.close(ok)),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--port");
  const f = await startFakes({ port: i > 0 ? Number(process.argv[i + 1]) : 8790 });
  console.log(`fake WeChat + Aliyun SMS on ${f.base}`);
}
