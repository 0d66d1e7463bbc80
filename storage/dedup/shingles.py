"""Layer 3 inputs: shingles (word shingles, character shingles for CJK), MinHash and LSH band keys."""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Set as AbstractSet
from functools import cache

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


class ShingleCache:
    """The shingle sets of the texts met most recently, by text: a crawl verifies one new item
    after another against the same group roots and candidates, and re-judges each new member
    against its root."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._sets: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._lock = threading.Lock()  # the dashboard explains duplicates from several threads

    def __len__(self) -> int:
        return len(self._sets)

    def get(self, text: str) -> frozenset[str]:
        with self._lock:
            found = self._sets.get(text)
            if found is not None:
                self._sets.move_to_end(text)
                return found
        found = frozenset(shingles(text))
        self.remember(text, found)
        return found

    def remember(self, text: str, shingle_set: frozenset[str]) -> None:
        """Keep a set computed elsewhere (a new item's, with its extraction)."""
        with self._lock:
            self._sets[text] = shingle_set
            self._sets.move_to_end(text)
            while len(self._sets) > self.size:
                self._sets.popitem(last=False)


# About 10 MB at most (a text and its set); a group's root stays in it while its editions arrive.
RECENT_SHINGLES = ShingleCache(64)


def stored_shingles(text: str) -> frozenset[str]:
    return RECENT_SHINGLES.get(text)


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


# MurmurHash3's 32-bit finalizer, which datasketch's "affine32" scheme applies before permuting.
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))
_MAX32 = np.uint32(0xFFFFFFFF)


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """datasketch 2.0's affine32 permutations for `MinHash(num_perm=NUM_PERM, seed=1)`: odd `a`, any `b`.

    Computed here, bit for bit as datasketch computes them (tests/test_dedup.py checks it), because
    importing datasketch pulls in scipy: about half a CPU second of every crawl process.
    """
    gen = np.random.RandomState(1)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def signature(items: AbstractSet[str]) -> np.ndarray:
    """The 128-value MinHash signature of a shingle set: datasketch's `MinHash(num_perm=128, seed=1,
    hashfunc=_hash32, scheme="affine32")` after `update_batch`, vectorised over the whole set."""
    if not items:
        return np.full(NUM_PERM, _MAX32, dtype=np.uint64)
    a, b = _permutations()
    hv = np.fromiter((_hash32(s.encode("utf-8")) for s in items), dtype=np.uint32, count=len(items))
    s1, m1, s2, m2, s3 = _FMIX32
    hv ^= hv >> s1
    hv *= m1
    hv ^= hv >> s2
    hv *= m2
    hv ^= hv >> s3
    permuted = hv[:, None] * a + b  # uint32: the wraparound is the modulo 2^32 of the scheme
    return np.asarray(permuted.min(axis=0), dtype=np.uint64)


def band_keys(sig: np.ndarray) -> list[int]:
    """16 bands of 8 rows: pairs just above Jaccard 0.8 share a band 96% of the time."""
    return [index_key(f"band{b}", sig[b * ROWS:(b + 1) * ROWS].astype("<u8").tobytes()) for b in range(BANDS)]
