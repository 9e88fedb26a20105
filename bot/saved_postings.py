"""BM25's postings saved beside the catalog, so that a process's first snapshot need not build them (issue #15).

Building them from the catalog's stored terms took 5 s of CPU at start at 1.1M sentences (reading 25M terms from
SQLite, splitting them and mapping them to ids); loading them from this file takes a fraction of that. The file
holds the postings of one generation of one catalog file (`catalog_id`), with the article versions and rows they
were built from; a later start reads the articles changed since from the catalog (`Catalog.read_since_saved`) and
appends their postings, as a snapshot after a change does. A file that does not fit (another catalog file or
analyser, a generation the change log does not reach, other article versions, sentences numbered anew by a `.dump`
of the catalog loaded again, a torn or damaged file) is ignored and the postings are built from the catalog as
before (VACUUM keeps the sentences' rowids: their table has an index). Written to a temporary file and renamed:
a process killed while writing leaves the old file or the new one, each whole. npz members carry a CRC32 that
reading checks.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from bot.lexical import PostingSegment, TermPostings, Vocabulary, narrow_counts

log = logging.getLogger(__name__)

FILE_NAME = "bm25-postings.npz"
# Change when the layout below changes: a file of another format is ignored, except those `_saved` reads too.
# 2: each segment's rows as offsets from its first (`segment_bases`), two bytes where they fit; 1: rows in four.
FORMAT = 2
READ_FORMATS = (1, 2)
# Temporary files of a writer killed midway, left for this long before a later writer deletes them.
PARTIAL_KEPT_S = 3600


def postings_path(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


@dataclass(frozen=True)
class SavedPostings:
    """The postings of every sentence row of one snapshot that held no unused rows (rows 0… in `spans` order)."""

    catalog_id: str
    generation: int
    terms_by: str  # the analyser that wrote the catalog's stored terms (`TERMS_KEY`)
    postings: TermPostings
    spans: dict[str, tuple[int, int]]  # article id: its rows, in row order
    versions: dict[str, str]  # the version of each article in `spans`
    format: int = FORMAT  # the file's, where read from one


def save_postings(path: Path, saved: SavedPostings) -> None:
    """Write `saved` to `path` atomically (a temporary file in the same folder, synced, then renamed)."""
    postings = saved.postings
    rows = postings.lengths.size
    segments = postings.segments
    articles = [[a, saved.versions[a], start, end] for a, (start, end) in saved.spans.items()]
    meta = {
        "format": FORMAT,
        "catalog_id": saved.catalog_id,
        "generation": saved.generation,
        "terms_by": saved.terms_by,
        "rows": rows,
        "articles": articles,
    }
    terms = list(postings.vocabulary)  # in id order (ids are given out in insertion order); a copy, taken now
    members: dict[str, list[np.ndarray]] = {
        "meta": [np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)],
        "vocabulary": [np.frombuffer("\n".join(terms).encode(), dtype=np.uint8)],
        "segment_keys": [np.array([len(s.keys) for s in segments], dtype=np.int64)],
        "segment_rows": [np.array([s.rows for s in segments], dtype=np.int64)],
        "segment_bases": [np.array([s.base for s in segments], dtype=np.int64)],
        "keys": [s.keys for s in segments] or [np.zeros(0, np.int32)],
        "indptr": [s.indptr for s in segments] or [np.zeros(0, np.int64)],
        "docs": [s.docs for s in segments] or [np.zeros(0, np.uint16)],  # uint16 where every segment's fit
        "tfs": [s.tfs for s in segments] or [np.zeros(0, np.uint16)],
        "lengths": [postings.lengths.data[:rows]],
        "rowids": [postings.rowids.data[:rows]],
    }
    del terms
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_old_partials(path.parent)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".partial-postings-", suffix=".npz", delete=False) as tmp:
        try:
            os.chmod(tmp.name, 0o644)  # readable as the catalog is (a temporary file is the owner's only)
            _write_npz(tmp, members)
            tmp.flush()
            os.fsync(tmp.fileno())
        except BaseException:
            Path(tmp.name).unlink(missing_ok=True)
            raise
    os.replace(tmp.name, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself survives a crash of the machine
    finally:
        os.close(folder)


def _write_npz(file: IO[bytes], members: dict[str, list[np.ndarray]]) -> None:
    """What `np.savez(file, name=np.concatenate(parts), …)` writes, without the concatenations: each member's parts
    are written one after the other under one header (of their common type), so saving the postings needs no
    copy of them (at a million sentences a copy was about 130 MB more at once). `np.load` reads it as any npz."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, parts in members.items():
            dtype = np.result_type(*parts)
            header = {
                "descr": np.lib.format.dtype_to_descr(dtype),
                "fortran_order": False,
                "shape": (sum(len(part) for part in parts),),
            }
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:  # as np.savez does (gh-10776)
                np.lib.format.write_array_header_1_0(member, header)
                for part in parts:
                    member.write(memoryview(np.ascontiguousarray(part, dtype=dtype)).cast("B"))


def _remove_old_partials(folder: Path) -> None:
    """Temporary files of writers killed midway; a young one may be another process's, writing now."""
    for partial in folder.glob(".partial-postings-*.npz"):
        try:
            if time.time() - partial.stat().st_mtime > PARTIAL_KEPT_S:
                partial.unlink()
        except OSError:
            pass


def load_postings(path: Path) -> SavedPostings | None:
    """The postings saved at `path`, or None when there are none or the file is damaged or of another format."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}  # reads every member whole: CRC checked
        return _saved(arrays)
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        log.warning("ignoring the saved BM25 postings %s: %r", path, error)
        return None


def _saved(arrays: dict[str, np.ndarray]) -> SavedPostings | None:
    meta = json.loads(arrays["meta"].tobytes().decode())
    if meta.get("format") not in READ_FORMATS:
        return None
    rows = int(meta["rows"])
    text = arrays["vocabulary"].tobytes().decode()
    terms = text.split("\n") if text else []
    vocabulary = Vocabulary(zip(terms, range(len(terms)), strict=True))
    keys, indptr, docs, tfs = arrays["keys"], arrays["indptr"], arrays["docs"], narrow_counts(arrays["tfs"])
    lengths, rowids = arrays["lengths"], arrays["rowids"]
    segment_keys, segment_rows = arrays["segment_keys"], arrays["segment_rows"]
    # format 1 saved every row whole (from 0)
    segment_bases = arrays["segment_bases"] if meta["format"] >= 2 else np.zeros(len(segment_keys), dtype=np.int64)
    consistent = (
        len(vocabulary) == len(terms)
        and len(lengths) == len(rowids) == rows
        and int(segment_keys.sum()) == len(keys)
        and len(indptr) == len(keys) + len(segment_keys)
        and len(docs) == len(tfs)
        and len(segment_bases) == len(segment_keys)
        and docs.dtype in (np.dtype(np.uint16), np.dtype(np.int32))
        and (not len(keys) or (int(keys.min()) >= 0 and int(keys.max()) < len(terms)))
    )
    if not consistent:
        raise ValueError("inconsistent arrays")
    postings = TermPostings(vocabulary)
    postings.lengths.extend(lengths)
    postings.rowids.extend(rowids)
    segments = []
    key_start = pointer_start = posting_start = 0
    for count, segment_row_count, base in zip(
        segment_keys.tolist(), segment_rows.tolist(), segment_bases.tolist(), strict=True
    ):
        pointers = indptr[pointer_start : pointer_start + count + 1]
        postings_count = int(pointers[-1])
        if int(pointers[0]) != 0 or posting_start + postings_count > len(docs):
            raise ValueError("inconsistent segments")
        end = posting_start + postings_count
        segment_keys_part = keys[key_start : key_start + count]
        segment = PostingSegment(
            segment_keys_part, pointers, docs[posting_start:end], tfs[posting_start:end], segment_row_count, base
        )
        low, high = segment.span
        if low < 0 or high >= rows:
            raise ValueError("rows out of range")
        segments.extend(segment.pieces())  # a format 1 file's segments in two bytes a row
        key_start, pointer_start, posting_start = key_start + count, pointer_start + count + 1, end
    if posting_start != len(docs):
        raise ValueError("inconsistent segments")
    postings.segments = tuple(segments)
    spans: dict[str, tuple[int, int]] = {}
    versions: dict[str, str] = {}
    position = 0
    for article_id, version, start, end in meta["articles"]:
        if start != position or end <= start:
            raise ValueError("inconsistent articles")
        spans[article_id], versions[article_id] = (start, end), version
        position = end
    if position != rows:
        raise ValueError("inconsistent articles")
    catalog_id, generation, terms_by = meta["catalog_id"], int(meta["generation"]), meta["terms_by"]
    return SavedPostings(catalog_id, generation, terms_by, postings, spans, versions, int(meta["format"]))
