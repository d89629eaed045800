// Local stand-ins for WeChat Pay APIv3 and the Alipay open gateway, speaking
// their real protocols with keys generated at start:
//  - WeChat Pay: requests must carry a valid WECHATPAY2-SHA256-RSA2048
//    Authorization (verified with the merchant's public key); answers and
//    notifications are signed with the platform certificate's key or the
//    微信支付公钥 (Wechatpay-Serial says which), resources encrypted with
//    AEAD_AES_256_GCM under the APIv3 key.
//  - Alipay: gateway requests and order strings verified with the app's
//    public key (RSA2 over the sorted parameters); answers and notifications
//    signed with Alipay's key.
// Control endpoints (/__fake/wechatpay/pay, /__fake/alipay/pay) play the
// payer: they check what the mini-program would hand to the payment UI,
// mark the trade paid and (unless told not to) deliver the notification.
import { generateKeyPairSync, createSign, createVerify, createCipheriv, randomBytes, randomUUID } from "node:crypto";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const pem = (k) => k.export({ type: "spki", format: "pem" });
const privPem = (k) => k.export({ type: "pkcs8", format: "pem" });
const rsa = () => generateKeyPairSync("rsa", { modulusLength: 2048 });
export const sign = (key, text) => createSign("RSA-SHA256").update(text).sign(key, "base64");
export const verify = (key, text, sig) => { try { return createVerify("RSA-SHA256").update(text).verify(key, sig, "base64"); } catch { return false; } };

/** A self-signed certificate for `key` with a fixed serial (WeChat Pay's platform certificate stand-in). */
function certificate(privateKey, serialHex) {
  const dir = mkdtempSync(join(tmpdir(), "bianmin-cert-"));
  try {
    writeFileSync(join(dir, "k.pem"), privPem(privateKey));
    execFileSync("openssl", ["req", "-x509", "-new", "-key", join(dir, "k.pem"), "-subj", "/C=CN/O=Tenpay.com/CN=Tenpay.com Root CA",
      "-days", "3", "-set_serial", `0x${serialHex}`, "-out", join(dir, "c.pem")], { stdio: "ignore" });
    return readFileSync(join(dir, "c.pem"), "utf8");
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

export function paymentKeys() {
  const merchant = rsa(), platform = rsa(), wxpub = rsa(), alipay = rsa(), app = rsa();
  const certSerial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
  return {
    merchant, platform, wxpub, alipay, app, certSerial,
    pubKeyId: "PUB_KEY_ID_0119000001092026112300000001",
    certPem: certificate(platform.privateKey, certSerial),
    apiv3: "bianminDevAPIv3Key00000000000032",
    mchid: "1900000109",
    merchantSerial: "3775B6A45ACD588826D15E583A95F5DD2C4C4AF0",
    alipayAppId: "2021000000000001",
    alipaySeller: "2088000000000001",
  };
}

/** The worker configuration that points at these fakes. */
export function paymentVars(k, base, appid) {
  return {
    WECHATPAY_API_BASE: base, WECHATPAY_MCHID: k.mchid, WECHATPAY_MERCHANT_SERIAL: k.merchantSerial,
    WECHATPAY_MERCHANT_KEY: privPem(k.merchant.privateKey), WECHATPAY_APIV3_KEY: k.apiv3,
    WECHATPAY_PLATFORM_CERTS: k.certPem, WECHATPAY_PUBLIC_KEY_ID: k.pubKeyId, WECHATPAY_PUBLIC_KEY: pem(k.wxpub.publicKey),
    ALIPAY_GATEWAY: `${base}/gateway.do`, ALIPAY_APP_ID: k.alipayAppId, ALIPAY_SELLER_ID: k.alipaySeller,
    ALIPAY_APP_PRIVATE_KEY: privPem(k.app.privateKey), ALIPAY_PUBLIC_KEY: pem(k.alipay.publicKey),
    WECHAT_APPID: appid,
  };
}

/** WeChat Pay's signature headers for `body`, signed as `signer` ("cert" or "pubkey"). */
export function wechatSign(k, body, { signer = "cert", timestamp = Math.floor(Date.now() / 1000), nonce = randomBytes(16).toString("hex") } = {}) {
  const key = signer === "pubkey" ? k.wxpub.privateKey : k.platform.privateKey;
  return {
    "Wechatpay-Timestamp": String(timestamp),
    "Wechatpay-Nonce": nonce,
    "Wechatpay-Signature": sign(key, `${timestamp}\n${nonce}\n${body}\n`),
    "Wechatpay-Serial": signer === "pubkey" ? k.pubKeyId : k.certSerial,
    "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
  };
}

/** A complete WeChat Pay notification for `transaction`: {headers, body}. */
export function wechatNotification(k, transaction, opts = {}) {
  const nonce = randomBytes(6).toString("hex");
  const aad = "transaction";
  const c = createCipheriv("aes-256-gcm", Buffer.from(k.apiv3), Buffer.from(nonce));
  c.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([c.update(JSON.stringify(transaction), "utf8"), c.final(), c.getAuthTag()]).toString("base64");
  const body = JSON.stringify({
    id: randomUUID(), create_time: new Date().toISOString().replace(/\.\d+Z$/, "+00:00"), resource_type: "encrypt-resource",
    event_type: "TRANSACTION.SUCCESS", summary: "支付成功",
    resource: { original_type: "transaction", algorithm: "AEAD_AES_256_GCM", ciphertext: ct, associated_data: aad, nonce },
  });
  return { headers: { "content-type": "application/json", ...wechatSign(k, body, opts) }, body };
}

/** Alipay's v1 notification signature (without sign and sign_type). */
export function alipaySign(k, params) {
  const text = Object.keys(params).filter((x) => x !== "sign" && x !== "sign_type" && params[x] !== "" && params[x] != null).sort().map((x) => `${x}=${params[x]}`).join("&");
  return { ...params, sign_type: "RSA2", sign: sign(k.alipay.privateKey, text) };
}

const requestString = (p) => Object.keys(p).filter((x) => x !== "sign" && p[x] !== "" && p[x] != null).sort().map((x) => `${x}=${p[x]}`).join("&");
const beijing = (d = new Date()) => new Date(d.getTime() + 8 * 3600e3).toISOString().slice(0, 19).replace("T", " ");

export function paymentFakes(k) {
  const state = { wechat: new Map(), alipay: new Map(), calls: { prepay: 0, wxquery: 0, aliquery: 0 } };
  const send = (res, status, body, headers = {}) => { res.writeHead(status, { "content-type": "application/json", ...headers }); res.end(body); };
  const wxAnswer = (res, status, obj) => { const body = JSON.stringify(obj); send(res, status, body, status === 200 ? wechatSign(k, body) : {}); };

  function wxAuth(req, path, body) {
    const m = /^WECHATPAY2-SHA256-RSA2048 (.*)$/.exec(req.headers.authorization ?? "");
    if (!m) return "no Authorization";
    const f = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (f.mchid !== k.mchid) return "mchid";
    if (f.serial_no !== k.merchantSerial) return "serial_no";
    if (Math.abs(Number(f.timestamp) - Date.now() / 1000) > 300) return "timestamp";
    if (!verify(k.merchant.publicKey, `${req.method}\n${path}\n${f.timestamp}\n${f.nonce_str}\n${body}\n`, f.signature)) return "signature";
    return null;
  }

  function transaction(o) {
    return { appid: o.appid, mchid: o.mchid, out_trade_no: o.out_trade_no, transaction_id: o.transaction_id, trade_type: "JSAPI",
      trade_state: o.trade_state, trade_state_desc: o.trade_state === "SUCCESS" ? "支付成功" : "未支付", bank_type: "OTHERS",
      success_time: o.success_time, payer: { openid: o.openid }, amount: { total: o.total, payer_total: o.total, currency: "CNY", payer_currency: "CNY" } };
  }

  async function deliver(url, init) {
    const r = await fetch(url, init);
    return { status: r.status, body: await r.text() };
  }

  // Returns true when it handled the request.
  async function handle(req, res, url, body) {
    const path = url.pathname + url.search;
    if (url.pathname === "/v3/pay/transactions/jsapi" && req.method === "POST") {
      state.calls.prepay++;
      const bad = wxAuth(req, path, body);
      if (bad) { return send(res, 401, JSON.stringify({ code: "SIGN_ERROR", message: `签名错误 (${bad})` })), true; }
      const o = JSON.parse(body);
      if (o.mchid !== k.mchid || !o.appid || !o.payer?.openid || !Number.isInteger(o.amount?.total) || o.amount.total <= 0 || !/^[\w-]{6,32}$/.test(o.out_trade_no) || !o.notify_url?.startsWith("http")) {
        return send(res, 400, JSON.stringify({ code: "PARAM_ERROR", message: "参数错误" })), true;
      }
      const old = state.wechat.get(o.out_trade_no);
      if (old && old.total !== o.amount.total) return send(res, 400, JSON.stringify({ code: "INVALID_REQUEST", message: "201 商户订单号重复" })), true;
      const rec = old ?? { appid: o.appid, mchid: o.mchid, out_trade_no: o.out_trade_no, total: o.amount.total, openid: o.payer.openid,
        notify_url: o.notify_url, description: o.description, trade_state: "NOTPAY", prepay_id: `wx${Date.now()}${randomBytes(8).toString("hex")}` };
      state.wechat.set(o.out_trade_no, rec);
      return wxAnswer(res, 200, { prepay_id: rec.prepay_id }), true;
    }
    const q = /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)$/.exec(url.pathname);
    if (q && req.method === "GET") {
      state.calls.wxquery++;
      const bad = wxAuth(req, path, "");
      if (bad) return send(res, 401, JSON.stringify({ code: "SIGN_ERROR", message: bad })), true;
      const o = state.wechat.get(decodeURIComponent(q[1]));
      if (!o || url.searchParams.get("mchid") !== k.mchid) return send(res, 404, JSON.stringify({ code: "ORDER_NOT_EXIST", message: "订单不存在" })), true;
      return wxAnswer(res, 200, transaction(o)), true;
    }
    if (url.pathname === "/__fake/wechatpay/pay" && req.method === "POST") {
      // The payer: what wx.requestPayment checks, then the notification.
      const { params, deliver: go = true, signer = "cert" } = JSON.parse(body);
      const o = [...state.wechat.values()].find((x) => `prepay_id=${x.prepay_id}` === params.package);
      if (!o) return send(res, 404, JSON.stringify({ error: "unknown prepay_id" })), true;
      const signed = `${params.appId}\n${params.timeStamp}\n${params.nonceStr}\n${params.package}\n`;
      if (params.appId !== o.appid || params.signType !== "RSA" || !verify(k.merchant.publicKey, signed, params.paySign)) {
        return send(res, 400, JSON.stringify({ error: "paySign does not verify" })), true;
      }
      if (o.trade_state !== "SUCCESS") {
        Object.assign(o, { trade_state: "SUCCESS", transaction_id: `42000${Date.now()}${randomBytes(4).toString("hex")}`, success_time: new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 19) + "+08:00" });
      }
      const n = wechatNotification(k, transaction(o), { signer });
      const answer = go ? await deliver(o.notify_url, { method: "POST", headers: n.headers, body: n.body }) : null;
      return send(res, 200, JSON.stringify({ out_trade_no: o.out_trade_no, transaction: transaction(o), notification: n, notify_url: o.notify_url, answer })), true;
    }
    if (url.pathname === "/gateway.do" && req.method === "POST") {
      const p = Object.fromEntries(new URLSearchParams(body));
      if (p.app_id !== k.alipayAppId || p.sign_type !== "RSA2" || !verify(k.app.publicKey, requestString(p), p.sign)) {
        const node = { code: "40002", msg: "Invalid Arguments", sub_code: "isv.invalid-signature", sub_msg: "验签出错" };
        return send(res, 200, JSON.stringify({ error_response: node })), true;
      }
      if (p.method !== "alipay.trade.query") return send(res, 200, JSON.stringify({ error_response: { code: "40004", msg: "Business Failed", sub_code: "isv.invalid-method" } })), true;
      state.calls.aliquery++;
      const t = state.alipay.get(JSON.parse(p.biz_content).out_trade_no);
      const nodeObj = t
        ? { code: "10000", msg: "Success", trade_no: t.trade_no, out_trade_no: t.out_trade_no, buyer_logon_id: "159****5620", trade_status: t.trade_status, total_amount: t.total_amount, send_pay_date: t.gmt_payment }
        : { code: "40004", msg: "Business Failed", sub_code: "ACQ.TRADE_NOT_EXIST", sub_msg: "交易不存在" };
      const node = JSON.stringify(nodeObj);
      return send(res, 200, `{"alipay_trade_query_response":${node},"sign":"${sign(k.alipay.privateKey, node)}"}`), true;
    }
    if (url.pathname === "/__fake/alipay/pay" && req.method === "POST") {
      // The payer: the order string the mini-program passes to Alipay must verify.
      const { order_string, deliver: go = true, status = "TRADE_SUCCESS" } = JSON.parse(body);
      const p = Object.fromEntries(new URLSearchParams(order_string));
      if (p.app_id !== k.alipayAppId || p.method !== "alipay.trade.app.pay" || !verify(k.app.publicKey, requestString(p), p.sign)) {
        return send(res, 400, JSON.stringify({ error: "order string does not verify" })), true;
      }
      const biz = JSON.parse(p.biz_content);
      const t = state.alipay.get(biz.out_trade_no) ?? { out_trade_no: biz.out_trade_no, trade_no: `2026${Date.now()}${randomBytes(3).toString("hex")}`, total_amount: biz.total_amount, subject: biz.subject, notify_url: p.notify_url, gmt_create: beijing() };
      t.trade_status = status;
      t.gmt_payment ??= beijing();
      state.alipay.set(t.out_trade_no, t);
      const n = alipayNotification(k, t);
      const answer = go ? await deliver(t.notify_url, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" }, body: new URLSearchParams(n).toString() }) : null;
      return send(res, 200, JSON.stringify({ out_trade_no: t.out_trade_no, notification: n, notify_url: t.notify_url, answer })), true;
    }
    return false;
  }
  return { state, handle };
}

/** A signed Alipay trade_status_sync notification for trade `t`. */
export function alipayNotification(k, t, extra = {}) {
  return alipaySign(k, {
    notify_time: beijing(), notify_type: "trade_status_sync", notify_id: randomBytes(16).toString("hex"), charset: "utf-8", version: "1.0",
    app_id: k.alipayAppId, seller_id: k.alipaySeller, trade_no: t.trade_no, out_trade_no: t.out_trade_no, trade_status: t.trade_status,
    total_amount: t.total_amount, receipt_amount: t.total_amount, buyer_pay_amount: t.total_amount, buyer_id: "2088102122524333",
    subject: t.subject ?? "水费", gmt_create: t.gmt_create ?? beijing(), gmt_payment: t.gmt_payment ?? beijing(), ...extra,
  });
}
