"""The serving store on Redis, for several API nodes (CDP_STORE_BACKEND=redis).

Keys of one generation share a prefix `cdp:g:<n>:`; the pointer `cdp:current`
names the generation readers use. A full refresh writes a new generation,
then sets the pointer last (one SET: the switch is atomic) and drops the old
generation. An incremental refresh rewrites the changed customers inside the
current generation in one MULTI/EXEC with its build id. Every read is one
MULTI/EXEC over the generation the pointer named, re-checking the pointer in
the same transaction (a switch in between: read again), so a reader never
sees two builds mixed. Redis down: StoreUnavailable; the client reconnects
by itself when it is back. The overlay (`cdp:overlay:<type>:<value>`) spans
generations.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import redis

from cdp.serve.store.extract import StoreRows, dumps, normalise
from cdp.serve.store.protocol import (
    Event,
    Explain,
    Identifier,
    Profile,
    ProfileSummary,
    SegmentChange,
    StoreUnavailable,
)
from cdp.serve.store.sqlite import _event, _explain, _profile_fields, _summary, profile_doc

POINTER = "cdp:current"
OVERLAY = "cdp:overlay:"
USER_ID_TYPES = ("user_id", "shop_customer_id", "crm_contact_id")


class RedisStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.r = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)

    def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except redis.RedisError as exc:
            raise StoreUnavailable(f"serving store {self.url}: {exc}") from None

    def _gen(self) -> str | None:
        raw = self._call(self.r.get, POINTER)
        return None if raw is None else raw.decode()

    def _read(self, build: Any) -> tuple[str | None, list[Any]]:
        """Run `build(pipe, prefix)` in one MULTI/EXEC on the current generation."""
        for _ in range(5):
            gen = self._gen()
            if gen is None:
                return None, []
            pipe = self.r.pipeline(transaction=True)
            pipe.get(POINTER)
            pipe.get(f"{gen}build")
            build(pipe, gen)
            out = self._call(pipe.execute)
            if out[0] is not None and out[0].decode() == gen:
                return (out[1].decode() if out[1] else None), out[2:]
        raise StoreUnavailable("serving store: generation switched during five reads in a row")

    # --- read API ------------------------------------------------------------

    def build_id(self) -> str | None:
        return self._read(lambda p, g: None)[0]

    def held_build(self) -> str | None:
        try:
            return self.build_id()
        except StoreUnavailable:
            return None

    def resolve(self, id_type: str, value: str) -> str | None:
        found = self.holders(id_type, value)
        return found[0] if found else None

    def holders(self, id_type: str, value: str) -> list[str]:
        if id_type == "customer_id":
            _, out = self._read(lambda p, g: p.exists(f"{g}p:{value.strip()}"))
            return [value.strip()] if out and out[0] else []
        if id_type == "any":
            keys = [("any", v) for v in {value.strip(), normalise("email", value)}]
            keys.append(("any", normalise("phone", value)))
        else:
            kinds = USER_ID_TYPES if id_type == "user_id" else (id_type,)
            keys = [(k, normalise(id_type, value)) for k in kinds]

        def build(p: Any, g: str) -> None:
            for kind, v in keys:
                p.smembers(f"{g}id:{kind}:{v}")
                p.get(f"{OVERLAY}{kind}:{v}")

        _, out = self._read(build)
        found: list[str] = []
        for item in out:
            values = item if isinstance(item, set) else ({item} if item else set())
            found += sorted(v.decode() for v in values if v.decode() not in found)
        return found

    def profile(self, customer_id: str) -> Profile | None:
        def build(p: Any, g: str) -> None:
            p.get(f"{g}p:{customer_id}")
            p.lrange(f"{g}ev:{customer_id}", 0, 9)
            p.smembers(f"{OVERLAY}of:{customer_id}")

        build_id, out = self._read(build)
        if not out or out[0] is None or build_id is None:
            return None
        doc = json.loads(out[0])
        ids = [Identifier(t, v, s) for t, v, s in doc["identifiers"]]
        for member in sorted(out[2]):
            kind, value = member.decode().split("\0", 1)
            ids.append(Identifier(kind, value, None))
        return profile_doc(customer_id, build_id, doc, ids, [_event(json.loads(e)) for e in out[1]])

    def events(
        self, customer_id: str, limit: int, cursor: str | None = None
    ) -> tuple[list[Event], str | None]:
        start = int(cursor) if cursor and cursor.isdigit() else 0
        _, out = self._read(lambda p, g: p.lrange(f"{g}ev:{customer_id}", start, start + limit))
        rows = out[0] if out else []
        more = str(start + limit) if len(rows) > limit else None
        return [_event(json.loads(e)) for e in rows[:limit]], more

    def search(self, text: str, limit: int = 20) -> list[ProfileSummary]:
        needle = text.strip().lower()
        gen = self._gen()
        if not needle or gen is None:
            return []
        pattern = "*" + "".join(f"\\{c}" if c in "*?[]\\" else c for c in needle) + "*"
        ids: list[str] = []
        for member, _ in self._call(
            lambda: list(self.r.zscan_iter(f"{gen}search", match=pattern, count=1000))
        ):
            ids.append(member.decode().rsplit("\0", 1)[1])
        out = []
        for cid in sorted(ids)[:limit]:
            raw = self._call(self.r.get, f"{gen}p:{cid}")
            if raw is not None:
                out.append(_summary(cid, json.loads(raw)["traits"]))
        return out

    def explain(self, customer_id: str) -> Explain | None:
        build_id, out = self._read(lambda p, g: p.get(f"{g}x:{customer_id}"))
        if not out or out[0] is None or build_id is None:
            return None
        return _explain(customer_id, build_id, json.loads(out[0]))

    def segment_history(self, customer_id: str) -> list[SegmentChange]:
        _, out = self._read(lambda p, g: p.get(f"{g}p:{customer_id}"))
        if not out or out[0] is None:
            return []
        changes = json.loads(out[0])["segment_changes"]
        return [SegmentChange(s, c, at) for s, c, at in sorted(changes, key=lambda x: x[2])]

    # --- writes ----------------------------------------------------------------

    def _put(self, pipe: Any, g: str, r: StoreRows) -> None:
        doc = _doc(r)
        pipe.set(f"{g}p:{r.customer_id}", dumps(doc))
        pipe.set(f"{g}x:{r.customer_id}", dumps({"records": r.records, "links": r.links}))
        if r.events:
            pipe.rpush(f"{g}ev:{r.customer_id}", *[dumps(e) for e in r.events])
        for t, v, _ in r.identifiers:
            pipe.sadd(f"{g}id:{t}:{v}", r.customer_id)
            pipe.sadd(f"{g}id:any:{v}", r.customer_id)
        pipe.zadd(f"{g}search", {f"{r.search_text()}\0{r.customer_id}": 0})

    def _drop(self, pipe: Any, g: str, cid: str, doc: dict[str, Any] | None) -> None:
        pipe.delete(f"{g}p:{cid}", f"{g}x:{cid}", f"{g}ev:{cid}")
        if doc is not None:
            for t, v, _ in doc["identifiers"]:
                pipe.srem(f"{g}id:{t}:{v}", cid)
                pipe.srem(f"{g}id:any:{v}", cid)
            pipe.zrem(f"{g}search", f"{doc['search_text']}\0{cid}")

    def write_build(
        self, build_id: str, rows: Iterable[StoreRows], replace: Iterable[str] | None
    ) -> int:
        written = 0
        old = self._gen()
        if replace is None or old is None:
            counter = self._call(self.r.incr, "cdp:generations")
            gen = f"cdp:g:{counter}:"
            pipe = self.r.pipeline(transaction=False)
            for r in rows:
                self._put(pipe, gen, r)
                written += 1
                if written % 1000 == 0:
                    self._call(pipe.execute)
            pipe.set(f"{gen}build", build_id)
            self._call(pipe.execute)
            self._call(self.r.set, POINTER, gen)  # the switch
            if old is not None:
                self._drop_generation(old)
            return written
        replace = list(set(replace))
        docs = self._call(self.r.mget, [f"{old}p:{c}" for c in replace]) if replace else []
        pipe = self.r.pipeline(transaction=True)
        for cid, raw in zip(replace, docs, strict=True):
            self._drop(pipe, old, cid, json.loads(raw) if raw else None)
        for r in rows:
            self._put(pipe, old, r)
            written += 1
        pipe.set(f"{old}build", build_id)
        self._call(pipe.execute)
        return written

    def _drop_generation(self, gen: str) -> None:
        batch: list[bytes] = []
        for key in self._call(lambda: list(self.r.scan_iter(match=f"{gen}*", count=5000))):
            batch.append(key)
            if len(batch) >= 5000:
                self._call(self.r.unlink, *batch)
                batch = []
        if batch:
            self._call(self.r.unlink, *batch)

    def erase(self, customer_ids: Iterable[str]) -> int:
        ids = list(set(customer_ids))
        gen = self._gen()
        if not ids or gen is None:
            return 0
        docs = self._call(self.r.mget, [f"{gen}p:{c}" for c in ids])
        pipe = self.r.pipeline(transaction=True)
        for cid, raw in zip(ids, docs, strict=True):
            self._drop(pipe, gen, cid, json.loads(raw) if raw else None)
            for m in self._call(self.r.smembers, f"{OVERLAY}of:{cid}"):
                pipe.delete(f"{OVERLAY}{m.decode().replace(chr(0), ':', 1)}")
            pipe.delete(f"{OVERLAY}of:{cid}")
        self._call(pipe.execute)
        return sum(1 for d in docs if d)

    def overlay(self, customer_id: str, identifiers: Iterable[tuple[str, str]]) -> None:
        pipe = self.r.pipeline(transaction=True)
        for t, v in identifiers:
            if v:
                value = normalise(t, v)
                pipe.set(f"{OVERLAY}{t}:{value}", customer_id)
                pipe.set(f"{OVERLAY}any:{value}", customer_id)
                pipe.sadd(f"{OVERLAY}of:{customer_id}", f"{t}\0{value}")
        self._call(pipe.execute)


def _doc(r: StoreRows) -> dict[str, Any]:
    return {
        **_profile_fields(r),
        "identifiers": r.identifiers,
        "segment_changes": r.segment_changes,
        "search_text": r.search_text(),
    }


__all__ = ["RedisStore"]
