//! Frontegg's paged lists (the fact sheet's §1.3): `{items, _links, _metadata}`, where `_offset`
//! is a **page index** (0, 1, 2...), not a record offset. Read page by page, or as one stream
//! of items that stops on `totalPages`, on an empty page, or at a page cap, whichever comes first.

use std::future::Future;

use futures_util::Stream;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The largest `_limit` Frontegg accepts on its paged lists (users v3, tenants v2).
pub(crate) const MAX_LIMIT: u32 = 200;

/// How many pages a stream reads at most when the caller sets no cap: 10 000 pages of 200.
pub(crate) const DEFAULT_PAGE_CAP: u32 = 10_000;

/// The page size of a stream: the query's, within 1..=200, else 200.
pub(crate) fn stream_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(MAX_LIMIT).clamp(1, MAX_LIMIT)
}

/// One page of a paged list: users, tenants, groups.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many pages there are, when Frontegg says.
    pub total_pages: Option<u64>,
    /// How many items there are in all, when Frontegg says.
    pub total_items: Option<u64>,
}

/// The answer as Frontegg sends it; `_metadata` and its fields may be missing or null.
#[derive(Deserialize)]
struct Wire<T> {
    // Required: a `{}` or an error body with a 200 is no empty page.
    items: Vec<T>,
    #[serde(default, rename = "_metadata")]
    metadata: Option<Metadata>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default, rename = "totalPages")]
    total_pages: Option<serde_json::Number>,
    #[serde(default, rename = "totalItems")]
    total_items: Option<serde_json::Number>,
}

impl<T: DeserializeOwned> Page<T> {
    /// A page from its JSON; a bare array (some of Frontegg's older list endpoints) is one page
    /// holding everything.
    pub(crate) fn parse(body: &[u8]) -> Result<Page<T>, serde_json::Error> {
        if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            let items: Vec<T> = serde_json::from_slice(body)?;
            let count = items.len() as u64;
            return Ok(Page { items, total_pages: Some(1), total_items: Some(count) });
        }
        let wire: Wire<T> = serde_json::from_slice(body)?;
        let metadata = wire.metadata.unwrap_or_default();
        let count = |n: Option<serde_json::Number>| n.and_then(|n| n.as_u64());
        Ok(Page {
            items: wire.items,
            total_pages: count(metadata.total_pages),
            total_items: count(metadata.total_items),
        })
    }
}

/// Every item of a paged list, page after page (`fetch(index)` reads page `index`, from 0), as
/// one stream. It ends after the page `totalPages - 1`, after an empty page, or after `cap`
/// pages, with [`ApiError::PageCapReached`] when the list may go on; a failed page ends it with
/// that error.
pub(crate) fn items<T, F, Fut>(cap: u32, fetch: F) -> impl Stream<Item = Result<T, ApiError>>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<Page<T>, ApiError>>,
{
    struct State<F, T> {
        fetch: F,
        next: Option<u32>,
        buffered: std::vec::IntoIter<T>,
        /// The cap stopped a list that may go on: said once the items read are out.
        capped: bool,
    }
    let state = State { fetch, next: Some(0).filter(|_| cap > 0), buffered: Vec::new().into_iter(), capped: false };
    futures_util::stream::unfold(state, move |mut state| async move {
        loop {
            if let Some(item) = state.buffered.next() {
                return Some((Ok(item), state));
            }
            if std::mem::take(&mut state.capped) {
                return Some((Err(ApiError::PageCapReached { pages: cap }), state));
            }
            let index = state.next?;
            match (state.fetch)(index).await {
                Err(e) => {
                    state.next = None;
                    return Some((Err(e), state));
                }
                Ok(page) => {
                    let more =
                        !page.items.is_empty() && page.total_pages.is_none_or(|total| u64::from(index) + 1 < total);
                    state.capped = more && index + 1 >= cap;
                    state.next = if more && !state.capped { Some(index + 1) } else { None };
                    state.buffered = page.items.into_iter();
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use futures_util::StreamExt;

    use super::*;

    fn page(items: &[u32], total_pages: Option<u64>) -> Page<u32> {
        Page { items: items.to_vec(), total_pages, total_items: None }
    }

    /// The items a stream gives, and the pages it read.
    fn run(cap: u32, pages: Vec<Result<Page<u32>, ApiError>>) -> (Vec<Result<u32, ApiError>>, Vec<u32>) {
        let read = Cell::new(Vec::new());
        let pages = std::cell::RefCell::new(pages.into_iter());
        let stream = items(cap, |index| {
            let mut seen = read.take();
            seen.push(index);
            read.set(seen);
            let next = pages.borrow_mut().next().unwrap_or_else(|| Ok(page(&[], None)));
            async move { next }
        });
        let got = futures_executor_block_on(stream.collect::<Vec<_>>());
        (got, read.take())
    }

    fn futures_executor_block_on<F: Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    fn oks(got: &[Result<u32, ApiError>]) -> Vec<u32> {
        got.iter().map(|r| *r.as_ref().unwrap()).collect()
    }

    #[test]
    fn pages_are_read_by_index_until_total_pages() {
        let (got, read) =
            run(100, vec![Ok(page(&[1, 2], Some(3))), Ok(page(&[3, 4], Some(3))), Ok(page(&[5], Some(3)))]);
        assert_eq!(oks(&got), [1, 2, 3, 4, 5]);
        assert_eq!(read, [0, 1, 2], "`_offset` is a page index; no fourth page is asked for");
    }

    #[test]
    fn an_empty_page_or_the_cap_ends_the_stream() {
        let (got, read) = run(100, vec![Ok(page(&[1], None)), Ok(page(&[], None)), Ok(page(&[9], None))]);
        assert_eq!((oks(&got), read), (vec![1], vec![0, 1]));
        let (got, read) = run(2, vec![Ok(page(&[1], Some(9))), Ok(page(&[2], Some(9))), Ok(page(&[3], Some(9)))]);
        assert_eq!((oks(&got[..2]), read), (vec![1, 2], vec![0, 1]));
        assert_eq!(got[2], Err(ApiError::PageCapReached { pages: 2 }), "a list cut short says so");
        assert_eq!(got.len(), 3);
        // A cap that falls on the last page is no cut.
        let (got, _) = run(2, vec![Ok(page(&[1], Some(2))), Ok(page(&[2], Some(2)))]);
        assert_eq!(oks(&got), [1, 2]);
        let (got, read) = run(0, vec![Ok(page(&[1], None))]);
        assert!(got.is_empty() && read.is_empty());
    }

    #[test]
    fn a_failed_page_ends_the_stream_with_its_error() {
        let (got, read) = run(100, vec![Ok(page(&[1], Some(3))), Err(ApiError::InvalidId), Ok(page(&[3], Some(3)))]);
        assert_eq!(got.len(), 2);
        assert!(matches!(got[1], Err(ApiError::InvalidId)));
        assert_eq!(read, [0, 1]);
    }

    #[test]
    fn answers_of_every_shape_parse() {
        let full: Page<u32> =
            Page::parse(br#"{"items":[1,2],"_links":{"next":""},"_metadata":{"totalItems":7,"totalPages":4}}"#)
                .unwrap();
        assert_eq!((full.items, full.total_pages, full.total_items), (vec![1, 2], Some(4), Some(7)));
        let bare: Page<u32> = Page::parse(b" [1,2,3]").unwrap();
        assert_eq!((bare.items.len(), bare.total_pages), (3, Some(1)));
        let sparse: Page<u32> = Page::parse(br#"{"items":[1],"_metadata":{"totalPages":null}}"#).unwrap();
        assert_eq!(sparse.total_pages, None);
        let empty: Page<u32> = Page::parse(br#"{"items":[]}"#).unwrap();
        assert!(empty.items.is_empty());
        let errors = br#"{"errors":["Forbidden"]}"#;
        for bad in [&b"{\"items\":{}}"[..], b"null", b"\"x\"", b"{\"items\":[\"a\"]}", b"", b"{}", errors] {
            assert!(Page::<u32>::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
