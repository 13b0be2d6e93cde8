"""Embed every LFW image once (cached); used by accuracy.py and calibrate.py."""

from __future__ import annotations

import argparse
import csv

from _common import SHARED_DATA, cached_embeddings, require


def lfw_manifest() -> list[dict[str, str]]:
    with (require(SHARED_DATA / "lfw") / "manifest.csv").open() as handle:
        return list(csv.DictReader(handle))


def lfw_embeddings(model_id: str):  # type: ignore[no-untyped-def]
    rows = lfw_manifest()
    paths = [SHARED_DATA / "lfw" / r["path"] for r in rows]
    vectors, found = cached_embeddings("lfw", paths, model_id, pick="center")
    return rows, vectors, found


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="sface")
    args = parser.parse_args()
    rows, vectors, found = lfw_embeddings(args.model)
    print(len(rows), vectors.shape, int(found.sum()))
