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

/// Replaces every run of 11 digits that looks like a mainland mobile and every
/// 18-character ID-number shape in free text (log lines, complaint content
/// shown to a unit) with its masked form.
pub fn redact_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take_while(|c| c.is_ascii_digit() || **c == 'X' || **c == 'x')
            .count();
        let slice: String = chars.get(i..i + run).unwrap_or_default().iter().collect();
        if run == 18 && slice.get(..17).is_some_and(|b| b.bytes().all(|d| d.is_ascii_digit())) {
            out.push_str(&mask_id_number(&slice));
        } else if run == 11 && slice.starts_with('1') && slice.bytes().all(|d| d.is_ascii_digit()) {
            out.push_str(&mask_phone(&slice));
        } else if run > 0 {
            out.push_str(&slice);
        } else if let Some(c) = chars.get(i) {
            out.push(*c);
        }
        i += run.max(1);
    }
    out
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
    }
}
