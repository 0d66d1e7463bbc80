"""Full-text search of the archive, on SQLite (FTS5) and PostgreSQL (tsvector), in every language.

Until storage/items.py calls `search.index_item` on its own, these tests index what they archive.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import select

from storage import Archive, PageRecord, search
from storage.errors import SearchError
from storage.migrate import alembic_config
from storage.models import Item
from storage.search import SearchPage, SearchQuery

ICT = timezone(timedelta(hours=7))


@dataclass(frozen=True)
class Doc:
    key: str
    title: str
    text: str
    language: str
    source: str
    published: datetime | None = None
    event_type: str | None = None


DOCS = (
    Doc("vi", "Lũ lụt nghiêm trọng ở Nghệ An",
        "Mưa lớn kéo dài gây lũ lụt tại nhiều huyện miền núi Nghệ An. Đồng chí Bí thư Tỉnh ủy chỉ đạo "
        "khắc phục hậu quả ngay trong đêm. nwtest", "vi", "baonghean", datetime(2024, 11, 13, 15, 24, tzinfo=ICT),
        "conference"),
    Doc("vi_plain", "Lu lut o Ha Tinh",
        "Bai viet go khong dau ve lu lut va thiet hai cua nguoi dan vung ven bien Ha Tinh. nwtest",
        "vi", "vietnam.vn", datetime(2025, 1, 7, 9, 0, tzinfo=ICT)),
    Doc("vi_other", "Lú lút là gì",
        "Một câu chuyện khác hẳn: chú bé lú lút trốn trong vườn chuối sau nhà. nwtest", "vi", "vietnam.vn"),
    Doc("zh", "省委召开会议部署工作", "义安省委召开会议，总结全年工作并部署明年任务。会议由省委书记主持。nwtest",
        "zh", "baonghean", datetime(2024, 11, 14, 0, 30, tzinfo=ICT)),
    Doc("uk", "Конференція Провінційного комітету партії",
        "У провінції відбулася конференція, присвячена підсумкам року; згадано делегацію з КИЄВА. nwtest",
        "uk", "vietnam.vn", datetime(2024, 2, 27, 10, 0, tzinfo=ICT)),
    Doc("en", "Binh Duong reviews the year's work",
        "The Provincial Party Committee held a conference to review the work of the year and deploy tasks "
        "for the next one. nwtest", "en", "baobinhduong", datetime(2025, 4, 26, 13, 20, tzinfo=ICT),
        "working_session"),
    Doc("hostile", "<script>alert(1)</script> Hội nghị & <b>tổng kết</b>",
        "<img src=x onerror=alert(1)> Hội nghị tổng kết công tác năm <script>alert('x')</script> nwtest",
        "vi", "baonghean"),
    Doc("filler1", "Giá cà phê hôm nay", "Thị trường cà phê Tây Nguyên tăng nhẹ so với tuần trước.", "vi", "x"),
    Doc("filler2", "Weather in Hanoi", "Sunny skies are expected across the capital through the weekend.", "en", "x"),
    Doc("filler3", "Bóng đá", "Đội tuyển quốc gia chuẩn bị cho giải đấu khu vực vào tháng sau.", "vi", "x"),
    Doc("filler4", "天气预报", "明天北方有小雨，南方晴朗。", "zh", "x"),
    Doc("filler5", "Погода", "Завтра очікується сонячна погода без опадів.", "uk", "x"),
)


def _url(key: str) -> str:
    return f"http://news.test/{key}.html"


def _archive_doc(archive: Archive, doc: Doc, url: str | None = None) -> int:
    record = PageRecord(url=url or _url(doc.key), canonical_url=url or _url(doc.key), source=doc.source,
                        text=doc.text, title=doc.title, language=doc.language, published_at=doc.published)
    item_id = archive.archive_page(record).item_id
    with archive.session() as session:
        if doc.event_type:
            item = session.get(Item, item_id)
            assert item is not None
            item.event = {"type": doc.event_type, "date": None, "place": None, "organizer": None}
        search.index_item(session, item_id)
    return item_id


@pytest.fixture
def corpus(archive: Archive) -> Archive:
    for doc in DOCS:
        _archive_doc(archive, doc)
    assert archive.count_items(duplicate_of_id=None) == len(DOCS), "the corpus must hold no duplicates"
    return archive


def _search(archive: Archive, text: str, **options: object) -> SearchPage:
    with archive.session() as session:
        return search.search(session, SearchQuery(text, **options))  # type: ignore[arg-type]


def _keys(page: SearchPage) -> list[str]:
    return [hit.url.rsplit("/", 1)[1].removesuffix(".html") for hit in page.hits]


# -- languages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["lũ lụt", "lu lut", "LŨ LỤT", "Lu Lut"])
def test_vietnamese_is_found_with_and_without_diacritics(corpus: Archive, query: str) -> None:
    assert set(_keys(_search(corpus, query))) == {"vi", "vi_plain", "vi_other"}


@pytest.mark.parametrize("query", ["đồng chí", "dong chi", "ĐỒNG CHÍ", "Dong chi", "nghe an", "tinh uy"])
def test_d_bar_and_tones_fold(corpus: Archive, query: str) -> None:
    assert _keys(_search(corpus, query)) == ["vi"]


def test_an_exact_diacritics_match_ranks_above_a_folded_one(corpus: Archive) -> None:
    with_marks = _search(corpus, "lũ lụt")
    assert _keys(with_marks)[0] == "vi"
    assert with_marks.hits[0].score > with_marks.hits[1].score
    # Typed without diacritics, the item written without them is the exact match.
    assert _keys(_search(corpus, "lu lut"))[0] == "vi_plain"
    assert _keys(_search(corpus, "lú lút"))[0] == "vi_other"


@pytest.mark.parametrize("query", ["会", "议", "会议", "委召", "省委召开会议", "部署工作", "省委 主持"])
def test_chinese_substrings_of_any_length(corpus: Archive, query: str) -> None:
    assert _keys(_search(corpus, query)) == ["zh"]


def test_chinese_characters_must_be_adjacent_in_order(corpus: Archive) -> None:
    assert _search(corpus, "议会").total == 0
    assert _search(corpus, "会 议").total == 1  # separate words: both present, anywhere
    hit = _search(corpus, "会议").hits[0]
    assert "<mark>会议</mark>" in hit.title_html
    assert "召开<mark>会议</mark>" in hit.snippet_html


@pytest.mark.parametrize("query", ["конференція", "КОНФЕРЕНЦІЯ", "Провінційного Комітету", "києва", "КИЄВА"])
def test_ukrainian_case_insensitive(corpus: Archive, query: str) -> None:
    assert _keys(_search(corpus, query)) == ["uk"]


@pytest.mark.parametrize("query", ["conference", "PROVINCIAL party Committee", "year's work", "deploy tasks"])
def test_english(corpus: Archive, query: str) -> None:
    assert _keys(_search(corpus, query)) == ["en"]


def test_every_word_must_match(corpus: Archive) -> None:
    assert _search(corpus, "conference Hanoi").total == 0


# -- filters ---------------------------------------------------------------------------------------


def test_filters_by_source_and_language(corpus: Archive) -> None:
    assert set(_keys(_search(corpus, "nwtest", sources=("baonghean",)))) == {"vi", "zh", "hostile"}
    assert set(_keys(_search(corpus, "nwtest", sources=("baobinhduong", "vietnam.vn")))) == {
        "vi_plain", "vi_other", "uk", "en"}
    assert set(_keys(_search(corpus, "nwtest", languages=("zh", "uk")))) == {"zh", "uk"}
    assert _keys(_search(corpus, "nwtest", languages=("zh",), sources=("vietnam.vn",))) == []


def test_filters_by_local_publication_day(corpus: Archive) -> None:
    # The Chinese item is 00:30 on 14 November in Vietnam, still 13 November in UTC.
    assert set(_keys(_search(corpus, "nwtest", published_from=date(2024, 11, 14)))) == {"zh", "vi_plain", "en"}
    assert set(_keys(_search(corpus, "nwtest", published_to=date(2024, 11, 13)))) == {"vi", "uk"}
    day = date(2024, 11, 14)
    assert _keys(_search(corpus, "nwtest", published_from=day, published_to=day)) == ["zh"]
    assert _keys(_search(corpus, "nwtest", published_from=date(2024, 11, 13), published_to=date(2024, 11, 13))) == [
        "vi"]


def test_filters_by_event_type(corpus: Archive) -> None:
    assert _keys(_search(corpus, "nwtest", event_types=("conference",))) == ["vi"]
    assert set(_keys(_search(corpus, "nwtest", event_types=("conference", "working_session")))) == {"vi", "en"}
    hit = _search(corpus, "conference", event_types=("working_session",)).hits[0]
    assert hit.event_type == "working_session"


def test_duplicates_are_hidden_unless_asked_for(corpus: Archive) -> None:
    english = next(doc for doc in DOCS if doc.key == "en")
    _archive_doc(corpus, english, url="http://portal.test/republished.html")
    assert _keys(_search(corpus, "deploy tasks")) == ["en"]
    shown = _search(corpus, "deploy tasks", include_duplicates=True)
    assert shown.total == 2
    copy = next(hit for hit in shown.hits if hit.url == "http://portal.test/republished.html")
    assert copy.duplicate_of == _url("en")
    assert copy.duplicate_kind == "exact"
    original = next(hit for hit in shown.hits if hit.url == _url("en"))
    assert original.duplicate_of is None


# -- highlighting ----------------------------------------------------------------------------------


def _without_marks(fragment: str) -> str:
    return fragment.replace("<mark>", "").replace("</mark>", "")


def test_hostile_markup_is_escaped_and_matches_marked(corpus: Archive) -> None:
    hit = _search(corpus, "hội nghị").hits[0]
    hostile = next(doc for doc in DOCS if doc.key == "hostile")
    for fragment in (hit.title_html, hit.snippet_html):
        plain = _without_marks(fragment)
        assert not {"<", ">"} & set(plain)
        assert not [tag for tag in ("<script", "<img", "<b>") if tag in fragment]
    assert "<mark>Hội</mark> <mark>nghị</mark>" in hit.title_html
    assert html.unescape(_without_marks(hit.title_html)) == hostile.title
    assert "&lt;img src=x onerror=alert(1)&gt;" in hit.snippet_html
    assert hit.title == hostile.title


def test_markup_words_are_not_matched_as_markup(corpus: Archive) -> None:
    # "script" is a word of the hostile text; finding it must still escape the tags around it.
    hit = _search(corpus, "script alert").hits[0]
    assert "&lt;<mark>script</mark>&gt;<mark>alert</mark>(1)&lt;/<mark>script</mark>&gt;" in hit.title_html


def test_the_snippet_is_a_bounded_window_around_the_matches(archive: Archive) -> None:
    filler = " ".join(f"chữ{i}" for i in range(400))
    doc = Doc("long", "Bài dài", f"{filler} ở giữa có hội nghị tổng kết rồi {filler}", "vi", "x")
    _archive_doc(archive, doc)
    hit = _search(archive, "hoi nghi tong ket").hits[0]
    plain = _without_marks(hit.snippet_html)
    assert len(plain) <= 310
    assert (plain[0], plain[-1]) == ("…", "…")
    assert "<mark>hội</mark> <mark>nghị</mark> <mark>tổng</mark> <mark>kết</mark>" in hit.snippet_html


# -- bounds and bad input --------------------------------------------------------------------------


@pytest.mark.parametrize("options", [
    {"limit": 0}, {"limit": 101}, {"offset": -1}, {"offset": 10_001},
    {"published_from": date(2025, 1, 2), "published_to": date(2025, 1, 1)},
])
def test_out_of_range_options_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(SearchError) as caught:
        SearchQuery("lũ lụt", **options)  # type: ignore[arg-type]
    assert caught.value.query == "lũ lụt"


@pytest.mark.parametrize("query", [
    "", "   ", '"', '""', "*", "NEAR(", "AND", "OR NOT AND", "(((", "- + ^ : { }", "NEAR(AND, OR)",
    "x" * 301, " ".join(f"w{i}" for i in range(13)), "会" * 25,
])
def test_bad_queries_are_a_clean_error(corpus: Archive, query: str) -> None:
    with pytest.raises(SearchError) as caught:
        _search(corpus, query)
    assert caught.value.query == query
    assert caught.value.reason


@pytest.mark.parametrize(("query", "expected"), [
    ('NEAR(lũ "lụt"*', {"vi", "vi_plain", "vi_other"}),
    ('lũ" OR "lụt', {"vi", "vi_plain", "vi_other"}),
    ("lũ^ lụt* -lụt", {"vi", "vi_plain", "vi_other"}),
    ("title:nghệ", set()),  # "title" is a word like any other, and no item has it
    ("{text}: Nghệ", set()),
    ('"Nghệ An" AND (lũ OR lụt) NOT NEAR(tỉnh)', {"vi"}),
])
def test_fts_syntax_in_a_query_is_only_punctuation(corpus: Archive, query: str, expected: set[str]) -> None:
    assert set(_keys(_search(corpus, query))) == expected


def test_lower_case_operator_words_are_words(corpus: Archive) -> None:
    assert _keys(_search(corpus, "review and deploy")) == ["en"]


def test_pages(corpus: Archive) -> None:
    everything = _search(corpus, "nwtest", limit=100)
    assert everything.total == len(everything.hits) == 7
    pages = [_search(corpus, "nwtest", limit=3, offset=offset) for offset in (0, 3, 6)]
    assert all(page.total == 7 for page in pages)
    assert [hit.item_id for page in pages for hit in page.hits] == [hit.item_id for hit in everything.hits]
    assert _search(corpus, "nwtest", offset=10_000).hits == ()


# -- keeping the index in step ---------------------------------------------------------------------


def test_an_edited_item_is_found_by_its_new_text_only(archive: Archive) -> None:
    first = Doc("edited", "Tin sửa", "Ban đầu bài viết nói về hạn hán kéo dài.", "vi", "x")
    item_id = _archive_doc(archive, first)
    assert _keys(_search(archive, "hạn hán")) == ["edited"]
    _archive_doc(archive, Doc("edited", "Tin sửa", "Bản sửa nói về xâm nhập mặn ở đồng bằng.", "vi", "x"))
    assert _search(archive, "hạn hán").total == 0
    assert _search(archive, "han han").total == 0
    assert [hit.item_id for hit in _search(archive, "xâm nhập mặn").hits] == [item_id]


def test_unindex_and_reindex_all(corpus: Archive) -> None:
    with corpus.session() as session:
        item_id = session.scalars(select(Item.id).where(Item.url == _url("en"))).one()
        search.unindex_item(session, item_id)
    assert _search(corpus, "conference").total == 0
    with corpus.session() as session:
        assert search.reindex_all(session) == len(DOCS)
    assert _keys(_search(corpus, "conference")) == ["en"]


def test_the_migration_backfills_archived_items(corpus: Archive) -> None:
    config = alembic_config()
    with corpus.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    with corpus.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert set(_keys(_search(corpus, "lu lut"))) == {"vi", "vi_plain", "vi_other"}
    assert _keys(_search(corpus, "会")) == ["zh"]


def test_the_index_tables_are_named_for_the_schema_comparison() -> None:
    names = ["item_search", "item_search_data", "item_search_idx", "item_search_docsize", "item_search_config"]
    assert all(search.is_index_table(name) for name in names)
    assert not any(search.is_index_table(name) for name in ["items", "item_versions", "apscheduler_jobs", None])


def test_an_item_with_no_words_is_indexed_and_never_found(archive: Archive) -> None:
    item_id = _archive_doc(archive, Doc("empty", "", "… — !!! ", "vi", "x"))
    with archive.session() as session:
        search.index_item(session, item_id)
        assert search.reindex_all(session) == 1
    assert _search(archive, "x").total == 0
