"""Layer 3 inputs: shingles (word shingles, character shingles for CJK), MinHash and LSH band keys."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Set as AbstractSet
from functools import cache
from typing import Any

import numpy as np

NUM_PERM = 128
BANDS = 16
ROWS = 8
WORD_SHINGLE = 5
CJK_SHINGLE = 4
# Band keys and other index keys are 48-bit: SQLite stores them in 6 bytes, collisions stay negligible
# (and every candidate is verified by its similarity score anyway).
KEY_BITS = 48

# One unit per CJK character (Han, kana, Hangul); one per run of other letters and digits.
_UNITS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]|[^\W_]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def index_key(kind: str, value: str | bytes) -> int:
    """A 48-bit integer key for the dedup index: `kind` keeps band, URL and anchor keys apart."""
    raw = value if isinstance(value, bytes) else value.encode("utf-8")
    digest = hashlib.blake2b(kind.encode() + b"\x00" + raw, digest_size=6).digest()
    return int.from_bytes(digest, "big")


def units(text: str) -> list[str]:
    return _UNITS.findall(unicodedata.normalize("NFKC", text).casefold())


def _cjk_units(tokens: list[str]) -> list[str]:
    # A unit that starts with a CJK character is that character alone (the first alternative of
    # `_UNITS` wins there), so one regex pass over the one-character units finds them all.
    return _CJK.findall("".join(t for t in tokens if len(t) == 1))


def is_cjk(tokens: list[str]) -> bool:
    return len(_cjk_units(tokens)) * 2 > len(tokens)


def shingles(text: str) -> set[str]:
    """Word 5-shingles, or character 4-shingles when most units are CJK characters."""
    tokens = units(text)
    cjk = _cjk_units(tokens)
    if len(cjk) * 2 > len(tokens):
        tokens = cjk
        size, sep = CJK_SHINGLE, ""
    else:
        size, sep = WORD_SHINGLE, " "
    if len(tokens) <= size:
        return {sep.join(tokens)} if tokens else set()
    # One slice per offset, zipped, instead of one slice per shingle.
    return set(map(sep.join, zip(*(tokens[i:] for i in range(size)), strict=False)))


def overlap(a: AbstractSet[str], b: AbstractSet[str]) -> tuple[float, float]:
    """Jaccard and containment (how much of the smaller set the larger one contains), from one
    intersection."""
    if not a or not b:
        return 0.0, 0.0
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared), shared / min(len(a), len(b))


def jaccard(a: AbstractSet[str], b: AbstractSet[str]) -> float:
    return overlap(a, b)[0]


def containment(a: AbstractSet[str], b: AbstractSet[str]) -> float:
    """How much of the smaller set the larger one contains."""
    return overlap(a, b)[1]


def _hash32(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=4).digest(), "little")


@cache
def _permutations() -> tuple[Any, Any]:
    from datasketch import MinHash  # noqa: PLC0415 - datasketch pulls in scipy: only when hashing

    return MinHash(num_perm=NUM_PERM, seed=1, scheme="affine32").permutations  # type: ignore[no-any-return]


def signature(items: set[str]) -> np.ndarray:
    """The 128-value MinHash signature (datasketch, fixed seed) of a shingle set."""
    from datasketch import MinHash  # noqa: PLC0415 - see _permutations

    minhash = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=_hash32, permutations=_permutations(),
                      scheme="affine32")
    minhash.update_batch([s.encode("utf-8") for s in items])
    return np.asarray(minhash.hashvalues, dtype=np.uint64)


def band_keys(sig: np.ndarray) -> list[int]:
    """16 bands of 8 rows: pairs just above Jaccard 0.8 share a band 96% of the time."""
    return [index_key(f"band{b}", sig[b * ROWS:(b + 1) * ROWS].astype("<u8").tobytes()) for b in range(BANDS)]
