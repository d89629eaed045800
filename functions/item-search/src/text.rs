//! Text handling for Chinese search: normalisation (full-width forms,
//! traditional characters, case, punctuation), character n-grams and pinyin.

use pinyin::ToPinyin;

/// Traditional characters common in service-item queries, with their simplified
/// forms. Not a full converter: it covers the vocabulary of the catalogue
/// (证照, 户籍, 社保, 缴费, 车驾管, 出入境...). Sorted by the traditional
/// character: [`fold_char`] (every character of every snippet) looks it up
/// by binary search.
const TRAD_SIMP: &[(char, char)] = &[
    ('個', '个'),
    ('們', '们'),
    ('價', '价'),
    ('優', '优'),
    ('兒', '儿'),
    ('劃', '划'),
    ('動', '动'),
    ('務', '务'),
    ('匯', '汇'),
    ('區', '区'),
    ('問', '问'),
    ('單', '单'),
    ('圖', '图'),
    ('執', '执'),
    ('壓', '压'),
    ('嬰', '婴'),
    ('學', '学'),
    ('實', '实'),
    ('專', '专'),
    ('戶', '户'),
    ('換', '换'),
    ('據', '据'),
    ('斷', '断'),
    ('書', '书'),
    ('業', '业'),
    ('標', '标'),
    ('機', '机'),
    ('權', '权'),
    ('歲', '岁'),
    ('殘', '残'),
    ('氣', '气'),
    ('準', '准'),
    ('災', '灾'),
    ('營', '营'),
    ('現', '现'),
    ('產', '产'),
    ('療', '疗'),
    ('發', '发'),
    ('稅', '税'),
    ('積', '积'),
    ('約', '约'),
    ('納', '纳'),
    ('結', '结'),
    ('網', '网'),
    ('線', '线'),
    ('縣', '县'),
    ('縮', '缩'),
    ('繳', '缴'),
    ('聯', '联'),
    ('職', '职'),
    ('與', '与'),
    ('處', '处'),
    ('號', '号'),
    ('衛', '卫'),
    ('補', '补'),
    ('裝', '装'),
    ('計', '计'),
    ('記', '记'),
    ('設', '设'),
    ('訴', '诉'),
    ('詢', '询'),
    ('認', '认'),
    ('調', '调'),
    ('請', '请'),
    ('諮', '咨'),
    ('證', '证'),
    ('議', '议'),
    ('護', '护'),
    ('變', '变'),
    ('讓', '让'),
    ('買', '买'),
    ('貸', '贷'),
    ('費', '费'),
    ('貼', '贴'),
    ('賣', '卖'),
    ('購', '购'),
    ('車', '车'),
    ('轉', '转'),
    ('辦', '办'),
    ('過', '过'),
    ('鄉', '乡'),
    ('醫', '医'),
    ('銀', '银'),
    ('銷', '销'),
    ('錄', '录'),
    ('錢', '钱'),
    ('錶', '表'),
    ('鎮', '镇'),
    ('開', '开'),
    ('險', '险'),
    ('離', '离'),
    ('難', '难'),
    ('電', '电'),
    ('預', '预'),
    ('領', '领'),
    ('題', '题'),
    ('飲', '饮'),
    ('養', '养'),
    ('館', '馆'),
    ('駕', '驾'),
    ('駛', '驶'),
    ('齊', '齐'),
    ('齡', '龄'),
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
    let bit = c as u32 & 1023;
    if c < TRAD_FIRST || TRAD_BITS.get(bit as usize / 64).is_none_or(|w| w & (1 << (bit % 64)) == 0) {
        return c;
    }
    TRAD_SIMP.binary_search_by_key(&c, |(t, _)| *t).ok().and_then(|i| TRAD_SIMP.get(i)).map_or(c, |(_, s)| *s)
}

/// The smallest traditional character of [`TRAD_SIMP`] (U+500B): below it
/// (ASCII, punctuation, U+4E00 to U+500A) nothing is looked up.
const TRAD_FIRST: char = match TRAD_SIMP.first() {
    Some((t, _)) => *t,
    None => char::MAX,
};

/// A filter over [`TRAD_SIMP`]: bit `c % 1024` is set for each traditional
/// character `c`. Most characters of a text find theirs clear (about one
/// in ten bits is set) and are not looked up.
#[allow(clippy::indexing_slicing)] // const evaluation: an index out of bounds fails the build
const TRAD_BITS: [u64; 16] = {
    let mut bits = [0u64; 16];
    let mut i = 0;
    while i < TRAD_SIMP.len() {
        let c = TRAD_SIMP[i].0 as u32 & 1023;
        bits[(c / 64) as usize] |= 1 << (c % 64);
        i += 1;
    }
    bits
};

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
    fn the_traditional_table_is_sorted_and_each_character_folds() {
        assert!(TRAD_SIMP.windows(2).all(|w| w[0].0 < w[1].0), "TRAD_SIMP must be sorted by its first column");
        for (t, s) in TRAD_SIMP {
            assert_eq!(fold_char(*t), *s);
            assert_eq!(fold_char(*s), *s);
        }
        assert_eq!((fold_char('Ａ'), fold_char('\u{3000}'), fold_char('一')), ('a', ' ', '一'));
        // Simplified characters sharing a filter bit with a traditional one fold to themselves.
        let shared = ('\u{4E00}'..='\u{9FFF}')
            .filter(|c| TRAD_SIMP.iter().any(|(t, _)| *t as u32 % 1024 == *c as u32 % 1024 && t != c))
            .filter(|c| !TRAD_SIMP.iter().any(|(t, _)| t == c));
        assert!(shared.clone().count() > 1000);
        assert!(shared.into_iter().all(|c| fold_char(c) == c));
    }

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
