"""Conference detection on the labelled set: per-language precision, recall, F1, event-date, type,
place and organizer accuracy, and throughput.

The set is ``tests/fixtures/alert_labels.jsonl`` (``tests/build_alert_labels.py``). Event-date
accuracy is over true conferences with a known date that were detected; type, place (the
province, which is what the manifest's place names besides a ward or venue) and organizer
accuracy over detected true conferences. Organizers match when, without case and diacritics,
one contains the other or they share 60% of their words: the reference is Vietnamese, so
translated editions only match where the organizer is given in Vietnamese.

Usage (from the repository root)::

    .venv/bin/python bench/alerts_detection.py [--labels FILE] [--out FILE] [--repeat 5] [--misses]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alerts.detect import ConferenceDetector  # noqa: E402
from alerts.event_fields import find_province  # noqa: E402
from alerts.model import EventRecord, ReportText  # noqa: E402
from alerts.vocabulary import Vocabulary, fold, load_vocabulary  # noqa: E402

LABELS = ROOT / "tests" / "fixtures" / "alert_labels.jsonl"
OUT = ROOT / "bench" / "results" / "alerts_detection.json"


def load_items(path: Path = LABELS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def report_of(item: dict[str, Any]) -> ReportText:
    published = datetime.fromisoformat(item["published_at"]) if item.get("published_at") else None
    return ReportText(url=item["url"], language=item["language"], title=item["title"], lead=item.get("lead", ""),
                      text=item["text"], published_at=published)


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", fold(text)))


def organizer_matches(predicted: str | None, reference: str | None) -> bool:
    if not predicted or not reference:
        return False
    a, b = fold(predicted), fold(reference)
    if a in b or b in a:
        return True
    wa, wb = _words(a), _words(b)
    return len(wa & wb) / max(1, len(wa | wb)) >= 0.6


def province_matches(record: EventRecord, reference: str | None, vocabulary: Vocabulary) -> bool:
    if not reference or not record.province:
        return False
    # The manifest's place ends with the province ("Thành Vinh, Nghệ An"); canonicalize it like the detector.
    expected = find_province((reference.split(",")[-1], reference), vocabulary, record.date)
    return expected is not None and expected.name == record.province


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _summary(c: dict[str, int]) -> dict[str, Any]:
    precision = _ratio(c["tp"], c["tp"] + c["fp"])
    recall = _ratio(c["tp"], c["tp"] + c["fn"])
    f1 = round(2 * precision * recall / (precision + recall), 4) if precision and recall else 0.0
    return {
        "items": c["items"], "conferences": c["tp"] + c["fn"], "tp": c["tp"], "fp": c["fp"], "fn": c["fn"],
        "precision": precision, "recall": recall, "f1": f1,
        "date_accuracy": _ratio(c["date_ok"], c["date_n"]), "type_accuracy": _ratio(c["type_ok"], c["tp"]),
        "place_accuracy": _ratio(c["place_ok"], c["tp"]), "organizer_accuracy": _ratio(c["org_ok"], c["tp"]),
    }


def evaluate(items: list[dict[str, Any]], detector: ConferenceDetector,
             misses: list[str] | None = None) -> dict[str, Any]:
    """Per-language and overall figures; `misses` collects one line per error when given."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in items:
        record = detector.detect(report_of(item))
        event = item.get("event") or {}
        for key in (item["language"] or "unknown", "all"):
            c = counts[key]
            c["items"] += 1
            if record is None:
                c["fn" if item["is_conference"] else "tn"] += 1
                continue
            if not item["is_conference"]:
                c["fp"] += 1
                continue
            c["tp"] += 1
            if event.get("date"):
                c["date_n"] += 1
                c["date_ok"] += record.date is not None and record.date.isoformat() == event["date"]
            c["type_ok"] += record.type == event.get("type")
            c["place_ok"] += province_matches(record, event.get("place"), detector.vocabulary)
            c["org_ok"] += organizer_matches(record.organizer, event.get("organizer"))
        if misses is not None:
            _note_miss(item, record, misses)
    return {lang: _summary(c) for lang, c in sorted(counts.items())}


def _note_miss(item: dict[str, Any], record: EventRecord | None, misses: list[str]) -> None:
    event = item.get("event") or {}
    head = f"{item['language']} {item['url'][-60:]} | {item['title'][:70]}"
    if (record is not None) != item["is_conference"]:
        kind = "FP" if record else "FN"
        misses.append(f"{kind} {head} | {record.rule if record else ''}")
    elif record is not None and event.get("date") and (record.date is None or record.date.isoformat() != event["date"]):
        misses.append(f"DATE {head} | {record.date} != {event['date']}")


def throughput(items: list[dict[str, Any]], detector: ConferenceDetector, repeat: int) -> float:
    reports = [report_of(item) for item in items]
    start = time.perf_counter()
    for _ in range(repeat):
        for report in reports:
            detector.detect(report)
    return round(len(reports) * repeat / (time.perf_counter() - start), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--misses", action="store_true", help="print every detection and date error")
    args = parser.parse_args(argv)
    items = load_items(args.labels)
    detector = ConferenceDetector(load_vocabulary())
    misses: list[str] = []
    results = evaluate(items, detector, misses)
    rate = throughput(items, detector, args.repeat)
    header = f"{'lang':6}{'items':>6}{'conf':>6}{'P':>8}{'R':>8}{'F1':>8}{'date':>8}{'type':>8}{'place':>8}{'org':>8}"
    print(header)
    for lang, row in results.items():
        cells = [row[k] for k in ("precision", "recall", "f1", "date_accuracy", "type_accuracy", "place_accuracy",
                                  "organizer_accuracy")]
        print(f"{lang:6}{row['items']:>6}{row['conferences']:>6}"
              + "".join(f"{'-' if v is None else f'{v:.3f}':>8}" for v in cells))
    print(f"items per second (one core): {rate}")
    if args.misses:
        print("\n".join(misses))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"labels": str(args.labels.relative_to(ROOT)) if args.labels.is_relative_to(ROOT) else str(args.labels),
               "items": len(items), "items_per_second": rate, "per_language": results}
    args.out.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
