//! Text handling for Chinese search: normalisation (full-width forms,
//! traditional characters, case, punctuation), character n-grams and pinyin.

use pinyin::ToPinyin;

/// Traditional characters common in service-item queries, with their simplified
/// forms. Not a full converter: it covers the vocabulary of the catalogue
/// (证照, 户籍, 社保, 缴费, 车驾管, 出入境...).
const TRAD_SIMP: &[(char, char)] = &[
    ('證', '证'),
    ('戶', '户'),
    ('號', '号'),
    ('費', '费'),
    ('險', '险'),
    ('醫', '医'),
    ('療', '疗'),
    ('機', '机'),
    ('車', '车'),
    ('駕', '驾'),
    ('駛', '驶'),
    ('護', '护'),
    ('積', '积'),
    ('電', '电'),
    ('氣', '气'),
    ('業', '业'),
    ('發', '发'),
    ('辦', '办'),
    ('務', '务'),
    ('請', '请'),
    ('記', '记'),
    ('開', '开'),
    ('學', '学'),
    ('產', '产'),
    ('權', '权'),
    ('補', '补'),
    ('換', '换'),
    ('領', '领'),
    ('離', '离'),
    ('結', '结'),
    ('稅', '税'),
    ('納', '纳'),
    ('繳', '缴'),
    ('匯', '汇'),
    ('養', '养'),
    ('貸', '贷'),
    ('購', '购'),
    ('買', '买'),
    ('賣', '卖'),
    ('動', '动'),
    ('過', '过'),
    ('錶', '表'),
    ('變', '变'),
    ('銷', '销'),
    ('單', '单'),
    ('據', '据'),
    ('專', '专'),
    ('圖', '图'),
    ('書', '书'),
    ('館', '馆'),
    ('區', '区'),
    ('縣', '县'),
    ('鎮', '镇'),
    ('鄉', '乡'),
    ('網', '网'),
    ('線', '线'),
    ('預', '预'),
    ('約', '约'),
    ('諮', '咨'),
    ('詢', '询'),
    ('訴', '诉'),
    ('議', '议'),
    ('標', '标'),
    ('準', '准'),
    ('價', '价'),
    ('錢', '钱'),
    ('銀', '银'),
    ('現', '现'),
    ('實', '实'),
    ('職', '职'),
    ('聯', '联'),
    ('難', '难'),
    ('殘', '残'),
    ('與', '与'),
    ('們', '们'),
    ('個', '个'),
    ('問', '问'),
    ('題', '题'),
    ('處', '处'),
    ('歲', '岁'),
    ('齡', '龄'),
    ('縮', '缩'),
    ('壓', '压'),
    ('斷', '断'),
    ('營', '营'),
    ('執', '执'),
    ('衛', '卫'),
    ('災', '灾'),
    ('飲', '饮'),
    ('裝', '装'),
    ('設', '设'),
    ('計', '计'),
    ('劃', '划'),
    ('調', '调'),
    ('讓', '让'),
    ('轉', '转'),
    ('貼', '贴'),
    ('兒', '儿'),
    ('嬰', '婴'),
    ('優', '优'),
    ('齊', '齐'),
    ('錄', '录'),
    ('認', '认'),
];

/// Normalises text for matching: full-width ASCII and the ideographic space
/// become half-width, traditional characters simplified, ASCII lowercased,
/// punctuation and symbols dropped, runs of spaces collapsed.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        let c = fold_char(c);
        if is_cjk(c) || c.is_ascii_alphanumeric() {
            out.push(c);
            space = false;
        } else if !space && !out.is_empty() {
            out.push(' ');
            space = true;
        }
    }
    out.trim_end().to_owned()
}

/// One character as [`normalize`] reads it: full-width forms as ASCII,
/// traditional as simplified, lowercase (one character for one, so
/// positions in the original text stay valid).
pub fn fold_char(c: char) -> char {
    let c = match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    };
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    TRAD_SIMP.iter().find(|(t, _)| *t == c).map_or(c, |(_, s)| *s)
}

/// Whether `c` is a CJK unified ideograph (the basic block and extension A).
pub fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// Runs of consecutive CJK characters in normalised text.
pub fn cjk_runs(s: &str) -> Vec<Vec<char>> {
    let mut runs = Vec::new();
    let mut cur = Vec::new();
    for c in s.chars() {
        if is_cjk(c) {
            cur.push(c);
        } else if !cur.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs
}

/// Index terms of a text: every CJK bigram and every CJK character.
pub fn terms(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for run in cjk_runs(s) {
        out.extend(run.iter().map(|c| c.to_string()));
        out.extend(run.windows(2).map(|w| w.iter().collect::<String>()));
    }
    out
}

/// Query terms: bigrams of each CJK run, or the character itself for a
/// one-character run (so 证 and 社保 both work).
pub fn query_terms(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for run in cjk_runs(s) {
        if let [one] = run.as_slice() {
            out.push(one.to_string());
        } else {
            out.extend(run.windows(2).map(|w| w.iter().collect::<String>()));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The plain pinyin syllable of each CJK character (others: the character
/// itself, lowercased, for ASCII).
pub fn syllables(s: &str) -> Vec<String> {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c.to_pinyin() {
            Some(p) => p.plain().to_owned(),
            None => c.to_ascii_lowercase().to_string(),
        })
        .collect()
}

/// Full pinyin without separators (`水费` -> `shuifei`), and initials (`sf`).
pub fn pinyin_forms(s: &str) -> (String, String) {
    let mut full = String::new();
    let mut initials = String::new();
    for c in s.chars() {
        if let Some(p) = c.to_pinyin() {
            full.push_str(p.plain());
            initials.push_str(p.first_letter());
        } else if c.is_ascii_alphanumeric() {
            full.push(c);
            initials.push(c);
        }
    }
    (full, initials)
}

/// The characters of `text` (spaces dropped) where its syllables `syl`
/// read `want`, at the first place they do.
pub fn window(text: &str, syl: &[String], want: &[String]) -> Option<String> {
    if want.is_empty() {
        return None;
    }
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if syl.len() != chars.len() {
        return None;
    }
    let at = syl.windows(want.len()).position(|w| w == want)?;
    chars.get(at..at + want.len()).map(|c| c.iter().collect())
}

/// Whether the query is (mostly) typed as pinyin: letters, no CJK.
pub fn is_pinyin_query(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_alphabetic()) && !s.chars().any(is_cjk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_folds_width_case_traditional_and_punctuation() {
        assert_eq!(normalize("  戶籍證明！ＡＢＣ　水費 "), "户籍证明 abc 水费");
        assert_eq!(normalize("“身份证”怎么办？"), "身份证 怎么办");
    }

    #[test]
    fn query_terms_are_bigrams_or_single_characters() {
        assert_eq!(query_terms("水费缴纳"), ["水费", "缴纳", "费缴"]);
        assert_eq!(query_terms("证"), ["证"]);
        assert_eq!(query_terms("社保 证"), ["社保", "证"]);
        assert!(terms("水费").contains(&"水".to_owned()) && terms("水费").contains(&"水费".to_owned()));
    }

    #[test]
    fn pinyin_forms_give_full_and_initials() {
        assert_eq!(pinyin_forms("水费缴费"), ("shuifeijiaofei".to_owned(), "sfjf".to_owned()));
        assert_eq!(syllables("公积金"), ["gong", "ji", "jin"]);
        assert!(is_pinyin_query("shui fei") && !is_pinyin_query("shui费"));
    }
}
