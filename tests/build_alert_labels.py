"""Build the labelled conference-detection set ``tests/fixtures/alert_labels.jsonl``.

Three sources, one JSON object per line (sorted, so the file is deterministic):

- every article of the replica manifests of days 0, 1 and 2 (``python -m replica manifest
  --day N``; deduplicated by URL, the latest day wins). The manifest's ``text`` is the sapo
  (lead) first, then the body, so ``lead`` is left empty: detection finds the lead itself, as it
  must for archived items. Labels: ``is_conference`` and ``event`` from the manifest, the event
  type mapped onto alerts.model.EVENT_TYPES (``type``; the manifest's word is kept in ``type_label``);
- the five seeds (seeds/corpus), parsed by crawler.seed_text like ``newswatch seeds`` does,
  labelled by hand below (all five are conference reports);
- hand-written hard negatives in several languages (features recalling old conferences, sports
  meetings, court and training sessions, conference-room furniture, venues, conference tourism).

Run: ``.venv/bin/python tests/build_alert_labels.py``
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.seed_text import parse_page_text  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "alert_labels.jsonl"
DAYS = (0, 1, 2)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")

# The manifest's event types are the reporters' words; the detector speaks alerts.model.EVENT_TYPES.
TYPE_MAP = {
    "conference": "conference", "hội nghị": "conference", "hội nghị tổng kết": "conference",
    "hội nghị sơ kết": "conference", "dissemination": "conference", "dialogue": "conference",
    "briefing": "meeting", "hội nghị giao ban": "meeting", "meeting": "meeting", "phiên họp": "meeting",
    "working session": "working_session", "working_session": "working_session", "buổi làm việc": "working_session",
    "session": "council_session", "kỳ họp": "council_session", "council_session": "council_session",
    "congress": "congress", "workshop": "workshop", "hội thảo": "workshop", "round table": "workshop",
    "họp báo": "press_conference",
}

# The seeds, labelled by reading them (docs: DESIGN.md "The seed corpus").
SEED_LABELS: dict[str, dict[str, Any]] = {
    # English, baonghean.vn: "On November 13, in Do Luong district (Nghe An), a conference was held …";
    # byline DNUM_BDZBBZCACE 15:24 = 13/11/2024.
    "000_f6a5c24e642ec9d6.txt": {"type": "conference", "date": "2024-11-13", "place": "Đô Lương, Nghệ An",
                                 "organizer": "Cụm thi đua số 3 khối Tuyên giáo, Ban Tuyên giáo Tỉnh ủy Nghệ An"},
    # Ukrainian, vietnam.vn about Quảng Trị: "Сьогодні, 27 лютого, … провів робочу сесію"; portal line 27/02/2024.
    "001_f81a0f7c559524c2.txt": {"type": "working_session", "date": "2024-02-27", "place": "Đông Hà, Quảng Trị",
                                 "organizer": "Ban Thường vụ Tỉnh ủy Quảng Trị"},
    # Chinese, baonghean.vn/cn: "1月7日上午,省委宣传部召开会议"; byline DNUM_AHZABZCACF = 07/01/2025.
    "002_bac7dcb254da50f1.txt": {"type": "conference", "date": "2025-01-07", "place": "Vinh, Nghệ An",
                                 "organizer": "Ban Tuyên giáo Tỉnh ủy Nghệ An"},
    # English, vietnam.vn about Bình Thuận: the text gives no day; the portal line says 29/01/2024 and the
    # other editions of the story ("Вранці 29 січня") date the conference that morning.
    "003_cd2ea86a401c89c6.txt": {"type": "conference", "date": "2024-01-29", "place": "Phan Thiết, Bình Thuận",
                                 "organizer": "Ban Chỉ đạo 35 - 16 tỉnh Bình Thuận"},
    # English, baobinhduong.vn: "On February 11, … held a conference to review … 2024 and deploy tasks for 2025";
    # the year is 2025 ("merge the two boards on February 10, 2025"); the header clock 26-4-25 is capture time.
    "004_e0ba603f9359f841.txt": {"type": "conference", "date": "2025-02-11", "place": "TP.Thủ Dầu Một, Bình Dương",
                                 "organizer": "Ban Tuyên giáo và Dân vận Tỉnh ủy Bình Dương"},
}


def _neg(language: str, published_at: str, title: str, text: str, note: str) -> dict[str, Any]:
    return {"language": language, "published_at": published_at, "title": title, "text": text, "note": note}


# Hard negatives: conference words that do not report a conference. Written for this set, in the
# sites' style; none is a replica or seed text.
HARD_NEGATIVES: list[dict[str, Any]] = [
    _neg("vi", "2026-09-05T08:00:00+07:00", "Nhìn lại Hội nghị Trung ương 4 khóa XII: dấu ấn xây dựng, chỉnh đốn Đảng",
         "Cách đây 10 năm, Hội nghị Trung ương 4 khóa XII đã ban hành Nghị quyết về tăng cường xây dựng, "
         "chỉnh đốn Đảng.\n"
         "Nhiều cán bộ lão thành ở Nghệ An vẫn nhớ không khí học tập nghị quyết khi ấy.", "retrospective feature"),
    _neg("vi", "2026-09-05T09:00:00+07:00", "Kỷ niệm 95 năm Đại hội Đảng bộ tỉnh Nghệ An lần thứ nhất",
         "Sáng 5/9, tại Thành Vinh, Tỉnh ủy Nghệ An tổ chức lễ kỷ niệm 95 năm Đại hội Đảng bộ tỉnh lần thứ nhất.\n"
         "Các đại biểu ôn lại truyền thống vẻ vang của Đảng bộ tỉnh.", "anniversary ceremony"),
    _neg("vi", "2026-09-05T17:00:00+07:00", "Đại hội Thể dục thể thao tỉnh Nghệ An: môn bóng chuyền khởi tranh",
         "Chiều 5/9, tại Nhà thi đấu tỉnh, môn bóng chuyền Đại hội Thể dục thể thao tỉnh Nghệ An lần thứ X "
         "chính thức khởi tranh "
         "với 16 đội tham dự.\nĐội Thành Vinh thắng Diễn Châu 3-1 ở trận mở màn.", "sports games"),
    _neg("vi", "2026-09-04T16:00:00+07:00", "Xét xử vụ lừa đảo chiếm đoạt tiền đặt cọc mua đất tại Nghệ An",
         "Sáng 4/9, TAND tỉnh Nghệ An mở phiên tòa sơ thẩm xét xử 3 bị cáo về tội lừa đảo chiếm đoạt tài sản.\n"
         "Phiên tòa dự kiến kéo dài 2 ngày.", "court session"),
    _neg("vi", "2026-09-03T10:00:00+07:00", "Doanh nghiệp Bình Dương xuất khẩu 20.000 bộ bàn họp, ghế hội "
         "nghị sang Nhật Bản",
         "Công ty nội thất Minh Phát cho biết 8 tháng qua đã xuất khẩu 20.000 bộ bàn họp, ghế hội nghị sang Nhật Bản.\n"
         "Mỗi container hàng nội thất văn phòng mang về khoảng 40.000 USD.", "furniture"),
    _neg("vi", "2026-09-02T10:00:00+07:00", "Trung tâm Hội nghị tỉnh Nghệ An hoàn thành cải tạo",
         "Sau 8 tháng thi công, Trung tâm Hội nghị tỉnh Nghệ An đã hoàn thành cải tạo hội trường chính và 6 "
         "phòng họp.\n"
         "Công trình có tổng vốn 45 tỷ đồng.", "venue"),
    _neg("vi", "2026-09-01T10:00:00+07:00", "Cửa Lò hướng tới du lịch hội nghị, hội thảo",
         "Nhiều khách sạn ở Cửa Lò đầu tư phòng hội nghị để đón khách du lịch MICE vào mùa thấp điểm.\n"
         "Năm 2026, thị xã đặt mục tiêu đón 50.000 lượt khách du lịch hội nghị.", "conference tourism"),
    _neg("vi", "2026-09-04T07:00:00+07:00", "Người thầy 30 năm gieo chữ ở bản Huồi Giảng",
         "Tại hội nghị tổng kết ngành giáo dục hồi tháng 8/2025, thầy Lương Văn Hùng được tuyên dương là giáo "
         "viên tiêu biểu.\n"
         "Ba mươi năm qua, thầy đã dạy chữ cho hơn 600 học sinh người Mông.", "feature recalling a conference"),
    _neg("vi", "2026-09-06T09:00:00+07:00", "Hơn 3.000 công nhân trở lại làm việc tại Khu công nghiệp VSIP "
         "sau kỳ nghỉ lễ",
         "Sáng 6/9, hơn 3.000 công nhân đã trở lại làm việc tại các nhà máy trong Khu công nghiệp VSIP.\n"
         "Nhiều doanh nghiệp tổ chức đón công nhân bằng quà và tiền thưởng.", "work, not a working session"),
    _neg("vi", "2026-09-05T20:00:00+07:00", "Ký ức về Đại hội Đảng bộ tỉnh năm 1986",
         "Ông Nguyễn Văn Thành, 90 tuổi, nhớ lại những ngày tham dự Đại hội Đảng bộ tỉnh năm 1986.\n"
         "Khi ấy, đại hội họp trong hội trường lợp mái tôn.", "memoir"),
    _neg("vi", "2026-09-05T10:00:00+07:00", "Hội nghị tổng kết năm 2023: những con số ấn tượng của ngành tuyên giáo",
         "Ngày 12/1/2024, Ban Tuyên giáo Tỉnh ủy tổ chức hội nghị tổng kết công tác tuyên giáo năm 2023.\n"
         "Hai năm sau, nhiều chỉ tiêu đặt ra khi đó đã hoàn thành.", "conference long before publication"),
    _neg("vi", "2026-09-06T11:00:00+07:00", "Cựu học sinh Trường THPT Phan Bội Châu họp lớp sau 40 năm",
         "Sáng 6/9, hơn 40 cựu học sinh khóa 1983 - 1986 Trường THPT chuyên Phan Bội Châu họp lớp tại Thành Vinh.\n"
         "Nhiều người đã lên chức ông bà.", "class reunion"),
    _neg("en", "2026-09-05T08:00:00+07:00", "Looking back at the 2015 Party Congress that shaped Nghe An",
         "Ten years ago, the 18th Provincial Party Congress set the goal of making Nghe An a fairly developed "
         "province.\n"
         "Many of its targets have since been met.", "retrospective feature"),
    _neg("en", "2026-09-04T21:00:00+07:00", "Nghe An athletes shine at national athletics meeting",
         "On the afternoon of September 4, Nghe An athletes won three gold medals at the national athletics "
         "meeting in Hanoi.\n"
         "Sprinter Tran Thi Nhi set a new personal best in the 100 metres.", "sports meeting"),
    _neg("en", "2026-09-06T18:00:00+07:00", "Song Lam Nghe An hold open training session before round 4",
         "On the morning of September 6, Song Lam Nghe An held an open training session for fans at Vinh Stadium.\n"
         "Coach Phan Nhu Thuat said the squad was ready for the trip to Hanoi.", "training session"),
    _neg("en", "2026-09-05T16:00:00+07:00", "Court postpones land fraud trial in Nghe An",
         "On September 5, the Provincial People's Court postponed the session of the trial of three defendants "
         "accused of land fraud.\nThe session will resume next week.", "court session"),
    _neg("en", "2026-09-05T12:00:00+07:00", "Lai Thieu artisans open a pottery workshop to tourists",
         "On September 5, artisans in Lai Thieu ward opened a new pottery workshop where visitors can throw "
         "their own bowls.\n"
         "The kiln can fire 300 pieces a day.", "craft workshop"),
    _neg("en", "2026-09-03T10:00:00+07:00", "Furniture maker ships 20,000 conference chairs to Japan",
         "A Binh Duong furniture company has shipped 20,000 conference chairs and meeting tables to Japan so "
         "far this year.\n"
         "Office furniture now makes up a third of its exports.", "furniture"),
    _neg("en", "2026-09-02T09:00:00+07:00", "Province marks 50 years since the historic 1976 conference",
         "Fifty years ago, delegates gathered in Vinh for the conference that merged Nghe An and Ha Tinh.\n"
         "An exhibition of photographs from the time opened at the provincial museum.", "anniversary"),
    _neg("en", "2026-09-06T10:00:00+07:00", "Residents flood online forum with complaints about waterlogging",
         "Hundreds of residents posted on the ward's online forum after heavy rain flooded Tran Hung Dao street.\n"
         "The ward promised to dredge the drains by October.", "online forum"),
    _neg("en", "2026-09-01T10:00:00+07:00", "New hotels bet on conference tourism in Cua Lo",
         "Three new hotels in Cua Lo have built conference halls to attract conference tourism in the low season.\n"
         "The town expects 50,000 business visitors in 2026.", "conference tourism"),
    _neg("zh", "2026-09-03T10:00:00+07:00", "平阳家具企业向日本出口2万套会议室桌椅",
         "该企业今年已向日本出口会议桌、会议椅2万套,办公家具占出口额的三分之一。\n"
         "每个集装箱价值约4万美元。", "furniture"),
    _neg("zh", "2026-09-05T08:00:00+07:00", "回顾1986年省党代会",
         "回顾1986年召开的省党代会,许多老干部仍记得当年的情景。\n当时会场设在一座铁皮屋顶的礼堂里。", "retrospective"),
    _neg("zh", "2026-09-05T17:00:00+07:00", "义安省第十届体育大会排球比赛开幕",
         "9月5日下午,义安省第十届体育大会排球比赛在荣市体育馆开幕,16支队伍参赛。\n"
         "荣坊队以3比1战胜演州队。", "sports games"),
    _neg("zh", "2026-09-02T10:00:00+07:00", "义安省会议中心完成改造",
         "经过8个月施工,省会议中心主会议厅和6间会议室已完成改造,总投资450亿越盾。", "venue"),
    _neg("zh", "2026-09-01T10:00:00+07:00", "炉门大力发展会议旅游",
         "炉门多家酒店投资建设会议室,在淡季吸引会议旅游客人。\n"
         "2026年当地目标接待5万人次商务游客。", "conference tourism"),
    _neg("zh", "2026-09-04T07:00:00+07:00", "苗族村寨的老师坚守讲台30年",
         "在2025年8月的教育工作总结会议上,他曾被表彰为优秀教师。\n三十年来,他为600多名苗族学生授课。", "feature"),
    _neg("ru", "2026-09-05T16:00:00+07:00", "Судебное заседание по делу о мошенничестве с землей отложено",
         "5 сентября провинциальный народный суд отложил заседание по делу трех обвиняемых в мошенничестве с землей.\n"
         "Заседание продолжится на следующей неделе.", "court session"),
    _neg("ru", "2026-09-05T08:00:00+07:00", "Вспоминая первую сессию провинциального народного совета",
         "Тридцать лет назад, вспоминает ветеран, первая сессия совета проходила в старом здании.\n"
         "Тогда депутатов было всего сорок.", "memoir"),
    _neg("ru", "2026-09-01T10:00:00+07:00", "Курорт Кыало развивает конференц-туризм",
         "Новые отели Кыало строят конференц-залы, чтобы привлечь конференц-туризм в низкий сезон.",
              "conference tourism"),
    _neg("uk", "2026-09-05T08:00:00+07:00", "Згадуючи з'їзд партії 1986 року",
         "Ветеран згадує з'їзд партії 1986 року, коли делегати збиралися в залі з бляшаним дахом.\n"
         "Тоді він був наймолодшим делегатом.", "memoir"),
    _neg("uk", "2026-09-06T18:00:00+07:00", "Тренувальна сесія команди Шонглам Нгеан перед матчем",
         "Вранці 6 вересня команда провела відкриту тренувальна сесія для вболівальників на стадіоні Вінь.",
              "training"),
    _neg("uk", "2026-09-02T10:00:00+07:00", "Конференц-зал провінційного центру відремонтовано",
         "Після восьми місяців робіт конференц-зал і зал засідань провінційного центру відремонтовано.", "venue"),
    _neg("fr", "2026-09-05T08:00:00+07:00", "Il y a 40 ans, la conférence qui a changé la province",
         "Il y a 40 ans, une conférence provinciale décidait de la réforme agraire à Nghe An.\n"
         "Les anciens s'en souviennent encore.", "retrospective"),
    _neg("fr", "2026-09-06T18:00:00+07:00", "Séance d'entraînement ouverte pour le club Song Lam Nghe An",
         "Le matin du 6 septembre, le club a organisé une séance d'entraînement ouverte au stade de Vinh.", "training"),
    _neg("es", "2026-09-05T12:00:00+07:00", "El taller de cerámica de Lai Thieu recibe a turistas",
         "El 5 de septiembre, el taller de cerámica de Lai Thieu abrió sus puertas a los turistas.", "craft workshop"),
    _neg("es", "2026-09-01T10:00:00+07:00", "Cua Lo apuesta por el turismo de conferencias",
         "Los hoteles de Cua Lo construyen salas de conferencias para atraer el turismo de conferencias.", "tourism"),
]


def manifest_items() -> list[dict[str, Any]]:
    articles: dict[str, dict[str, Any]] = {}
    for day in DAYS:
        out = subprocess.run([sys.executable, "-m", "replica", "manifest", "--day", str(day)], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            entry = json.loads(line)
            if entry["kind"] == "article":
                articles[entry["url"]] = entry
    items = []
    for entry in articles.values():
        event = entry["event"]
        if event is not None:
            event = {**event, "type_label": event["type"], "type": TYPE_MAP[event["type"]]}
        items.append({
            "source": "replica", "url": entry["url"], "language": entry["language"], "title": entry["title"] or "",
            "lead": "", "text": entry["text"] or "", "published_at": entry["published_at"],
            "is_conference": bool(entry["is_conference"]), "event": event,
            "duplicate_group": entry["duplicate_group"],
        })
    return items


def seed_items() -> list[dict[str, Any]]:
    items = []
    for name, event in SEED_LABELS.items():
        page = parse_page_text((ROOT / "seeds" / "corpus" / name).read_text("utf-8"), TZ)
        items.append({
            "source": "seed", "url": f"seed:{name}", "language": page.language, "title": page.title or "",
            "lead": "", "text": page.text,
            "published_at": page.published_at.isoformat() if page.published_at else None,
            "is_conference": True, "event": {**event, "type_label": event["type"]}, "duplicate_group": None,
        })
    return items


def hand_items() -> list[dict[str, Any]]:
    return [{"source": "hand", "url": f"hand:{i:03d}", "lead": "", "is_conference": False, "event": None,
             "duplicate_group": None, **item} for i, item in enumerate(HARD_NEGATIVES)]


def main() -> int:
    items = manifest_items() + seed_items() + hand_items()
    items.sort(key=lambda item: (item["source"], item["url"]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"wrote {len(items)} items to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
