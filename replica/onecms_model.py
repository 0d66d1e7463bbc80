"""OneCMS URL scheme and the per-day view of an article, shared by the OneCMS renderers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from replica.content import Edition, EditionConfig, Named, SiteData, Story

LATEST_SLUG = "tin-moi"
PAGE_SIZE = 10
FEED_SIZE = 50


@dataclass(frozen=True)
class Urls:
    """Root-relative paths of one edition (``prefix`` "" for Vietnamese, "en", "cn", ...)."""

    prefix: str

    @property
    def root(self) -> str:
        return f"/{self.prefix}/" if self.prefix else "/"

    def article(self, story: Story) -> str:
        """``<root><section>/<slug>-<id>.html``; older stories: ``<root><slug>-<id>.html``."""
        section = "" if story.flat_url else f"{story.category}/"
        return f"{self.root}{section}{story.slug}-{story.id}.html"

    def section(self, slug: str, page: int = 1) -> str:
        return f"{self.root}{slug}/" + (f"?page={page}" if page > 1 else "")

    def tag(self, tag: Named, page: int = 1) -> str:
        return f"{self.root}tag/{tag.slug}-{tag.id}.html" + (f"?page={page}" if page > 1 else "")

    def hub(self, topic: Named, page: int = 1) -> str:
        return f"{self.root}{topic.slug}-event{topic.id}.html" + (f"?page={page}" if page > 1 else "")

    def feed(self, slug: str) -> str:
        return f"{self.root}rss/{slug}"

    def rss_index(self) -> str:
        return f"{self.root}rss"


def sitemap_path(day: date) -> str:
    return f"/sitemap-article-{day.isoformat()}.xml"


@dataclass(frozen=True)
class ArticleView:
    """One language edition of a story as served on a given day."""

    story: Story
    edition: Edition
    modified: datetime
    path: str

    @property
    def lang(self) -> str:
        return self.edition.lang

    @property
    def published(self) -> datetime:
        return self.edition.published

    def image_url(self, data: SiteData, name: str, size: str = "") -> str:
        folder = self.story.editions["vi"].published.strftime("%Y/%m/%d")
        thumbs = f"thumbs/{size}/" if size else ""
        return f"{data.image_host}/{thumbs}{folder}/{name}"

    def lead_image(self, data: SiteData, size: str = "") -> str:
        images = self.edition.images() or self.story.editions["vi"].images()
        return self.image_url(data, images[0], size) if images else f"{data.image_host}/assets/no-image.png"


@dataclass(frozen=True)
class Ctx:
    """What every OneCMS template needs: the site, the edition and the absolute base URL."""

    data: SiteData
    edition: EditionConfig
    base_url: str

    @property
    def lang(self) -> str:
        return self.edition.lang

    @property
    def urls(self) -> Urls:
        return Urls(self.edition.prefix)

    def ui(self, key: str) -> str:
        return self.edition.ui.get(key, key)

    def absolute(self, path: str) -> str:
        return self.base_url + path.lstrip("/")

    def section_name(self, slug: str) -> str:
        if slug == LATEST_SLUG:
            return self.ui("latest")
        for category in self.data.categories:
            if category.slug == slug:
                return category.names.get(self.lang, category.names["vi"])
        return slug


def paginate(count: int, size: int = PAGE_SIZE) -> int:
    """Number of listing pages for ``count`` items (at least one, even when empty)."""
    return max(1, -(-count // size))
