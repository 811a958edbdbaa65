//! A repository's tags, page by page (`Link` pagination), within caps on bytes, pages and tags:
//! an endless or hostile listing ends with [`RegistryError::ListingTooLong`], never with memory
//! that grows until the process dies.

use reqwest::{Method, Url};
use serde::Deserialize;
use tagwarden_reference::Reference;

use crate::transport::{self, Endpoint, Request};
use crate::{Client, RegistryError};

/// Largest page of a tag list accepted.
const PAGE_MAX: usize = 16 * 1024 * 1024;
/// Most pages followed.
const PAGES_MAX: usize = 10_000;
/// Most tags taken from one repository.
const TAGS_MAX: usize = 1_000_000;

/// The tags of one repository, one page at a time: see [`Client::tag_pages`].
#[derive(Debug)]
pub struct TagPages {
    client: Client,
    endpoint: Result<Endpoint, Option<RegistryError>>,
    repository: Reference,
    next: Option<Url>,
    pages: usize,
    bytes: usize,
    tags: usize,
}

impl Client {
    /// The tags of the reference's repository (its tag and digest are ignored), one page at a
    /// time, following `Link` pagination within the same registry. Each page holds the
    /// registry's concurrency slot only while it is read.
    pub fn tag_pages(&self, repository: &Reference) -> TagPages {
        let endpoint = self.endpoint(repository.domain()).map_err(Some);
        let next = endpoint
            .as_ref()
            .ok()
            .and_then(|e| e.url(&format!("v2/{}/tags/list", repository.path())).ok());
        TagPages {
            client: self.clone(),
            endpoint,
            repository: repository.clone(),
            next,
            pages: 0,
            bytes: 0,
            tags: 0,
        }
    }

    /// All tags of the reference's repository: [`Client::tag_pages`], collected.
    pub async fn list_tags(&self, repository: &Reference) -> Result<Vec<String>, RegistryError> {
        let mut pages = self.tag_pages(repository);
        let mut tags = Vec::new();
        while let Some(page) = pages.next_page().await? {
            tags.extend(page);
        }
        Ok(tags)
    }
}

impl TagPages {
    /// The next page of tags; `Ok(None)` after the last. After an error, the listing is over.
    pub async fn next_page(&mut self) -> Result<Option<Vec<String>>, RegistryError> {
        #[derive(Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let endpoint = match &mut self.endpoint {
            Ok(endpoint) => endpoint.clone(),
            Err(error) => return error.take().map_or(Ok(None), Err),
        };
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        let name = self.repository.repository();
        let config = self.client.config();
        if self.pages >= PAGES_MAX {
            return Err(self.too_long(format!("{PAGES_MAX} pages")));
        }
        let budget = config.max_tag_list_bytes.saturating_sub(self.bytes);
        if budget == 0 {
            return Err(self.too_long(bytes_in_words(config.max_tag_list_bytes)));
        }
        let _permit = self.client.acquire(&endpoint).await?;
        let response = self
            .client
            .send(
                &endpoint,
                &Request::new(Method::GET, url.clone(), "application/json"),
                &self.repository,
            )
            .await?;
        if !response.status().is_success() {
            return Err(transport::status_error(&endpoint, &name, response.status()));
        }
        let next = transport::next_link(response.headers());
        let limit = budget.min(PAGE_MAX);
        let body = match self.client.read_body(&endpoint, response, limit).await {
            Ok(body) => body,
            // Past the whole listing's budget: the listing, not this page, is too long.
            Err(RegistryError::ResponseTooLarge { .. }) if limit == budget => {
                return Err(self.too_long(bytes_in_words(config.max_tag_list_bytes)));
            }
            Err(error) => return Err(error),
        };
        self.pages += 1;
        self.bytes += body.len();
        let page: TagList = serde_json::from_slice(&body).map_err(|e| {
            RegistryError::Protocol(format!("{name}: the tag list is not valid JSON: {e}"))
        })?;
        let tags = page.tags.unwrap_or_default();
        self.tags += tags.len();
        if self.tags > TAGS_MAX {
            return Err(self.too_long(format!("{TAGS_MAX} tags")));
        }
        if let Some(next) = next {
            let next_url = url.join(&next).map_err(|e| {
                RegistryError::Protocol(format!("{name}: bad pagination link {next:?}: {e}"))
            })?;
            // Our token is for this registry only; a link elsewhere must not receive it.
            if next_url.origin() != endpoint.base.origin() {
                return Err(RegistryError::Protocol(format!(
                    "{name}: pagination link {next_url} leaves the registry"
                )));
            }
            self.next = Some(next_url);
        }
        Ok(Some(tags))
    }

    /// Tags returned so far.
    pub fn tags_so_far(&self) -> usize {
        self.tags
    }

    fn too_long(&mut self, limit: String) -> RegistryError {
        self.next = None;
        RegistryError::ListingTooLong {
            repository: self.repository.repository(),
            limit,
        }
    }
}

fn bytes_in_words(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes.is_multiple_of(1024 * 1024) {
        format!("{} MiB", bytes / (1024 * 1024))
    } else {
        format!("{bytes} bytes")
    }
}
