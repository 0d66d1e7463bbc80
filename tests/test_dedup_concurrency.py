"""Two crawl processes archiving near-duplicates at the same moment end with one canonical item."""

from __future__ import annotations

import multiprocessing
from multiprocessing.synchronize import Barrier

from sqlalchemy import func, select

from storage import Archive, PageRecord
from storage.models import Item, ItemVersion

ROUNDS = 4
TEXT = ("Chiều {r}/9, Thường trực Tỉnh ủy làm việc với Ban Tuyên giáo về kết quả công tác quý {r} năm 2026 "
        "và nhiệm vụ trọng tâm thời gian tới. Đồng chí Bí thư Tỉnh ủy chủ trì buổi làm việc. Báo cáo cho biết "
        "toàn tỉnh đã tổ chức {k} hội nghị tuyên truyền, thu hút hơn {p} lượt cán bộ, đảng viên tham dự. ") * 3


def _worker(url: str, name: str, barrier: Barrier) -> None:
    with Archive.open(url) as archive:
        for round_number in range(ROUNDS):
            text = TEXT.format(r=round_number + 1, k=100 + round_number * 37, p=9000 + round_number * 113)
            if name == "b":
                text += " Ảnh: Phóng viên."  # a near-duplicate, not the exact text
            barrier.wait(timeout=60)
            archive.archive_page(PageRecord(url=f"https://{name}.test/r{round_number}", canonical_url="",
                                            source=name, text=text, language="vi"))


def test_concurrent_near_duplicates_end_with_one_canonical(archive_url: str) -> None:
    Archive.open(archive_url).close()  # migrate once, before the race
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    workers = [context.Process(target=_worker, args=(archive_url, name, barrier)) for name in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    with Archive.open(archive_url) as archive, archive.session() as session:
        items = session.scalars(select(Item)).all()
        for round_number in range(ROUNDS):
            pair = [i for i in items if i.url.endswith(f"/r{round_number}")]
            canonical = [i for i in pair if i.duplicate_of_id is None]
            assert len(pair) == 2
            assert len(canonical) == 1, [(i.url, i.duplicate_of_id) for i in pair]
            assert {i.duplicate_kind for i in pair} == {None, "near"}


EDITS = 8


def _editor(url: str, page_url: str, barrier: Barrier) -> None:
    """Re-archives `page_url` with each edit of the story, in step with the other editor."""
    with Archive.open(url) as archive:
        for edit in range(EDITS):
            # A small edit each time: the copy left behind stays a near copy of the edited original.
            text = TEXT.format(r=5, k=200, p=7000) + f"Cập nhật lần {edit + 1}: thêm {edit * 3 + 12} hộ được hỗ trợ."
            barrier.wait(timeout=20)
            archive.archive_page(PageRecord(url=page_url, canonical_url="", source=page_url.split("/")[2],
                                            text=text, language="vi"))


def test_an_original_and_its_copy_edited_at_once_keep_every_version(archive_url: str) -> None:
    """The provincial paper edits a story while the portal republishes the edit: both writes land.

    Each write locks its item and the dedup keys of its text, and the original's write updates its
    copy's row: taken in different orders, two such writes deadlocked on PostgreSQL and one was lost.
    """
    Archive.open(archive_url).close()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    pages = ("https://original.test/story", "https://portal.test/story")
    workers = [context.Process(target=_editor, args=(archive_url, page, barrier)) for page in pages]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    with Archive.open(archive_url) as archive, archive.session() as session:
        items = {item.url: item for item in session.scalars(select(Item))}
        assert [items[page].version for page in pages] == [EDITS, EDITS]
        versions = session.execute(select(ItemVersion.item_id, func.count()).group_by(ItemVersion.item_id)).all()
        assert sorted(count for _, count in versions) == [EDITS - 1, EDITS - 1]
        assert sorted(item.duplicate_of_id is None for item in items.values()) == [False, True]
