//! Attack on masking (issue 15, item 15): phone and ID numbers written the
//! way people write them (`+86 138 1234 5678`, `138-1234-5678`,
//! `+8613812345678`, full-width digits, 15-digit IDs, a lowercase `x`) pass
//! `redact_text` and reach public timelines. Property style: many generated
//! numbers in each format inside Chinese text, none survives; ordinary numbers
//! (dates, amounts, 6-digit codes) do.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use shared::pii::redact_text;

/// A small deterministic generator (xorshift64*): the same cases every run.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + self.below(10) as u8)).collect()
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const BEFORE: [&str; 8] = ["我的电话是", "联系人：王先生，", "请拨打", "身份证号", "号码 ", "（", "投诉人", ""];
const AFTER: [&str; 7] = ["，谢谢。", "）", " 联系", "。", "，2026-11-23 来电。", "。金额 25.30 元", ""];

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap(),
            'X' => 'Ｘ',
            'x' => 'ｘ',
            '+' => '＋',
            '-' => '－',
            ' ' => '\u{3000}',
            c => c,
        })
        .collect()
}

/// Back to ASCII digits with separators removed: what a reader recovers.
fn normalized(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            'Ｘ' | 'ｘ' | 'x' => Some('X'),
            ' ' | '\u{3000}' | '-' | '－' | '—' | '+' | '＋' => None,
            c => Some(c),
        })
        .collect()
}

fn phone(g: &mut Gen) -> String {
    format!("1{}{}", g.below(7) + 3, g.digits(9))
}

fn phone_forms(p: &str) -> Vec<String> {
    let (a, b, c) = (&p[..3], &p[3..7], &p[7..]);
    let spaced = format!("{a} {b} {c}");
    let dashed = format!("{a}-{b}-{c}");
    vec![
        p.to_owned(),
        format!("+86 {spaced}"),
        format!("+86-{dashed}"),
        dashed.clone(),
        spaced.clone(),
        format!("+86{p}"),
        format!("+86 {p}"),
        format!("0086{p}"),
        format!("86-{p}"),
        format!("{a}{b}-{c}"),
        full_width(p),
        full_width(&format!("+86 {spaced}")),
        full_width(&dashed),
        format!("{a} {b}{}", full_width(c)),
    ]
}

fn birth(g: &mut Gen) -> (u64, u64, u64) {
    (1930 + g.below(95), 1 + g.below(12), 1 + g.below(28))
}

fn id18(g: &mut Gen) -> String {
    let (y, m, d) = birth(g);
    let body = format!("{}{}{y}{m:02}{d:02}{}", 1 + g.below(6), g.digits(5), g.digits(3));
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body.bytes().zip(W).map(|(b, w)| u32::from(b - b'0') * w).sum();
    let check = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize];
    format!("{body}{check}")
}

fn id15(g: &mut Gen) -> String {
    let (y, m, d) = birth(g);
    format!("{}{}{:02}{m:02}{d:02}{}", 1 + g.below(6), g.digits(5), y % 100, g.digits(3))
}

fn id_forms(id: &str) -> Vec<String> {
    let mut forms = vec![id.to_owned(), full_width(id)];
    if id.len() == 18 {
        let x = format!("{}X", &id[..17]);
        forms.push(x.to_lowercase());
        forms.push(full_width(&x));
        forms.push(format!("{} {} {}", &id[..6], &id[6..14], &id[14..]));
    }
    forms
}

fn in_text(g: &mut Gen, value: &str) -> String {
    format!("{}{value}{}", g.pick(&BEFORE), g.pick(&AFTER))
}

#[test]
fn phones_in_any_common_format_inside_chinese_text_do_not_survive_redaction() {
    let mut g = Gen(0x5EED_0015);
    let mut checked = 0;
    for _ in 0..300 {
        let p = phone(&mut g);
        for form in phone_forms(&p) {
            let text = in_text(&mut g, &form);
            let out = redact_text(&text);
            let seen = normalized(&out);
            assert!(!seen.contains(&p), "phone survives: {text:?} -> {out:?}");
            assert!(
                seen.contains(&format!("{}****{}", &p[..3], &p[7..])),
                "phone not masked in place: {text:?} -> {out:?}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 4_000);
}

#[test]
fn id_numbers_of_15_and_18_digits_with_x_inside_chinese_text_do_not_survive_redaction() {
    let mut g = Gen(0x1D_0015);
    for i in 0..600 {
        let id = if i % 3 == 0 { id15(&mut g) } else { id18(&mut g) };
        for form in id_forms(&id) {
            let text = in_text(&mut g, &form);
            let out = redact_text(&text);
            let seen = normalized(&out);
            let upper = normalized(&form);
            assert!(!seen.contains(&upper), "ID number survives: {text:?} -> {out:?}");
            let birth = if upper.len() == 18 { &upper[6..14] } else { &upper[6..12] };
            let masked = format!("{}{}{}", &upper[..6], "*".repeat(birth.len()), &upper[6 + birth.len()..]);
            assert!(seen.contains(&masked), "ID number not masked in place: {text:?} -> {out:?}");
        }
    }
}

#[test]
fn ordinary_numbers_survive_redaction() {
    let fixed = [
        "2026-11-23 10:30 到窗口办理",
        "2026年11月23日至2026年12月31日",
        "2026-11-23 2026-11-24 两天停水",
        "本月水费 25.30 元，欠费 1,280.50 元，合计 ¥3800",
        "验证码 123456，5分钟内有效",
        "编号20261123001，受理号 202611230001",
        "窗口电话 0579-85112345",
        "第12345678号通知，共 3 页",
        "水表读数 013579 立方米",
        "订单 4200001234202611231234567890",
    ];
    for text in fixed {
        assert_eq!(redact_text(text), text);
    }
    let mut g = Gen(0x0D_0015);
    for _ in 0..2_000 {
        let date = format!("{}-{:02}-{:02}", 2000 + g.below(40), 1 + g.below(12), 1 + g.below(28));
        let amount = format!("{}.{:02}", g.below(100_000), g.below(100));
        let code = g.digits(6);
        let text = format!("{date} 办理，金额 {amount} 元，验证码 {code}，{}", full_width(&date));
        assert_eq!(redact_text(&text), text);
        // Beside a phone, they still survive.
        let p = phone(&mut g);
        let out = redact_text(&format!("{text}，电话 {p}"));
        assert!(out.starts_with(&text), "{out:?}");
    }
}
