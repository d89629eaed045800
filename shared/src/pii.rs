//! Masking of personal data (GB/T 35273). Responses and log lines carry only
//! these masked forms; the full value leaves a newtype only through `expose`.

/// `13812345678` -> `138****5678`. Anything not 11 characters is fully masked.
pub fn mask_phone(phone: &str) -> String {
    mask_middle(phone, 3, 4, 11)
}

/// `11010519491231002X` -> `110105********002X` (region kept, birth date hidden).
pub fn mask_id_number(id: &str) -> String {
    mask_middle(id, 6, 4, 18)
}

/// `张三` -> `张*`, `欧阳娜娜` -> `欧***`: only the family name's first character stays.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
        None => String::new(),
    }
}

fn mask_middle(s: &str, keep_head: usize, keep_tail: usize, expected_len: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() != expected_len {
        return "*".repeat(chars.len().max(4));
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < keep_head || i >= expected_len - keep_tail { *c } else { '*' })
        .collect()
}

/// A digit as written: ASCII or full-width (`０`-`９`).
fn digit(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '０'..='９' => u8::try_from(c as u32 - '０' as u32).ok(),
        _ => None,
    }
}

/// The check character of an 18-character ID number (`X` in either width or case).
fn is_x(c: char) -> bool {
    matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')
}

/// What people put between groups of digits: spaces and hyphens, ASCII or full-width.
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '\u{3000}' | '\u{a0}' | '-' | '－' | '‐' | '–' | '—')
}

/// Most separator characters between two groups (`138 - 1234`).
const MAX_SEPARATOR_RUN: usize = 3;

/// Reads digit groups of the given sizes from `at`, each group optionally
/// followed by a short run of separators before the next, the last group's
/// final character optionally an `X`. Returns the position of every character
/// read as part of a group and the position just after the match.
fn groups(chars: &[char], at: usize, sizes: &[usize], x_last: bool) -> Option<(Vec<usize>, usize)> {
    let total: usize = sizes.iter().sum();
    let mut pos = Vec::with_capacity(total);
    let mut i = at;
    for (g, size) in sizes.iter().enumerate() {
        if g > 0 {
            let run = chars.get(i..).unwrap_or_default().iter().take_while(|c| is_separator(**c)).count();
            if run > MAX_SEPARATOR_RUN {
                return None;
            }
            i += run;
        }
        for _ in 0..*size {
            let c = *chars.get(i)?;
            let last = pos.len() + 1 == total;
            if digit(c).is_none() && !(last && x_last && is_x(c)) {
                return None;
            }
            pos.push(i);
            i += 1;
        }
    }
    // Part of a longer number: not this shape.
    if chars.get(i).is_some_and(|c| digit(*c).is_some() || is_x(*c)) {
        return None;
    }
    Some((pos, i))
}

fn digits_at(chars: &[char], pos: &[usize]) -> Vec<u8> {
    pos.iter().filter_map(|p| chars.get(*p).copied().and_then(digit)).collect()
}

/// A plausible birth date: month 01-12, day 01-31.
fn plausible_month_day(d: &[u8]) -> bool {
    match d {
        [m1, m2, d1, d2] => {
            let (m, day) = (m1 * 10 + m2, d1 * 10 + d2);
            (1..=12).contains(&m) && (1..=31).contains(&day)
        }
        _ => false,
    }
}

/// A mainland mobile number (`1[3-9]` and 9 more digits) at `at`, written
/// plain or in 3-4-4 groups, with an optional `+86`/`0086`/`86` before it.
/// Returns the positions of its 11 digits and the end of the match.
fn phone_at(chars: &[char], at: usize) -> Option<(Vec<usize>, usize)> {
    let national = |from: usize| {
        groups(chars, from, &[3, 4, 4], false)
            .filter(|(pos, _)| matches!(digits_at(chars, pos).as_slice(), [1, 3..=9, ..]))
    };
    let mut i = at;
    if matches!(chars.get(i), Some('+' | '＋')) {
        i += 1;
    } else if chars.get(i..i + 2).is_some_and(|p| p.iter().all(|c| digit(*c) == Some(0))) {
        i += 2;
    }
    let prefixed = chars.get(i..i + 2).and_then(|p| p.iter().map(|c| digit(*c)).collect::<Option<Vec<_>>>());
    if prefixed.as_deref() == Some(&[8, 6]) {
        let after = i + 2;
        let run = chars.get(after..).unwrap_or_default().iter().take_while(|c| is_separator(**c)).count();
        if run <= MAX_SEPARATOR_RUN
            && let Some(found) = national(after + run)
        {
            return Some(found);
        }
    }
    national(at)
}

/// An ID number at `at`: 18 characters (17 digits and a digit or `X`) or 15
/// digits with a plausible birth date, plain or grouped 6-8-4 / 6-6-3.
/// Returns the positions of its characters and the end of the match.
fn id_number_at(chars: &[char], at: usize) -> Option<(Vec<usize>, usize)> {
    let first_ok =
        |pos: &Vec<usize>| pos.first().and_then(|p| chars.get(*p)).and_then(|c| digit(*c)).is_some_and(|d| d > 0);
    for sizes in [&[18][..], &[6, 8, 4]] {
        if let Some(found) = groups(chars, at, sizes, true).filter(|(pos, _)| first_ok(pos)) {
            return Some(found);
        }
    }
    for sizes in [&[15][..], &[6, 6, 3]] {
        if let Some(found) = groups(chars, at, sizes, false).filter(|(pos, _)| {
            first_ok(pos) && plausible_month_day(digits_at(chars, pos).get(8..12).unwrap_or_default())
        }) {
            return Some(found);
        }
    }
    None
}

/// Replaces, in free text (log lines, complaint replies on public timelines),
/// every mainland mobile number and every 15- or 18-character ID number as
/// people write them: plain, in groups with spaces or hyphens, after `+86`,
/// in full-width digits, with `X` or `x`. The digits that identify (a phone's
/// middle four, an ID's birth date) become `*`; the rest keeps its form.
/// Other numbers (dates, amounts, codes, longer or shorter runs) are left alone.
pub fn redact_text(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts_number = i == 0 || chars.get(i - 1).is_some_and(|c| digit(*c).is_none());
        if !starts_number {
            i += 1;
            continue;
        }
        let hidden = if let Some((pos, end)) = id_number_at(&chars, i) {
            let birth = if pos.len() == 18 { 8 } else { 6 };
            Some((pos.into_iter().skip(6).take(birth).collect::<Vec<_>>(), end))
        } else if let Some((pos, end)) = phone_at(&chars, i) {
            Some((pos.into_iter().skip(3).take(4).collect(), end))
        } else {
            None
        };
        match hidden {
            Some((pos, end)) => {
                for p in pos {
                    if let Some(c) = chars.get_mut(p) {
                        *c = '*';
                    }
                }
                i = end;
            }
            None => i += 1,
        }
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_only_what_is_needed_to_recognise_the_value() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_id_number("11010519491231002X"), "110105********002X");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("王"), "王*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn redact_text_masks_phones_and_ids_inside_sentences() {
        let s = redact_text("我的电话13812345678，身份证11010519491231002X，订单123456");
        assert_eq!(s, "我的电话138****5678，身份证110105********002X，订单123456");
        assert!(!redact_text("call 13812345678").contains("12345678"));
        assert_eq!(redact_text("水费 25.30 元"), "水费 25.30 元");
        assert_eq!(redact_text("微信WX13812345678"), "微信WX138****5678");
        assert_eq!(redact_text("+86 138 1234 5678"), "+86 138 **** 5678");
        assert_eq!(redact_text("１３８１２３４５６７８"), "１３８****５６７８");
        assert_eq!(redact_text("身份证110105491231002"), "身份证110105******002");
        assert_eq!(redact_text("1381234567890 与 2026-11-23"), "1381234567890 与 2026-11-23");
    }
}
