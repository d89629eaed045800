// RFC 6238 TOTP (HMAC-SHA1, 30 s, 6 digits) from a Base32 secret: what an
// authenticator app shows. Used by the tests and scripts/dev's demo staff.
//   node scripts/totp.mjs SECRET      prints the current code
import { createHmac } from "node:crypto";
import { fileURLToPath } from "node:url";

/** RFC 4648 Base32 (no padding) to bytes. */
export function base32(s) {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0;
  const out = [];
  for (const ch of s.toUpperCase().replace(/=+$/, "")) {
    const v = abc.indexOf(ch);
    if (v < 0) throw new Error(`not Base32: ${ch}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8; }
  }
  return Buffer.from(out);
}

/** The code at `t` seconds, `drift` steps away. */
export function totp(secret, t = Date.now() / 1000, drift = 0) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 30) + drift));
  const mac = createHmac("sha1", base32(secret)).update(counter).digest();
  const o = mac[19] & 15;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv[2]) { console.error("usage: node scripts/totp.mjs SECRET"); process.exit(2); }
  console.log(totp(process.argv[2]));
}
