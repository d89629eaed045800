//! Regions (行政区划) in search, on both indexes: a search in a county finds
//! its own items and its city's and province's, never a sibling county's;
//! a city's finds its counties' too; hits name their region.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use futures_executor::block_on;
use item_search::index::{Index, SearchIndex};
use item_search::packed::{self, Packed};
use item_search::query::{self, Answer, Params};
use shared::admin::{Principal, Role};
use shared::catalogue::import;
use shared::store::{MemoryKv, SqliteDb};
use shared::testing::{hall, item};
use shared::types::{BeijingTime, Region, SocialCreditCode};

/// An implementation code whose implementing body sits in `region`.
fn code_in(region: &str, n: u32) -> String {
    let body = format!("11{region}{:09}", 5_000_000 + n);
    let check = SocialCreditCode::check_char(&body).unwrap() as char;
    let level = match Region::parse(region).unwrap().level() {
        shared::types::RegionLevel::Province => 2,
        shared::types::RegionLevel::City => 3,
        shared::types::RegionLevel::County => 4,
    };
    format!("{body}{check}{level}{:012}", 100_000_000_000u64 + u64::from(n))
}

/// 居住证 items in 浙江省, 金华市, 义乌市, 东阳市 (义乌's sibling), 杭州市,
/// its 西湖区, and 深圳市 (no name in the regions table).
const PLACES: [(&str, &str); 7] = [
    ("330000", "浙江省"),
    ("330700", "金华市"),
    ("330782", "义乌市"),
    ("330783", "东阳市"),
    ("330100", "杭州市"),
    ("330106", "西湖区"),
    ("440300", "深圳市"),
];

fn seeded() -> SqliteDb {
    let db = SqliteDb::migrated().unwrap();
    let items: Vec<serde_json::Value> = PLACES
        .iter()
        .enumerate()
        .map(|(i, (region, place))| item(&code_in(region, i as u32), &format!("居住证办理（{place}）"), &["H1"], &[]))
        .collect();
    let body =
        serde_json::from_value(serde_json::json!({"items": items, "halls": [hall("H1", 29.3, 120.07)]})).unwrap();
    let who = Principal { token_id: "t".into(), name: "n".into(), roles: vec![Role::CatalogueEditor] };
    let now = BeijingTime::parse("2026-11-23T10:00:00+08:00").unwrap();
    block_on(import::apply(&db, &MemoryKv::default(), body, &who, now, "r")).unwrap();
    db
}

fn params(q: &str, region: &str) -> Params {
    Params { q: q.into(), page: 1, size: 50, region: Region::parse(region).ok(), ..Default::default() }
}

/// The regions of the hits, sorted.
fn regions_found(a: &Answer) -> Vec<String> {
    let mut v: Vec<String> = a.items.iter().map(|h| h.region.as_ref().unwrap().code.to_string()).collect();
    v.sort();
    assert_eq!(a.total, v.len());
    v
}

/// Runs `check` on the in-memory index and on its packed form.
fn on_both(check: impl Fn(&dyn Fn(&Params) -> Answer)) {
    let index = block_on(Index::load(&seeded())).unwrap();
    check(&|p| query::search(&index, p).unwrap());
    let blob = packed::build(&index).unwrap();
    let p = Packed::load(&blob).unwrap();
    check(&|q| p.search(q).unwrap());
}

#[test]
fn a_county_sees_its_own_its_citys_and_its_provinces_items_never_a_siblings() {
    on_both(|search| {
        for q in ["居住证", ""] {
            assert_eq!(regions_found(&search(&params(q, "330782"))), ["330000", "330700", "330782"], "{q:?}");
            assert_eq!(regions_found(&search(&params(q, "330783"))), ["330000", "330700", "330783"], "{q:?}");
        }
        // A county without items still sees its city and province.
        assert_eq!(regions_found(&search(&params("居住证", "330784"))), ["330000", "330700"]);
    });
}

#[test]
fn a_city_sees_its_counties_and_a_province_all_of_it() {
    on_both(|search| {
        assert_eq!(regions_found(&search(&params("居住证", "330700"))), ["330000", "330700", "330782", "330783"]);
        assert_eq!(regions_found(&search(&params("居住证", "330100"))), ["330000", "330100", "330106"]);
        let zj = ["330000", "330100", "330106", "330700", "330782", "330783"];
        assert_eq!(regions_found(&search(&params("居住证", "330000"))), zj);
        assert_eq!(regions_found(&search(&params("居住证", "440300"))), ["440300"]);
        // Other filters and pinyin still apply inside a region.
        assert_eq!(regions_found(&search(&params("juzhuzheng", "330782"))), ["330000", "330700", "330782"]);
        let p = Params { online: Some(true), ..params("居住证", "330782") };
        assert!(search(&p).items.iter().all(|h| h.online));
    });
}

#[test]
fn every_hit_names_its_region_and_level() {
    on_both(|search| {
        let a = search(&Params { q: "居住证".into(), page: 1, size: 50, ..Default::default() });
        assert_eq!(a.total, PLACES.len());
        for h in &a.items {
            let r = serde_json::to_value(h.region.as_ref().unwrap()).unwrap();
            let (code, place) = PLACES.iter().find(|(c, _)| *c == r["code"]).unwrap();
            let level = Region::parse(code).unwrap().level().as_str();
            if *code == "440300" {
                // Not in the regions table: the code and level alone.
                assert_eq!(r, serde_json::json!({"code": code, "level": level}));
            } else {
                assert_eq!(r, serde_json::json!({"code": code, "name": place, "level": level}));
            }
        }
    });
}

#[test]
fn an_unknown_region_is_refused_with_a_chinese_message() {
    let index = block_on(Index::load(&seeded())).unwrap();
    let blob = packed::build(&index).unwrap();
    let p = Packed::load(&blob).unwrap();
    // 张家港市: a real code, but neither named here nor carried by an item.
    let e = query::search(&index, &params("居住证", "320582")).unwrap_err();
    assert_eq!(e.code, shared::ErrorCode::BadRequest);
    assert_eq!(e.fields[0].field, "region");
    assert!(e.fields[0].message.contains("行政区划"), "{}", e.fields[0].message);
    assert_eq!(p.search(&params("居住证", "320582")).unwrap_err().code, shared::ErrorCode::BadRequest);
    let r = Region::parse("320582").ok();
    assert!(query::suggest_in_region(&index, "居住", r.as_ref()).is_err());
}

#[test]
fn suggestions_keep_to_the_region() {
    let index = block_on(Index::load(&seeded())).unwrap();
    let blob = packed::build(&index).unwrap();
    let p = Packed::load(&blob).unwrap();
    let yiwu = Region::parse("330782").ok();
    let names = |s: Vec<query::Suggestion>| {
        let mut v: Vec<String> = s.into_iter().map(|s| s.text).collect();
        v.sort();
        v
    };
    let want = ["居住证办理（义乌市）", "居住证办理（浙江省）", "居住证办理（金华市）"];
    assert_eq!(names(query::suggest_in_region(&index, "居住", yiwu.as_ref()).unwrap()), want);
    assert_eq!(names(query::suggest_in_region(&p, "jzz", yiwu.as_ref()).unwrap()), want);
    assert_eq!(query::suggest_in_region(&p, "居住", None).unwrap().len(), PLACES.len());
}

#[test]
fn the_packed_index_keeps_each_documents_region() {
    let index = block_on(Index::load(&seeded())).unwrap();
    let blob = packed::build(&index).unwrap();
    let p = Packed::load(&blob).unwrap();
    assert_eq!(p.regions(), index.regions());
    for id in 0..index.docs.len() as u32 {
        assert_eq!(p.region_id(id), SearchIndex::region_id(&index, id));
        assert!(p.region_id(id).is_some());
    }
}
