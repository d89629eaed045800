//! Questions as results of their own kind (issue 19): the public 常见问题
//! (table `faq`, written by handlers for the public) and the Q&A of the
//! guides on the first page, when their question or answer matches.

use crate::fulltext::{covered, snippet, term_chars};
use serde::Serialize;

/// Most questions on an answer's first page.
pub const MAX_QUESTIONS: usize = 3;
/// Longest answer snippet, in characters.
pub const ANSWER_CHARS: usize = 120;

/// Where a question comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source<'a> {
    /// A public 常见问题 entry.
    Faq { id: &'a str },
    /// A guide's own Q&A.
    Guide { code: &'a str, name: &'a str },
}

/// A question that might answer the query, before ranking (borrowed from
/// the isolate's FAQ rows and the page's guides: most are never shown).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<'a> {
    pub question: &'a str,
    pub answer: &'a str,
    pub source: Source<'a>,
}

/// A question in the answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Question {
    pub question: String,
    /// The answer, or a snippet of at most [`ANSWER_CHARS`] characters around its match.
    pub answer: String,
    /// Character ranges `[start, end)` of `answer` that matched the query.
    pub highlights: Vec<[usize; 2]>,
    /// Character ranges of `question` that matched the query.
    pub question_highlights: Vec<[usize; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faq_id: Option<String>,
}

/// The questions matching `terms` (query bigrams), best first: a candidate
/// must hold at least half of the terms in its question and answer together;
/// more terms rank higher, then terms in the question, then the order given.
/// A question asked twice is kept once (the first). Only the questions
/// shown have their snippets cut.
pub fn questions(candidates: &[Candidate<'_>], terms: &[String]) -> Vec<Question> {
    let want = term_chars(terms);
    let n = want.len();
    if n == 0 {
        return vec![];
    }
    let mut scored: Vec<(usize, usize, &Candidate<'_>)> = Vec::new();
    for c in candidates {
        let n_covered = covered(&format!("{}\u{0}{}", c.question, c.answer), &want);
        if n_covered == 0 || n_covered * 2 < n || scored.iter().any(|s| s.2.question == c.question) {
            continue;
        }
        scored.push((n_covered, covered(c.question, &want), c));
    }
    // Stable: equal scores keep the order given.
    scored.sort_by_key(|s| std::cmp::Reverse((s.0, s.1)));
    scored.into_iter().take(MAX_QUESTIONS).map(|(_, _, c)| shown(c, &want)).collect()
}

/// A kept candidate as it is shown: its answer cut around the match, both
/// parts highlighted.
fn shown(c: &Candidate<'_>, want: &[Vec<char>]) -> Question {
    let (question, question_highlights, _) = snippet(c.question, want, usize::MAX);
    let (answer, highlights, _) = snippet(c.answer, want, ANSWER_CHARS);
    let (item_code, item_name, faq_id) = match c.source {
        Source::Faq { id } => (None, None, Some(id.to_owned())),
        Source::Guide { code, name } => (Some(code.to_owned()), Some(name.to_owned()), None),
    };
    Question { question, answer, highlights, question_highlights, item_code, item_name, faq_id }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::text::{normalize, query_terms};

    fn terms(q: &str) -> Vec<String> {
        query_terms(&normalize(q))
    }

    fn faq<'a>(id: &'a str, q: &'a str, a: &'a str) -> Candidate<'a> {
        Candidate { question: q, answer: a, source: Source::Faq { id } }
    }

    fn guide<'a>(code: &'a str, q: &'a str, a: &'a str) -> Candidate<'a> {
        Candidate { question: q, answer: a, source: Source::Guide { code, name: "事项" } }
    }

    #[test]
    fn a_matching_faq_entry_comes_back_with_its_highlights() {
        let out = questions(&[faq("F1", "户口本丢了怎么办？", "可到户籍派出所补领居民户口簿。")], &terms("户口簿"));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].faq_id.as_deref(), Some("F1"));
        assert_eq!(out[0].item_code, None);
        assert_eq!(out[0].highlights, vec![[11, 14]]);
        assert_eq!(out[0].question_highlights, vec![[0, 2]]);
        let json = serde_json::to_value(&out[0]).unwrap();
        assert!(json.get("item_code").is_none());
    }

    #[test]
    fn questions_covering_less_than_half_the_query_are_left_out() {
        let c = vec![faq("F1", "燃气开户要多久？", "三个工作日。")];
        assert!(questions(&c, &terms("不动产登记需要什么")).is_empty());
        assert!(questions(&c, &[]).is_empty());
    }

    #[test]
    fn more_terms_rank_first_then_terms_in_the_question_and_at_most_three() {
        let c = vec![
            guide("A", "需要带什么？", "带上不动产权证书。"),
            guide("B", "不动产权证书丢了怎么办？", "先登报声明。"),
            faq("F1", "不动产登记要多久？", "不动产权证书五个工作日内发放。"),
            faq("F2", "不动产权证书", "同上"),
            guide("C", "不动产权证书", "重复的问题只留一个"),
        ];
        let out = questions(&c, &terms("不动产权证书"));
        let who: Vec<String> = out.iter().map(|q| q.question.clone()).collect();
        assert_eq!(who, vec!["不动产权证书丢了怎么办？", "不动产权证书", "不动产登记要多久？"]);
        assert_eq!(out[0].item_code.as_deref(), Some("B"));
    }

    #[test]
    fn a_long_answer_is_cut_around_its_match() {
        let long = format!("{}委托书{}", "甲".repeat(200), "乙".repeat(200));
        let out = questions(&[faq("F", "可以代办吗", &long)], &terms("委托书"));
        assert_eq!(out[0].answer.chars().count(), ANSWER_CHARS);
        assert_eq!(out[0].highlights.len(), 1);
    }
}
