//! The packed index (issue 19) in KV: built once per catalogue version by
//! the cron, off the request path, and loaded by each isolate in a few reads.
//!
//! Storage (KV `CACHE`):
//! - `search:packed:{version}:{fingerprint}:{i}`: the chunks of one blob
//!   ([`crate::packed::chunks`], binary). A name is never written with other
//!   bytes: the fingerprint is of the blob, so two builds racing write either
//!   the same values under the same names or disjoint names.
//! - `search:packed` ([`MANIFEST_KEY`]): the [`Manifest`] naming the current
//!   chunk set, written only after every chunk of it, so a reader never sees
//!   a manifest whose chunks are not all there.
//! - `search:packed:retired`: chunk sets a manifest stopped naming, deleted
//!   by a later cron run [`RETIRE_AFTER_SECS`] after (not at once: isolates
//!   and KV's edge caches still reading the previous manifest finish loading).
//! - `search:packed:refused`: the checksum of a manifest whose chunks an
//!   isolate refused ([`report_refused`]); the next cron run builds again.
//!
//! An isolate serves the packed index of the manifest when it is recent
//! enough ([`plan`]); otherwise (no manifest, a stale one, a refused load)
//! it builds [`Index::load`] itself, as before, so search never breaks.

use crate::index::{DocView, Index, SearchIndex};
use crate::packed::{self, CHUNK_BYTES, FORMAT, KV_VALUE_LIMIT, PackError, Packed};
use crate::query::{self, Answer, Params, Suggestion};
use serde::{Deserialize, Serialize};
use shared::catalogue::repo;
use shared::store::{Db, Kv};
use shared::types::BeijingTime;
use shared::{ApiError, ApiResult};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// The key of the manifest.
pub const MANIFEST_KEY: &str = "search:packed";
/// The key of the list of chunk sets waiting to be deleted.
pub const RETIRED_KEY: &str = "search:packed:retired";
/// The key an isolate writes when it refuses the manifest's chunks.
pub const REFUSED_KEY: &str = "search:packed:refused";
/// How long a refusal report is kept (a later build clears it).
const REFUSED_TTL_SECS: u64 = 86_400;
/// How long a manifest older than the catalogue is still served: one cron
/// period (60 s) for the next build to start, its build and writes, and
/// KV's edge cache (up to 60 s) before other locations see the new manifest.
/// Past it the cron is taken to be failing and isolates build the index
/// themselves (a publish then reaches search within this bound at worst).
pub const STALE_GRACE_SECS: i64 = 150;
/// Above this many items an isolate never builds its own in-memory index
/// (about 2.4 KiB a document before full text; a province's 100,000 would
/// not fit the 128 MB of an isolate): it serves the last packed index even
/// when the cron is late, and without any answers 503 until the cron has
/// stored one.
pub const IN_MEMORY_MAX_DOCS: u64 = 20_000;
/// How long a chunk set stays after a manifest stopped naming it: far
/// longer than an isolate takes to read the previous manifest's chunks.
pub const RETIRE_AFTER_SECS: i64 = 300;

/// A KV namespace that also stores bytes (the chunks are binary).
#[allow(async_fn_in_trait)]
pub trait ChunkKv: Kv {
    async fn get_bytes(&self, key: &str) -> ApiResult<Option<Vec<u8>>>;
    async fn put_bytes(&self, key: &str, value: &[u8]) -> ApiResult<()>;
}

/// Natively, bytes are kept as one char per byte (U+0000-U+00FF).
#[cfg(not(target_arch = "wasm32"))]
impl ChunkKv for shared::store::MemoryKv {
    async fn get_bytes(&self, key: &str) -> ApiResult<Option<Vec<u8>>> {
        let Some(text) = self.get(key).await? else { return Ok(None) };
        text.chars()
            .map(|c| u8::try_from(u32::from(c)).ok())
            .collect::<Option<Vec<u8>>>()
            .map(Some)
            .ok_or_else(|| ApiError::internal(format!("{key} holds text, not bytes")))
    }

    async fn put_bytes(&self, key: &str, value: &[u8]) -> ApiResult<()> {
        self.put(key, &value.iter().map(|b| char::from(*b)).collect::<String>(), None).await
    }
}

/// One stored blob's chunks: what their names are made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkSet {
    pub version: i64,
    /// [`fingerprint`] of the blob.
    pub checksum: String,
    pub chunks: u32,
}

impl ChunkSet {
    /// The KV names of the chunks, in order.
    pub fn keys(&self) -> Vec<String> {
        (0..self.chunks).map(|i| chunk_key(self.version, &self.checksum, i)).collect()
    }
}

/// The name of chunk `i` of a blob.
pub fn chunk_key(version: i64, checksum: &str, i: u32) -> String {
    format!("{MANIFEST_KEY}:{version}:{checksum}:{i}")
}

/// What a reader needs to load the current packed index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The catalogue version the index was built from.
    pub version: i64,
    /// [`FORMAT`] of the blob (a reader of another format falls back).
    pub format: u32,
    pub chunks: u32,
    /// Bytes of the blob (the chunks' payloads).
    pub bytes: u64,
    pub checksum: String,
    pub docs: u64,
    pub built_at: String,
}

impl Manifest {
    /// Reads a stored manifest; `Err` says why it is unusable.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let m: Manifest = serde_json::from_str(text).map_err(|e| format!("manifest: {e}"))?;
        if m.chunks == 0 || m.checksum.len() != 16 || !m.checksum.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("manifest: {} chunks, checksum {:?}", m.chunks, m.checksum));
        }
        Ok(m)
    }

    pub fn set(&self) -> ChunkSet {
        ChunkSet { version: self.version, checksum: self.checksum.clone(), chunks: self.chunks }
    }
}

/// What is stored under [`MANIFEST_KEY`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    Missing,
    /// Present but not a manifest this code reads (the reason).
    Unreadable(String),
    Ready(Manifest),
}

impl Stored {
    pub fn manifest(&self) -> Option<&Manifest> {
        match self {
            Stored::Ready(m) => Some(m),
            _ => None,
        }
    }
}

/// The stored manifest (a KV failure is an error; bad contents are not).
pub async fn read_manifest(kv: &impl Kv) -> ApiResult<Stored> {
    Ok(match kv.get(MANIFEST_KEY).await? {
        None => Stored::Missing,
        Some(text) => Manifest::parse(&text).map_or_else(Stored::Unreadable, Stored::Ready),
    })
}

/// FNV-1a (64 bits) of a blob, as 16 hex digits: names its chunk set.
pub fn fingerprint(blob: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in blob {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The catalogue's version and when it last changed.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub version: i64,
    pub updated_at: Option<BeijingTime>,
}

/// Reads [`Catalogue`] (one row).
pub async fn catalogue(db: &impl Db) -> ApiResult<Catalogue> {
    #[derive(Deserialize)]
    struct Row {
        version: i64,
        updated_at: String,
    }
    let row: Option<Row> = db.first_as("SELECT version, updated_at FROM catalog_meta WHERE id = 1", &[]).await?;
    let row = row.ok_or_else(|| ApiError::internal("catalog_meta row missing"))?;
    Ok(Catalogue { version: row.version, updated_at: BeijingTime::parse(&row.updated_at).ok() })
}

fn seconds_between(from: BeijingTime, to: BeijingTime) -> i64 {
    (to.to_utc() - from.to_utc()).num_seconds()
}

/// What an isolate holds: the catalogue version and which kind of index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holding {
    pub version: i64,
    pub packed: bool,
}

/// What an isolate does after reading the manifest and the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Keep serving what it holds.
    Keep,
    /// Load the manifest's chunks and serve them.
    LoadPacked,
    /// Build the in-memory index from D1 (no usable manifest).
    Build,
}

/// Whether the manifest may be served: this code's format, not refused by
/// an earlier load (`refused`: its checksum), and not older than the
/// catalogue for longer than [`STALE_GRACE_SECS`].
pub fn usable(m: &Manifest, refused: Option<&str>, cat: &Catalogue, now: BeijingTime) -> bool {
    if m.format != FORMAT || refused == Some(m.checksum.as_str()) {
        return false;
    }
    m.version >= cat.version || cat.updated_at.is_some_and(|t| seconds_between(t, now) <= STALE_GRACE_SECS)
}

/// Which index to serve. With a usable manifest: its packed index, unless
/// the isolate already holds it or something newer (never going back a
/// version); an in-memory index of the same version is swapped for the
/// packed one, which holds far less. A manifest past the grace is still
/// usable when its catalogue is too large to build here
/// ([`IN_MEMORY_MAX_DOCS`]): late results beat none. Without one: the
/// in-memory index of the catalogue's version.
pub fn plan(
    holding: Option<Holding>,
    manifest: Option<&Manifest>,
    refused: Option<&str>,
    cat: &Catalogue,
    now: BeijingTime,
) -> Plan {
    let servable = |m: &&Manifest| {
        usable(m, refused, cat, now)
            || (m.docs > IN_MEMORY_MAX_DOCS && m.format == FORMAT && refused != Some(m.checksum.as_str()))
    };
    match manifest.filter(servable) {
        Some(m) => match holding {
            Some(h) if h.version > m.version || (h.packed && h.version == m.version) => Plan::Keep,
            _ => Plan::LoadPacked,
        },
        None => match holding {
            Some(h) if h.version >= cat.version => Plan::Keep,
            _ => Plan::Build,
        },
    }
}

/// Whether an isolate may build the in-memory index of a catalogue of
/// `published` items; past [`IN_MEMORY_MAX_DOCS`] it answers 503 (服务暂时
/// 不可用) until the cron has stored a packed index, instead of running out
/// of memory with every request it holds.
pub fn may_build_here(published: u64) -> ApiResult<()> {
    if published > IN_MEMORY_MAX_DOCS {
        return Err(ApiError {
            internal: Some(format!(
                "{published} published items: too many to index in an isolate; waiting for the cron's packed index"
            )),
            ..shared::ErrorCode::StorageUnavailable.into()
        });
    }
    Ok(())
}

/// How many items are published.
pub async fn published_items(db: &impl Db) -> ApiResult<u64> {
    #[derive(Deserialize)]
    struct Row {
        n: i64,
    }
    let row: Option<Row> = db.first_as("SELECT COUNT(*) AS n FROM items WHERE status = 'published'", &[]).await?;
    Ok(row.map_or(0, |r| u64::try_from(r.n).unwrap_or(0)))
}

/// Why the manifest's chunks were not loaded.
#[derive(Debug, Clone, PartialEq)]
pub enum LoadError {
    /// KV did not answer (try again later; the chunks may be fine).
    Storage(String),
    /// A chunk the manifest names is not stored.
    Missing(String),
    /// The bytes were refused (corrupt, another format, another blob).
    Refused(PackError),
    /// The blob is not the one the manifest describes.
    Mismatch(String),
}

impl LoadError {
    /// Whether the same manifest may load on a later try.
    pub fn is_transient(&self) -> bool {
        matches!(self, LoadError::Storage(_))
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Storage(m) => write!(f, "storage: {m}"),
            LoadError::Missing(k) => write!(f, "chunk {k} missing"),
            LoadError::Refused(e) => write!(f, "{e}"),
            LoadError::Mismatch(m) => write!(f, "{m}"),
        }
    }
}

/// Reads the manifest's chunks and loads them (refusing damaged bytes).
pub async fn load(kv: &impl ChunkKv, m: &Manifest) -> Result<Packed<'static>, LoadError> {
    // All at once: a cold isolate waits for one KV read, not one per chunk.
    let keys = m.set().keys();
    let reads = futures_util::future::join_all(keys.iter().map(|k| kv.get_bytes(k))).await;
    let mut chunks = Vec::with_capacity(keys.len());
    for (key, value) in keys.into_iter().zip(reads) {
        let value = value.map_err(|e| LoadError::Storage(e.internal.unwrap_or_default()))?;
        chunks.push(value.ok_or(LoadError::Missing(key))?);
    }
    let p = Packed::from_chunks(&chunks).map_err(LoadError::Refused)?;
    if p.version() != m.version || p.doc_count() as u64 != m.docs {
        return Err(LoadError::Mismatch(format!(
            "blob of version {} with {} docs, manifest says {} with {}",
            p.version(),
            p.doc_count(),
            m.version,
            m.docs
        )));
    }
    Ok(p)
}

/// Tells the cron that this manifest's chunks were refused (not for a
/// transient failure), so it builds them again instead of waiting for the
/// next publish.
pub async fn report_refused(kv: &impl Kv, m: &Manifest, why: &LoadError) -> ApiResult<()> {
    let text = serde_json::json!({ "version": m.version, "checksum": m.checksum, "detail": why.to_string() });
    kv.put(REFUSED_KEY, &text.to_string(), Some(REFUSED_TTL_SECS)).await
}

/// Whether an isolate reported the manifest with this checksum refused.
async fn refused(kv: &impl Kv, checksum: &str) -> ApiResult<bool> {
    #[derive(Deserialize)]
    struct Report {
        checksum: String,
    }
    let report = kv.get(REFUSED_KEY).await?;
    Ok(report.and_then(|t| serde_json::from_str::<Report>(&t).ok()).is_some_and(|r| r.checksum == checksum))
}

/// A chunk set a manifest stopped naming, and since when.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Retired {
    #[serde(flatten)]
    set: ChunkSet,
    retired_at: String,
}

/// What one cron run did.
#[derive(Debug, Clone, PartialEq)]
pub enum Refreshed {
    /// The manifest already named the catalogue's version.
    Current { version: i64, swept: usize },
    /// A new index was stored and the manifest moved to it.
    Built { built: Built, swept: usize },
    /// Another build stored a newer version meanwhile; ours was dropped.
    Superseded { version: i64, by: i64 },
}

/// One build: the manifest written and how long each step took (ms, by
/// the clock given; on Workers it moves only across I/O, so CPU time is
/// counted in the step after it).
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub manifest: Manifest,
    pub load_ms: f64,
    pub pack_ms: f64,
    pub store_ms: f64,
    /// This isolate's Wasm memory once the blob was built (before storing).
    pub built_memory_mib: f64,
}

/// This isolate's Wasm memory in MiB (0 natively). Linear memory only
/// grows, so it is the most needed so far: the figure the isolate's 128 MB
/// limit counts beside the JavaScript heap.
pub fn wasm_memory_mib() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        (core::arch::wasm32::memory_size(0) * 65_536) as f64 / 1_048_576.0
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.0
    }
}

/// The cron's step: when the manifest does not name the catalogue's
/// version in this code's format (or names nothing readable, or chunks an
/// isolate refused), builds the index, stores its chunks, then the
/// manifest; deletes chunk sets retired long enough ago. `clock` gives
/// milliseconds (for the log).
pub async fn refresh(
    db: &impl Db,
    kv: &impl ChunkKv,
    now: BeijingTime,
    clock: impl Fn() -> f64,
) -> ApiResult<Refreshed> {
    let version = repo::catalog_version(db).await?;
    if let Stored::Ready(m) = read_manifest(kv).await?
        && m.version == version
        && m.format == FORMAT
        && !refused(kv, &m.checksum).await?
    {
        let swept = sweep(kv, &m.set(), None, now).await?;
        return Ok(Refreshed::Current { version, swept });
    }
    // Page by page: the in-memory index of a province's catalogue would not
    // fit an isolate (crate::paged).
    let built = crate::paged::build(db, crate::paged::PAGE, &clock).await?;
    let crate::paged::Paged { blob, version, docs, count_ms, add_ms, pack_ms, .. } = built;
    // Never name bytes that do not load (read in place: no second copy).
    Packed::load(&blob)?;
    let built_memory_mib = wasm_memory_mib();
    let count = packed::chunk_count(blob.len(), CHUNK_BYTES);
    let manifest = Manifest {
        version,
        format: FORMAT,
        chunks: u32::try_from(count).map_err(|_| ApiError::internal("too many chunks"))?,
        bytes: blob.len() as u64,
        checksum: fingerprint(&blob),
        docs: docs as u64,
        built_at: now.to_rfc3339(),
    };
    let t2 = clock();
    let set = manifest.set();
    for (i, key) in set.keys().iter().enumerate() {
        let part = packed::chunk(&blob, i, CHUNK_BYTES);
        if part.len() > KV_VALUE_LIMIT {
            return Err(ApiError::internal(format!("chunk {key}: {} bytes over the KV limit", part.len())));
        }
        kv.put_bytes(key, &part).await?;
    }
    drop(blob);
    // Another build may have moved the manifest while this one ran.
    let before = read_manifest(kv).await?;
    if let Some(m) = before.manifest()
        && m.format == FORMAT
        && m.version > version
    {
        for key in set.keys() {
            kv.delete(&key).await?;
        }
        return Ok(Refreshed::Superseded { version, by: m.version });
    }
    let text = serde_json::to_string(&manifest).map_err(|e| ApiError::internal(e.to_string()))?;
    kv.put(MANIFEST_KEY, &text, None).await?;
    // Rewritten (the same names hold the same bytes again): a refusal of
    // an earlier manifest no longer applies.
    kv.delete(REFUSED_KEY).await?;
    let store_ms = clock() - t2;
    let replaced = before.manifest().map(Manifest::set).filter(|s| *s != set);
    let swept = sweep(kv, &set, replaced, now).await?;
    let built = Built { manifest, load_ms: count_ms + add_ms, pack_ms, store_ms, built_memory_mib };
    Ok(Refreshed::Built { built, swept })
}

/// Adds `retire` to the retired list, never keeps the `current` set in it,
/// and deletes the chunks of sets retired [`RETIRE_AFTER_SECS`] ago or
/// more. Returns how many sets were deleted. The list is written once (KV
/// takes one write per second per key).
async fn sweep(kv: &impl Kv, current: &ChunkSet, retire: Option<ChunkSet>, now: BeijingTime) -> ApiResult<usize> {
    let stored = kv.get(RETIRED_KEY).await?;
    // An unreadable list is started again (at worst some chunks stay).
    let mut list: Vec<Retired> = stored.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
    let mut changed = stored.is_some() && list.is_empty();
    if let Some(set) = retire
        && !list.iter().any(|r| r.set == set)
    {
        list.push(Retired { set, retired_at: now.to_rfc3339() });
        changed = true;
    }
    let n = list.len();
    list.retain(|r| r.set != *current);
    changed |= list.len() != n;
    let mut deleted = 0;
    let mut keep = Vec::with_capacity(list.len());
    for r in list {
        let due = BeijingTime::parse(&r.retired_at).map_or(true, |t| seconds_between(t, now) >= RETIRE_AFTER_SECS);
        if !due {
            keep.push(r);
            continue;
        }
        let mut ok = true;
        for key in r.set.keys() {
            ok &= kv.delete(&key).await.is_ok();
        }
        if ok {
            deleted += 1;
            changed = true;
        } else {
            keep.push(r);
        }
    }
    if changed {
        let text = serde_json::to_string(&keep).map_err(|e| ApiError::internal(e.to_string()))?;
        kv.put(RETIRED_KEY, &text, None).await?;
    }
    Ok(deleted)
}

/// The index an isolate answers from: the packed one from KV, or the
/// in-memory one it built itself. Every route answers alike from either.
#[derive(Debug)]
pub enum Served {
    // Both boxed: the two handles differ in size (and are held in an `Rc`).
    Packed(Box<Packed<'static>>),
    Built(Box<Index>),
}

impl Served {
    pub fn version(&self) -> i64 {
        match self {
            Served::Packed(p) => p.version(),
            Served::Built(i) => i.version,
        }
    }

    pub fn holding(&self) -> Holding {
        Holding { version: self.version(), packed: matches!(self, Served::Packed(_)) }
    }

    /// `packed` or `memory` (for logs).
    pub fn kind(&self) -> &'static str {
        match self {
            Served::Packed(_) => "packed",
            Served::Built(_) => "memory",
        }
    }

    pub fn doc_count(&self) -> usize {
        match self {
            Served::Packed(p) => p.doc_count(),
            Served::Built(i) => i.docs.len(),
        }
    }

    pub fn search(&self, p: &Params) -> ApiResult<Answer> {
        match self {
            Served::Packed(i) => query::search_in(&**i, p),
            Served::Built(i) => query::search_in(&**i, p),
        }
    }

    /// Guide views per item code resolved to this index's document ids
    /// (for [`Params::views_by_id`]).
    pub fn resolve_views(&self, by_code: &HashMap<String, i64>) -> query::IdViews {
        match self {
            Served::Packed(i) => query::IdViews::resolve(&**i, by_code),
            Served::Built(i) => query::IdViews::resolve(&**i, by_code),
        }
    }

    /// Completions among the items a citizen of `region` (if any) is served by.
    pub fn suggest(&self, q: &str, region: Option<&shared::types::Region>) -> ApiResult<Vec<Suggestion>> {
        match self {
            Served::Packed(i) => query::suggest_in_region(&**i, q, region),
            Served::Built(i) => query::suggest_in_region(&**i, q, region),
        }
    }

    /// Every category in the staff's display order, with its published items.
    pub fn category_counts(&self) -> Vec<(String, usize)> {
        match self {
            Served::Packed(i) => category_counts(&**i, &i.categories),
            Served::Built(i) => category_counts(&**i, &i.categories),
        }
    }

    /// Every tag with its published items, by name.
    pub fn tag_counts(&self) -> Vec<(String, usize)> {
        match self {
            Served::Packed(i) => tag_counts(&**i),
            Served::Built(i) => tag_counts(&**i),
        }
    }

    /// The name and category of the item with this code.
    pub fn name_and_category(&self, code: &str) -> Option<(String, String)> {
        match self {
            Served::Packed(i) => name_and_category(&**i, code),
            Served::Built(i) => name_and_category(&**i, code),
        }
    }
}

fn docs<I: SearchIndex>(idx: &I) -> impl Iterator<Item = I::Doc<'_>> {
    (0..idx.doc_count() as u32).filter_map(|id| idx.doc(id))
}

fn category_counts<I: SearchIndex>(idx: &I, order: &[String]) -> Vec<(String, usize)> {
    let mut n: HashMap<String, usize> = HashMap::new();
    for d in docs(idx) {
        *n.entry(d.category().to_owned()).or_default() += 1;
    }
    order.iter().map(|c| (c.clone(), n.get(c).copied().unwrap_or(0))).collect()
}

fn tag_counts<I: SearchIndex>(idx: &I) -> Vec<(String, usize)> {
    let mut n: BTreeMap<String, usize> = BTreeMap::new();
    for d in docs(idx) {
        for t in d.tags() {
            *n.entry(t.to_owned()).or_default() += 1;
        }
    }
    n.into_iter().collect()
}

fn name_and_category<I: SearchIndex>(idx: &I, code: &str) -> Option<(String, String)> {
    let d = idx.doc(idx.doc_id(code)?)?;
    Some((d.name().into_owned(), d.category().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::testing::at;

    fn manifest(version: i64, format: u32) -> Manifest {
        Manifest {
            version,
            format,
            chunks: 1,
            bytes: 10,
            checksum: "0123456789abcdef".into(),
            docs: 1,
            built_at: "2026-11-23T10:00:00+08:00".into(),
        }
    }

    fn cat(version: i64, updated: &str) -> Catalogue {
        Catalogue { version, updated_at: Some(at(updated)) }
    }

    const NOW: &str = "2026-11-23T10:00:00+08:00";
    const JUST_NOW: &str = "2026-11-23T09:59:30+08:00";
    const LONG_AGO: &str = "2026-11-23T09:50:00+08:00";

    #[test]
    fn a_current_manifest_is_loaded_once_then_kept() {
        let m = manifest(5, FORMAT);
        let c = cat(5, LONG_AGO);
        assert_eq!(plan(None, Some(&m), None, &c, at(NOW)), Plan::LoadPacked);
        let packed = Holding { version: 5, packed: true };
        assert_eq!(plan(Some(packed), Some(&m), None, &c, at(NOW)), Plan::Keep);
        let memory = Holding { version: 5, packed: false };
        assert_eq!(plan(Some(memory), Some(&m), None, &c, at(NOW)), Plan::LoadPacked, "swapped for the lighter one");
        let older = Holding { version: 4, packed: true };
        assert_eq!(plan(Some(older), Some(&m), None, &c, at(NOW)), Plan::LoadPacked);
    }

    #[test]
    fn a_manifest_behind_the_catalogue_is_served_only_within_the_grace() {
        let m = manifest(4, FORMAT);
        let packed = Holding { version: 4, packed: true };
        assert_eq!(plan(Some(packed), Some(&m), None, &cat(5, JUST_NOW), at(NOW)), Plan::Keep);
        assert_eq!(plan(None, Some(&m), None, &cat(5, JUST_NOW), at(NOW)), Plan::LoadPacked);
        assert_eq!(plan(Some(packed), Some(&m), None, &cat(5, LONG_AGO), at(NOW)), Plan::Build);
        let built = Holding { version: 5, packed: false };
        assert_eq!(plan(Some(built), Some(&m), None, &cat(5, LONG_AGO), at(NOW)), Plan::Keep);
        assert_eq!(plan(Some(built), Some(&m), None, &cat(5, JUST_NOW), at(NOW)), Plan::Keep, "never back a version");
        let unknown = Catalogue { version: 5, updated_at: None };
        assert_eq!(plan(None, Some(&m), None, &unknown, at(NOW)), Plan::Build);
    }

    #[test]
    fn a_province_s_late_manifest_is_still_served_and_never_built_in_an_isolate() {
        let big = Manifest { docs: IN_MEMORY_MAX_DOCS + 1, ..manifest(4, FORMAT) };
        let late = cat(5, LONG_AGO);
        assert_eq!(plan(None, Some(&big), None, &late, at(NOW)), Plan::LoadPacked);
        let packed = Holding { version: 4, packed: true };
        assert_eq!(plan(Some(packed), Some(&big), None, &late, at(NOW)), Plan::Keep);
        // Refused chunks or another format are not served, late or not.
        assert_eq!(plan(None, Some(&big), Some("0123456789abcdef"), &late, at(NOW)), Plan::Build);
        let other = Manifest { format: FORMAT + 1, ..big.clone() };
        assert_eq!(plan(None, Some(&other), None, &late, at(NOW)), Plan::Build);
        // Building then stops short of the memory it would take.
        assert!(may_build_here(IN_MEMORY_MAX_DOCS).is_ok());
        let err = may_build_here(100_000).unwrap_err();
        assert_eq!((err.code, err.status()), (shared::ErrorCode::StorageUnavailable, 503));
    }

    #[test]
    fn no_manifest_another_format_or_a_refused_one_falls_back_to_building() {
        let c = cat(5, LONG_AGO);
        assert_eq!(plan(None, None, None, &c, at(NOW)), Plan::Build);
        assert_eq!(plan(None, Some(&manifest(5, FORMAT + 1)), None, &c, at(NOW)), Plan::Build);
        let m = manifest(5, FORMAT);
        assert_eq!(plan(None, Some(&m), Some("0123456789abcdef"), &c, at(NOW)), Plan::Build);
        assert_eq!(plan(None, Some(&m), Some("ffffffffffffffff"), &c, at(NOW)), Plan::LoadPacked);
        let held = Holding { version: 5, packed: false };
        assert_eq!(plan(Some(held), None, None, &c, at(NOW)), Plan::Keep);
    }

    #[test]
    fn manifests_are_parsed_strictly_enough() {
        let m = manifest(7, FORMAT);
        let text = serde_json::to_string(&m).unwrap_or_default();
        assert_eq!(Manifest::parse(&text), Ok(m));
        assert!(Manifest::parse("{}").is_err());
        assert!(Manifest::parse(&text.replace("0123456789abcdef", "../x")).is_err());
        assert!(Manifest::parse(&text.replace("\"chunks\":1", "\"chunks\":0")).is_err());
    }

    #[test]
    fn chunk_names_carry_the_version_and_the_fingerprint() {
        let set = ChunkSet { version: 3, checksum: fingerprint(b"abc"), chunks: 2 };
        assert_eq!(
            set.keys(),
            vec![format!("search:packed:3:{}:0", set.checksum), format!("search:packed:3:{}:1", set.checksum)]
        );
        assert_eq!(fingerprint(b""), "cbf29ce484222325");
        assert_ne!(fingerprint(b"abc"), fingerprint(b"abd"));
    }
}
