"""The append-only spool: an event is acknowledged only once it is on disk.

Request handlers hand their encoded rows to `Spool.append`, which waits until
the one writer thread has written them and called `fdatasync`. The writer
takes everything queued since its last sync and writes it with one `write` and
one sync (group commit), so many concurrent requests share each sync.

Rows go to the active segment `<spool>/<seq>.jsonl`. A segment rolls into the
landing folder (`<data>/landing/web_events/collect-<spool id>-<seq>.jsonl`) when
it reaches `roll_bytes` or is older than `roll_seconds`: synced, then renamed
(or, across file systems, copied to a dot-file, synced and renamed), so
`cdp ingest` sees a whole file or nothing. File names are fixed by the segment,
so a segment rolled twice after a crash replaces its own copy, and the loader's
content hash lands it once.

Start-up recovers: every segment left in the spool (a crash, `kill -9`) is cut
back to its last complete line (a torn tail was never acknowledged) and
rolled, and the messageIds of the spool and of the collector's landing files
are read back into the de-duplication set, so a client retrying a request whose
answer it never got is not landed twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import queue
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from cdp.serve.events import encode_row

log = logging.getLogger("cdp.serve.spool")

SEGMENT_SUFFIX = ".jsonl"
LANDED_PREFIX = "collect-"
_STOP = object()


class SpoolBusy(Exception):
    """More bytes are waiting for the disk than allowed: answer 429."""


class DiskFull(Exception):
    """The spool's disk is (nearly) full: answer 503; nothing is acknowledged."""


class SpoolError(Exception):
    """Writing the spool failed for another reason: answer 503."""


@dataclass
class _Pending:
    data: bytes
    ids: list[str]
    future: asyncio.Future[None]
    loop: asyncio.AbstractEventLoop


@dataclass
class SpoolStats:
    """What `/health` and the benchmark report."""

    events_written: int = 0
    bytes_written: int = 0
    syncs: int = 0
    segments_rolled: int = 0
    duplicates: int = 0
    pending_bytes: int = 0
    extra: dict[str, object] = field(default_factory=dict)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _message_id(line: bytes) -> str | None:
    """The message_id of a spool line (written first, so usually a prefix read)."""
    prefix = b'{"message_id":"'
    if line.startswith(prefix):
        end = line.find(b'"', len(prefix))
        if end > 0 and b"\\" not in line[len(prefix) : end]:
            return line[len(prefix) : end].decode()
    try:
        value = orjson.loads(line).get("message_id")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return value if isinstance(value, str) else None


class Spool:
    """See the module docstring. `start()` recovers and starts the writer;
    `close()` syncs and rolls what is left."""

    def __init__(
        self,
        spool_dir: Path,
        landing_dir: Path,
        *,
        roll_seconds: float = 5.0,
        roll_bytes: int = 16 * 1024 * 1024,
        max_pending_bytes: int = 8 * 1024 * 1024,
        min_free_bytes: int = 64 * 1024 * 1024,
        dedupe_ids: int = 500_000,
    ) -> None:
        self.spool_dir = spool_dir
        self.landing_dir = landing_dir
        self.roll_seconds = roll_seconds
        self.roll_bytes = roll_bytes
        self.max_pending_bytes = max_pending_bytes
        self.min_free_bytes = min_free_bytes
        self.dedupe_capacity = dedupe_ids
        self.stats = SpoolStats()
        # messageId -> the future of its pending write, or None once durable.
        # Touched only on the event loop's thread.
        self._seen: OrderedDict[str, asyncio.Future[None] | None] = OrderedDict()
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._fd = -1
        self._seq = 0
        self._size = 0
        self._opened_at = 0.0
        self._sealed: list[Path] = []
        self._spool_id = ""
        self._disk_full_until = 0.0

    # -- start and stop -------------------------------------------------

    def start(self) -> None:
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        self.landing_dir.mkdir(parents=True, exist_ok=True)
        self._spool_id = self._read_spool_id()
        leftovers = sorted(self.spool_dir.glob(f"*{SEGMENT_SUFFIX}"))
        ids: list[str] = []
        for segment in leftovers:
            ids.extend(self._recover_segment(segment))
        self._seq = max([self._segment_seq(p) for p in leftovers] + [self._last_landed_seq()]) + 1
        for segment in leftovers:
            self._roll_file(segment)
        self._load_landed_ids()
        self._remember(ids)
        self._open_segment()
        self._thread = threading.Thread(target=self._run, name="cdp-spool-writer", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join()
        self._thread = None

    # -- the request side (event loop thread) ----------------------------

    def is_duplicate(self, message_id: str) -> bool:
        return message_id in self._seen

    def disk_full(self) -> bool:
        """True while the disk is known to be full (rechecked every 100 ms)."""
        if self._disk_full_until == 0.0:
            return False
        if time.monotonic() < self._disk_full_until:
            return True
        if self._free_bytes() > self.min_free_bytes:
            self._disk_full_until = 0.0
            return False
        self._disk_full_until = time.monotonic() + 0.1
        return True

    async def append(self, rows: Iterable[dict[str, object]]) -> int:
        """Write `rows` durably; returns how many were new (the rest were
        duplicates of a messageId already written or being written).

        Raises SpoolBusy (429), DiskFull or SpoolError (503); then none of the
        new rows is acknowledged (and their messageIds are forgotten, so a retry
        is accepted)."""
        waits: list[asyncio.Future[None]] = []
        ids: list[str] = []
        lines: list[bytes] = []
        batch_ids: set[str] = set()
        for row in rows:
            message_id = str(row["message_id"])
            if message_id in batch_ids:
                self.stats.duplicates += 1
                continue
            if message_id in self._seen:
                pending = self._seen[message_id]
                if pending is not None:
                    waits.append(pending)
                self.stats.duplicates += 1
                continue
            batch_ids.add(message_id)
            ids.append(message_id)
            lines.append(encode_row(row))
        if lines:
            data = b"".join(lines)
            if self.disk_full():
                raise DiskFull("the spool's disk is full")
            pending_bytes = self.stats.pending_bytes
            if pending_bytes > 0 and pending_bytes + len(data) > self.max_pending_bytes:
                raise SpoolBusy(f"{pending_bytes} bytes are waiting for the disk")
            loop = asyncio.get_running_loop()
            future: asyncio.Future[None] = loop.create_future()
            for message_id in ids:
                self._seen[message_id] = future
            self.stats.pending_bytes += len(data)
            self._queue.put(_Pending(data, ids, future, loop))
            waits.append(future)
        for wait in waits:
            # A duplicate whose first copy failed is not acknowledged either.
            await asyncio.shield(wait)
        return len(ids)

    def _complete(self, items: list[_Pending], error: Exception | None) -> None:
        for item in items:
            self.stats.pending_bytes -= len(item.data)
            if error is None:
                for message_id in item.ids:
                    self._seen[message_id] = None
                item.future.set_result(None)
            else:
                for message_id in item.ids:
                    self._seen.pop(message_id, None)
                item.future.set_exception(error)
                # Nobody may be waiting any more (the client went away).
                item.future.exception()
        if error is None:
            while len(self._seen) > self.dedupe_capacity:
                oldest, pending = next(iter(self._seen.items()))
                if pending is not None:
                    break
                del self._seen[oldest]

    # -- the writer thread ------------------------------------------------

    def _run(self) -> None:
        stopping = False
        while not stopping:
            timeout = max(0.0, self._opened_at + self.roll_seconds - time.monotonic())
            try:
                first = self._queue.get(timeout=timeout if self._size else None)
            except queue.Empty:
                self._roll_active()
                continue
            items: list[_Pending] = []
            for item in self._drain(first):
                if item is _STOP:
                    stopping = True
                else:
                    assert isinstance(item, _Pending)
                    items.append(item)
            if items:
                self._commit(items)
            if self._size >= self.roll_bytes or (
                self._size and time.monotonic() - self._opened_at >= self.roll_seconds
            ):
                self._roll_active()
        self._roll_active(reopen=False)

    def _drain(self, first: object) -> list[object]:
        items = [first]
        with contextlib.suppress(queue.Empty):
            while True:
                items.append(self._queue.get_nowait())
        return items

    def _commit(self, items: list[_Pending]) -> None:
        data = b"".join(item.data for item in items)
        error: Exception | None = None
        try:
            if self.min_free_bytes and self._free_bytes() < self.min_free_bytes + len(data):
                raise OSError(errno.ENOSPC, "below CDP_COLLECT_MIN_FREE_BYTES")
            _write_all(self._fd, data)
            os.fdatasync(self._fd)
        except OSError as exc:
            error = self._undo_write(exc)
        else:
            self._size += len(data)
            self.stats.bytes_written += len(data)
            self.stats.events_written += sum(len(item.ids) for item in items)
            self.stats.syncs += 1
        by_loop: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
        for item in items:
            by_loop.setdefault(item.loop, []).append(item)
        for loop, group in by_loop.items():
            with contextlib.suppress(RuntimeError):  # the loop closed
                loop.call_soon_threadsafe(self._complete, group, error)

    def _undo_write(self, exc: OSError) -> Exception:
        """Cut the segment back to its last synced size: a failed group leaves
        no partial line behind."""
        try:
            os.ftruncate(self._fd, self._size)
            os.lseek(self._fd, self._size, os.SEEK_SET)
            os.fsync(self._fd)
        except OSError:
            log.exception("cannot cut the spool segment back after a failed write")
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            self._disk_full_until = time.monotonic() + 0.1
            log.warning("spool disk full: answering 503 until space is free")
            return DiskFull("the spool's disk is full")
        log.error("spool write failed: %s", exc)
        return SpoolError(f"the spool cannot be written: {exc.strerror}")

    def _free_bytes(self) -> int:
        try:
            return shutil.disk_usage(self.spool_dir).free
        except OSError:
            return 0

    # -- segments -----------------------------------------------------------

    def _segment_path(self, seq: int) -> Path:
        return self.spool_dir / f"{seq:012d}{SEGMENT_SUFFIX}"

    @staticmethod
    def _segment_seq(path: Path) -> int:
        try:
            return int(path.name.split(".")[0])
        except ValueError:
            return 0

    def _landed_name(self, segment: Path) -> str:
        return f"{LANDED_PREFIX}{self._spool_id}-{segment.name}"

    def _last_landed_seq(self) -> int:
        prefix = f"{LANDED_PREFIX}{self._spool_id}-"
        seqs = [
            self._segment_seq(Path(p.name[len(prefix) :]))
            for p in self.landing_dir.glob(f"{prefix}*{SEGMENT_SUFFIX}")
        ]
        return max(seqs, default=0)

    def _read_spool_id(self) -> str:
        path = self.spool_dir / "spool_id"
        if path.exists():
            return path.read_text().strip()
        spool_id = uuid.uuid4().hex[:12]
        tmp = path.with_name(".spool_id.tmp")
        tmp.write_text(spool_id)
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        _fsync_dir(self.spool_dir)
        return spool_id

    def _open_segment(self) -> None:
        path = self._segment_path(self._seq)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        _fsync_dir(self.spool_dir)
        self._size = 0
        self._opened_at = time.monotonic()

    def _roll_active(self, reopen: bool = True) -> None:
        path = self._segment_path(self._seq)
        os.fsync(self._fd)
        os.close(self._fd)
        self._sealed.append(path)
        self._sealed = [p for p in self._sealed if not self._roll_file(p)]
        if reopen:
            self._seq += 1
            self._open_segment()

    def _roll_file(self, segment: Path) -> bool:
        """Move a closed segment into landing; False (kept for later) on failure."""
        try:
            if segment.stat().st_size == 0:
                segment.unlink()
                return True
            target = self.landing_dir / self._landed_name(segment)
            try:
                os.replace(segment, target)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                tmp = self.landing_dir / f".{target.name}.tmp"
                shutil.copyfile(segment, tmp)
                with tmp.open("rb+") as handle:
                    os.fsync(handle.fileno())
                os.replace(tmp, target)
                _fsync_dir(self.landing_dir)
                segment.unlink()
            _fsync_dir(self.landing_dir)
            _fsync_dir(self.spool_dir)
        except OSError as exc:
            log.warning("cannot roll %s into landing yet: %s", segment.name, exc)
            return False
        self.stats.segments_rolled += 1
        return True

    # -- recovery -------------------------------------------------------------

    def _recover_segment(self, segment: Path) -> list[str]:
        """Cut a leftover segment after its last newline; its messageIds."""
        data = segment.read_bytes()
        end = data.rfind(b"\n") + 1
        if end < len(data):
            log.warning(
                "spool %s: dropping a torn last line of %d bytes", segment.name, len(data) - end
            )
            with segment.open("rb+") as handle:
                handle.truncate(end)
                os.fsync(handle.fileno())
        return [mid for line in data[:end].splitlines() if (mid := _message_id(line))]

    def _load_landed_ids(self) -> None:
        """The newest landed messageIds, up to the de-duplication capacity."""
        files = sorted(
            self.landing_dir.glob(f"{LANDED_PREFIX}*{SEGMENT_SUFFIX}"),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        chunks: list[list[str]] = []
        count = 0
        for path in files:
            if count >= self.dedupe_capacity:
                break
            ids = [mid for line in path.read_bytes().splitlines() if (mid := _message_id(line))]
            chunks.append(ids)
            count += len(ids)
        for ids in reversed(chunks):
            self._remember(ids)

    def _remember(self, ids: list[str]) -> None:
        for message_id in ids:
            self._seen[message_id] = None
            self._seen.move_to_end(message_id)
        while len(self._seen) > self.dedupe_capacity:
            self._seen.popitem(last=False)
