"""Comparison pairs for a demographic audit: every genuine pair, impostor pairs sampled within and across groups.

Group labels come from people (a manifest, a score file), one per identity, never from the images.  Impostor
pairs within a group follow NIST FRVT Part 3 (NISTIR 8280): false matches matter most between people of the
same demographic, because that is where faces look alike.  Pairs across groups are kept apart in the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from regard.errors import InvalidInputError


@dataclass(frozen=True)
class PairConfig:
    """How many pairs to draw.  ``None`` for ``max_genuine_per_identity`` keeps every genuine pair."""

    max_within_impostors: int = 200_000  # per group; all of them when the group has fewer
    max_cross_impostors: int = 50_000  # per pair of groups; 0: none
    max_genuine_per_identity: int | None = None


@dataclass(frozen=True)
class PairSet:
    """Image index pairs ``(a[i], b[i])`` with the group of each side (codes into ``group_names``)."""

    a: np.ndarray  # int64 image indices
    b: np.ndarray
    genuine: np.ndarray  # bool
    group_a: np.ndarray  # int32 codes into group_names
    group_b: np.ndarray
    group_names: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.a.size)

    @property
    def within(self) -> np.ndarray:
        """Pairs whose two images belong to the same group (every genuine pair is)."""
        return np.asarray(self.group_a == self.group_b)


def encode(labels: Sequence[str] | np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Integer codes for string labels, and the sorted names they index."""
    names, codes = np.unique(np.asarray(labels, dtype=str), return_inverse=True)
    return codes.astype(np.int64), tuple(str(n) for n in names)


def triangle_pairs(n: int, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-major upper-triangle index ``k`` of an ``n``-square matrix to ``(i, j)`` with ``i < j``.

    Row ``i`` holds ``n-1-i`` entries and starts at ``i*n - i*(i+1)/2``; the square root gives ``i``, and one
    correction step absorbs floating-point error.
    """
    k = np.asarray(keys, dtype=np.int64)
    i = (n - 2 - np.floor(np.sqrt(-8.0 * k + 4.0 * n * (n - 1) - 7) / 2.0 - 0.5)).astype(np.int64)
    start = i * n - i * (i + 1) // 2
    low = k < start
    i[low] -= 1
    start = i * n - i * (i + 1) // 2
    high = k >= start + (n - 1 - i)
    i[high] += 1
    start = i * n - i * (i + 1) // 2
    return i, k - start + i + 1


def distinct_keys(rng: np.random.Generator, population: int, size: int) -> np.ndarray:
    """``size`` distinct integers from ``range(population)``, uniformly, in random order, in O(size) memory."""
    size = min(size, population)
    if size * 4 >= population:
        return rng.permutation(population)[:size]
    keys = _sorted_distinct(rng.integers(0, population, size + size // 8 + 16))
    while keys.size < size:
        keys = _sorted_distinct(np.concatenate([keys, rng.integers(0, population, size - keys.size + 16)]))
    return rng.permutation(keys)[:size]


def _sorted_distinct(values: np.ndarray) -> np.ndarray:
    # Sorting then dropping repeats beats np.unique's hashing on millions of int64 keys.
    ordered = np.sort(values)
    out: np.ndarray = ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])]
    return out


def genuine_pairs(
    members: np.ndarray, identity: np.ndarray, max_per_identity: int | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair of two images of one identity among ``members`` (image indices), optionally capped per identity."""
    ordered = members[np.argsort(identity[members], kind="stable")]
    ids = identity[ordered]
    cuts = np.flatnonzero(np.diff(ids)) + 1
    a_parts, b_parts = [], []
    for run in np.split(ordered, cuts):
        if run.size < 2:
            continue
        i, j = np.triu_indices(run.size, 1)
        if max_per_identity is not None and i.size > max_per_identity:
            keep = np.sort(rng.choice(i.size, max_per_identity, replace=False))
            i, j = i[keep], j[keep]
        a_parts.append(run[i])
        b_parts.append(run[j])
    return _joined(a_parts), _joined(b_parts)


def impostor_pairs_within(
    members: np.ndarray, identity: np.ndarray, max_pairs: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of images of different identities among ``members``: all of them, or ``max_pairs`` drawn uniformly.

    Drawn without replacement over the triangle of image pairs; pairs of one identity are rejected.
    """
    n = int(members.size)
    sizes = np.bincount(np.unique(identity[members], return_inverse=True)[1])
    triangle = n * (n - 1) // 2
    total = triangle - int((sizes * (sizes - 1) // 2).sum())
    if total <= 0 or max_pairs <= 0:
        return _joined([]), _joined([])
    if total <= max_pairs:
        i, j = np.triu_indices(n, 1)
        keep = identity[members[i]] != identity[members[j]]
        return members[i[keep]], members[j[keep]]
    acceptance = total / triangle
    draw = min(triangle, int(max_pairs / acceptance * 1.1) + 64)
    while True:
        keys = distinct_keys(rng, triangle, draw)
        i, j = triangle_pairs(n, keys)
        keep = identity[members[i]] != identity[members[j]]
        if int(keep.sum()) >= max_pairs or draw == triangle:
            i, j = i[keep][:max_pairs], j[keep][:max_pairs]
            return members[i], members[j]
        draw = min(triangle, draw * 2)


def impostor_pairs_between(
    members_a: np.ndarray, members_b: np.ndarray, max_pairs: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs with one image from each of two disjoint sets: all of them, or ``max_pairs`` drawn uniformly."""
    total = int(members_a.size) * int(members_b.size)
    if total == 0 or max_pairs <= 0:
        return _joined([]), _joined([])
    keys = np.arange(total) if total <= max_pairs else np.sort(distinct_keys(rng, total, max_pairs))
    return members_a[keys // members_b.size], members_b[keys % members_b.size]


def build_pairs(
    identities: Sequence[str],
    group_of: Mapping[str, str],
    usable: np.ndarray | None = None,
    config: PairConfig | None = None,
    seed: int = 0,
) -> PairSet:
    """Genuine pairs, within-group and cross-group impostor pairs over the images of labelled identities.

    ``identities`` has one entry per image; ``group_of`` maps an identity to its group (labels given by people).
    Images whose identity has no group (missing or empty label) and images where ``usable`` is False (no face)
    take part in no pair.  Deterministic for a given ``seed``.
    """
    config = config or PairConfig()
    rng = np.random.default_rng(seed)
    n = len(identities)
    if usable is not None and usable.shape != (n,):
        raise InvalidInputError(f"usable mask has shape {usable.shape}, expected ({n},)")
    identity, id_names = encode(identities)
    labels = np.asarray([group_of.get(name, "") or "" for name in id_names], dtype=str)
    labelled = labels != ""
    group_names = tuple(sorted(set(labels[labelled].tolist())))
    group_code = np.full(len(id_names), -1, dtype=np.int64)
    group_code[labelled] = np.searchsorted(np.asarray(group_names), labels[labelled])
    image_group = group_code[identity]
    keep = image_group >= 0 if usable is None else (image_group >= 0) & usable.astype(bool)
    by_group = [np.flatnonzero(keep & (image_group == g)) for g in range(len(group_names))]
    a, b, genuine = [], [], []
    for members in by_group:
        for (x, y), same in (
            (genuine_pairs(members, identity, config.max_genuine_per_identity, rng), True),
            (impostor_pairs_within(members, identity, config.max_within_impostors, rng), False),
        ):
            a.append(x)
            b.append(y)
            genuine.append(np.full(x.size, same))
    for g in range(len(group_names)):
        for h in range(g + 1, len(group_names)):
            x, y = impostor_pairs_between(by_group[g], by_group[h], config.max_cross_impostors, rng)
            a.append(x)
            b.append(y)
            genuine.append(np.zeros(x.size, dtype=bool))
    pa, pb = _joined(a), _joined(b)
    return PairSet(
        a=pa,
        b=pb,
        genuine=np.concatenate(genuine) if genuine else np.zeros(0, dtype=bool),
        group_a=image_group[pa].astype(np.int32),
        group_b=image_group[pb].astype(np.int32),
        group_names=group_names,
    )


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
