"""Request-log cost analysis (the seed's CostAnalyzer), streaming: memory stays flat however long the log.

Inputs: JSONL (.jsonl/.ndjson/.json, optionally .gz), CSV (.csv, optionally .gz), or the gateway's SQLite
ledger (.db/.sqlite/.sqlite3, table ``ledger``). Recognised columns (aliases in ``FIELD_ALIASES``):
ts, model, tenant, prompt_tokens|input_tokens, completion_tokens|output_tokens, cached (bool: answered from the
gateway's response cache) and/or cached_tokens (prompt-cache tokens), cost_usd (optional: re-priced from the
pricing table when missing), latency_ms, prompt (optional), batch (optional bool), task_class (optional: for the
routing-table what-if). OpenAI-style nested ``usage`` objects are read too.

A row that cannot be used (bad JSON, missing/negative/absurd numbers, unknown model without a logged cost) is
counted under its reason with its line number; it never stops the run and is never dropped silently.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import heapq
import io
import json
import math
import sqlite3
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from costlab.cost.pricing import ApiPrice, Pricing, _read_routing
from costlab.errors import CostlabError

FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "ts": ("ts", "timestamp", "time", "created_at", "created"),
    "model": ("model", "model_name", "served_model", "upstream_model"),
    "tenant": ("tenant", "user", "team", "api_key_name", "customer"),
    "input_tokens": ("prompt_tokens", "input_tokens", "tokens_in"),
    "output_tokens": ("completion_tokens", "output_tokens", "tokens_out"),
    "cached_tokens": ("cached_tokens", "cache_read_tokens", "cached_input_tokens"),
    "cached": ("cached", "cache_hit"),
    "cost_usd": ("cost_usd", "cost"),
    "latency_ms": ("latency_ms", "latency"),
    "prompt": ("prompt", "messages", "input"),
    "batch": ("batch",),
    "task_class": ("task_class", "route", "task"),
    "status": ("status",),
}
MAX_TOKENS_PER_ROW = 10_000_000  # more than any context window: a corrupt number
MAX_COST_PER_ROW = 10_000.0  # USD for one request: a unit mistake
MAX_LATENCY_MS = 86_400_000.0
TOP_K = 10
MAX_BAD_EXAMPLES = 20  # line numbers shown per reason (all of them go to --bad-rows-out)
PROMPT_TRACK_CAP = 50_000  # distinct prompt hashes tracked for "repeated prompts"; singletons pruned beyond
# the gateway ledger writes cached = "none" | "exact" | "semantic"
TRUE = {"1", "true", "yes", "y", "t", "hit", "exact", "semantic"}
FALSE = {"0", "false", "no", "n", "f", "miss", "none", ""}


_MISSING = object()


class BadRow(Exception):
    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        self.detail = detail


# ------------------------------------------------------------------------------------------------ readers
def _open_text(path: Path):
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def log_format(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".db", ".sqlite", ".sqlite3")):
        return "sqlite"
    raise CostlabError(f"{path}: unknown log format (extension '{path.suffix}')",
                       "use .jsonl/.ndjson, .csv (optionally .gz) or the gateway ledger .db/.sqlite")


def iter_log(path: str | Path, table: str = "ledger") -> Iterator[tuple[int, Any]]:
    """Yield (line number or rowid, dict | BadRow)."""
    path = Path(path)
    if not path.exists():
        raise CostlabError(f"log file not found: {path}")
    fmt = log_format(path)
    if fmt == "jsonl":
        loads = json.loads
        with _open_text(path) as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = loads(line)
                except ValueError as e:
                    yield n, BadRow("malformed JSON", str(e)[:80])
                    continue
                yield n, row if isinstance(row, dict) else BadRow("not a JSON object")
    elif fmt == "csv":
        with _open_text(path) as f:
            r = csv.DictReader(f)
            if not r.fieldnames:
                return
            for row in r:
                if None in row:  # more cells than headers
                    yield r.line_num, BadRow("too many CSV cells")
                    continue
                yield r.line_num, row
    else:
        try:
            con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        except sqlite3.Error as e:
            raise CostlabError(f"{path}: cannot open as SQLite ({e})") from e
        try:
            tables = [t for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            if table not in tables:
                raise CostlabError(f"{path}: no table '{table}' (tables: {', '.join(tables) or 'none'})",
                                   "pass --table NAME for the ledger table")
            cur = con.execute(f'SELECT rowid AS _rowid, * FROM "{table}"')
            cols = [d[0] for d in cur.description]
            for rec in cur:
                row = dict(zip(cols, rec))
                yield int(row.pop("_rowid")), row
        except sqlite3.DatabaseError as e:
            raise CostlabError(f"{path}: not a readable SQLite database ({e})") from e
        finally:
            con.close()


# ---------------------------------------------------------------------------------------------- field parse
FIELDS = tuple(FIELD_ALIASES)


def _field_map(keys: tuple[str, ...]) -> tuple[str | None, ...]:
    """For rows with these keys: the key each field is read from (first alias present), in FIELDS order."""
    ks = set(keys)
    return tuple(next((a for a in FIELD_ALIASES[f] if a in ks), None) for f in FIELDS)


def _get(row: Mapping[str, Any], field: str) -> Any:
    for k in FIELD_ALIASES[field]:
        v = row.get(k)
        if v is not None and v != "":
            return v
    return None


def _int(v: Any, name: str, required: bool) -> int:
    if v is None or v == "":
        if required:
            raise BadRow(f"missing {name}")
        return 0
    if isinstance(v, bool):
        raise BadRow(f"bad {name}", repr(v))
    if not isinstance(v, int):
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise BadRow(f"bad {name}", repr(v)[:40]) from None
        if not math.isfinite(f) or f != int(f):
            raise BadRow(f"bad {name}", repr(v)[:40])
        v = int(f)
    if v < 0:
        raise BadRow(f"negative {name}", str(v))
    if v > MAX_TOKENS_PER_ROW:
        raise BadRow(f"absurd {name}", str(v))
    return v


def _float(v: Any, name: str, hi: float) -> float | None:
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise BadRow(f"bad {name}", repr(v)[:40]) from None
    if not math.isfinite(f):
        raise BadRow(f"bad {name}", repr(v)[:40])
    if f < 0:
        raise BadRow(f"negative {name}", str(v))
    if f > hi:
        raise BadRow(f"absurd {name}", str(v))
    return f


def _bool(v: Any, name: str) -> bool:
    if v is None or isinstance(v, bool):
        return bool(v)
    if isinstance(v, (int, float)):
        if v in (0, 1):
            return bool(v)
        raise BadRow(f"bad {name}", repr(v))
    s = str(v).strip().lower()
    if s in TRUE:
        return True
    if s in FALSE:
        return False
    raise BadRow(f"bad {name}", repr(v)[:40])


_ts_cache: dict[Any, tuple[str, str]] = {}


def _hour_day(v: Any) -> tuple[str, str]:
    """UTC ('YYYY-MM-DDTHH', 'YYYY-MM-DD') of an ISO-8601 string or a unix time (s or ms)."""
    if v is None:
        return "(no ts)", "(no ts)"
    if isinstance(v, str):
        key = v[:13] if (len(v) >= 19 and (v.endswith("Z") or len(v) in (19, 23, 26))) else v
        hit = _ts_cache.get(key)
        if hit is not None and key is not v:
            return hit
        try:
            s = v[:-1] + "+00:00" if v.endswith("Z") else v
            d = datetime.fromisoformat(s)
        except ValueError:
            try:
                v = float(v)
            except ValueError:
                raise BadRow("unparseable ts", v[:40]) from None
            return _hour_day(v)
        d = d.astimezone(timezone.utc) if d.tzinfo else d
        h = d.strftime("%Y-%m-%dT%H")
        out = (h, h[:10])
        if key is not v:
            if len(_ts_cache) > 100_000:
                _ts_cache.clear()
            _ts_cache[key] = out
        return out
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        raise BadRow("unparseable ts", repr(v)[:40])
    secs = v / 1000.0 if v > 1e11 else float(v)
    try:
        h = datetime.fromtimestamp(secs, timezone.utc).strftime("%Y-%m-%dT%H")
    except (OverflowError, OSError, ValueError):
        raise BadRow("unparseable ts", repr(v)[:40]) from None
    return h, h[:10]


def _prompt_text(p: Any) -> str:
    if p is None:
        return ""
    if isinstance(p, str):
        if p[:1] == "[":  # a JSON-encoded messages list (CSV / SQLite columns)
            try:
                return _prompt_text(json.loads(p))
            except ValueError:
                return p
        return p
    if isinstance(p, list):
        return "\n".join(f"{m.get('role', '?')}: {m.get('content', '')}" if isinstance(m, dict) else str(m)
                         for m in p)
    return str(p)


# ---------------------------------------------------------------------------------------------- aggregator
def _new_bucket() -> list[float]:
    # requests, input, output, cached_tokens, cost, latency_sum, latency_n, cache_hits, saved
    return [0, 0, 0, 0, 0.0, 0.0, 0, 0, 0.0]


def _bucket_dict(b: list[float]) -> dict[str, Any]:
    n = b[0]
    return {"requests": int(n), "input_tokens": int(b[1]), "output_tokens": int(b[2]), "cached_tokens": int(b[3]),
            "cost_usd": b[4], "usd_per_request": b[4] / n if n else None,
            "latency_ms_mean": b[5] / b[6] if b[6] else None, "cache_hits": int(b[7]),
            "cache_hit_rate": b[7] / n if n else None, "cache_savings_usd": b[8]}


class CostAnalyzer:
    """Feed rows with ``add``; read the report with ``report``. Pure aggregation, O(distinct keys) memory."""

    def __init__(self, pricing: Pricing, whatif_models: Sequence[str] = (), routing: Any = None,
                 routing_priority: str = "cost", default_task_class: str | None = None, top_k: int = TOP_K,
                 bad_rows_out: Any = None):
        self.pricing = pricing
        self.whatif_models = [pricing.api_price(m).name for m in whatif_models]  # unknown → error up front
        self.routing = _read_routing(routing) if routing is not None else None
        self.routing_priority = routing_priority
        self.default_task_class = default_task_class
        if self.routing is not None:
            bad = [f"{t}.{routing_priority}" for t, r in self.routing["routes"].items() if routing_priority not in r]
            if bad:
                raise CostlabError(f"routing table has no '{routing_priority}' route for {bad}",
                                   "use --priority cost|quality|speed")
        self.top_k = top_k
        self.rows_seen = 0
        self.total = _new_bucket()
        self.by_model: dict[str, list[float]] = {}
        self.by_tenant: dict[str, list[float]] = {}
        self.by_hour: dict[str, list[float]] = {}
        self.by_day: dict[str, list[float]] = {}
        # token sums over rows that reached an upstream (not response-cache hits), for linear re-pricing
        self.billable = [0, 0, 0, 0, 0.0]  # input, output, cached_tokens, batch_in+out marker unused, cost
        self.billable_by_task: dict[str, list[float]] = {}
        self.unpriced_models: Counter[str] = Counter()
        self.cost_sources: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self._sigmap: dict[tuple[str, ...], tuple[str | None, ...]] = {}
        self._price_cache: dict[str, Any] = {}
        self._key_cache: dict[str, str | None] = {}
        self.cache_kinds: Counter[str] = Counter()
        self.top: list[tuple[float, int, dict]] = []
        self.prompts: dict[bytes, list[Any]] = {}
        self.prompt_prunes = 0
        self.bad: Counter[str] = Counter()
        self.bad_examples: dict[str, list[str]] = {}
        self.bad_rows_out = bad_rows_out

    # ---- per-row
    def bad_row(self, where: str, reason: str, detail: str = "") -> None:
        self.rows_seen += 1
        self.bad[reason] += 1
        ex = self.bad_examples.setdefault(reason, [])
        if len(ex) < MAX_BAD_EXAMPLES:
            ex.append(f"{where}" + (f" ({detail})" if detail else ""))
        if self.bad_rows_out is not None:
            self.bad_rows_out.write(json.dumps({"line": where, "reason": reason, "detail": detail}) + "\n")

    def add(self, row: Mapping[str, Any], where: str = "?") -> None:
        try:
            self._add(row, where)
        except BadRow as e:
            self.bad_row(where, e.reason, e.detail)

    def _add(self, row: Mapping[str, Any], where: str) -> None:
        sig = tuple(row)
        fm = self._sigmap.get(sig)
        if fm is None:
            if len(self._sigmap) > 10_000:
                self._sigmap.clear()
            fm = self._sigmap[sig] = _field_map(sig)
        g = row.get  # g(None) is None: a field with no column reads as missing
        (k_ts, k_model, k_tenant, k_in, k_out, k_ctok, k_cached, k_cost, k_lat, k_prompt, k_batch, k_task,
         k_status) = fm
        model = g(k_model)
        if model is None or model == "":
            raise BadRow("missing model")
        model = str(model)
        usage = g("usage")
        if isinstance(usage, dict):  # OpenAI response style
            tin = _int(_get(usage, "input_tokens"), "input tokens", True)
            tout = _int(_get(usage, "output_tokens"), "output tokens", True)
            ctok = _get(usage, "cached_tokens")
            if ctok is None and isinstance(usage.get("prompt_tokens_details"), dict):
                ctok = usage["prompt_tokens_details"].get("cached_tokens")
        else:
            tin = _int(g(k_in), "input tokens", True)
            tout = _int(g(k_out), "output tokens", True)
            ctok = g(k_ctok)
        ctok = _int(ctok, "cached tokens", False) if ctok else 0
        if ctok > tin:
            raise BadRow("cached tokens > input tokens", f"{ctok} > {tin}")
        cached_raw = g(k_cached)
        hit = cached_raw if cached_raw is True or cached_raw is False else _bool(cached_raw, "cached")
        batch = g(k_batch)
        batch = batch if batch is True or batch is False else _bool(batch, "batch")
        logged = _float(g(k_cost), "cost_usd", MAX_COST_PER_ROW)
        lat = _float(g(k_lat), "latency_ms", MAX_LATENCY_MS)
        hour = _hour_day(g(k_ts))[0]
        price = self._price_cache.get(model, _MISSING)
        if price is _MISSING:
            key = self.pricing.resolve(model)
            price = self.pricing.api.get(key) if key else None
            self._price_cache[model] = price
            self._key_cache[model] = key
        # what this request costs (or would have cost without the response cache) at list price
        list_cost = None
        if price is not None:
            if batch and price.batch_discount is None:
                raise BadRow("batch row on a model without Batch API price", model)
            list_cost = price.cost(tin, tout, ctok, batch=batch)
        if logged is not None:
            cost = logged
            self.cost_sources["logged"] += 1
        elif price is None:
            if self._key_cache[model] is not None:  # self-hosted: no per-token list price
                raise BadRow("self-hosted model without cost_usd", model)
            near = self.pricing._unknown(model, self.pricing.api, "API").what.split("(", 1)[-1].rstrip(")")
            raise BadRow("unknown model without cost_usd", f"{model}; {near}")
        else:
            cost = 0.0 if hit else list_cost
            self.cost_sources["repriced"] += 1
        if price is None:
            self.unpriced_models[model] += 1
        saved = 0.0
        if hit:
            saved = list_cost if list_cost is not None else 0.0
        elif ctok and price is not None and price.cached_input is not None:
            saved = ctok * (price.input - price.cached_input) / 1e6 * (1 - (price.batch_discount or 0) * batch)
        tenant = g(k_tenant)
        tenant = "(none)" if tenant is None or tenant == "" else str(tenant)
        # ---- aggregate (total and by-day are sums of these at report time)
        self.rows_seen += 1
        if k_status is not None:
            st = g(k_status)
            if st is not None:
                self.statuses[str(st)] += 1
        if hit:
            self.cache_kinds[cached_raw if isinstance(cached_raw, str) and cached_raw.lower() in
                             ("exact", "semantic") else "hit"] += 1
        lat_n = 0 if lat is None else 1
        lat = lat or 0.0
        b = self.by_model.get(model)
        if b is None:
            b = self.by_model[model] = _new_bucket()
        b[0] += 1; b[1] += tin; b[2] += tout; b[3] += ctok; b[4] += cost  # noqa: E702
        b[5] += lat; b[6] += lat_n; b[7] += hit; b[8] += saved  # noqa: E702
        b = self.by_tenant.get(tenant)
        if b is None:
            b = self.by_tenant[tenant] = _new_bucket()
        b[0] += 1; b[1] += tin; b[2] += tout; b[3] += ctok; b[4] += cost  # noqa: E702
        b[5] += lat; b[6] += lat_n; b[7] += hit; b[8] += saved  # noqa: E702
        b = self.by_hour.get(hour)
        if b is None:
            b = self.by_hour[hour] = _new_bucket()
        b[0] += 1; b[1] += tin; b[2] += tout; b[3] += ctok; b[4] += cost  # noqa: E702
        b[5] += lat; b[6] += lat_n; b[7] += hit; b[8] += saved  # noqa: E702
        if not hit:
            bl = self.billable
            bl[0] += tin
            bl[1] += tout
            bl[2] += ctok
            bl[4] += cost
            if self.routing is not None:
                tc = g(k_task) or self.default_task_class or "(unrouted)"
                tb = self.billable_by_task.get(tc)
                if tb is None:
                    tb = self.billable_by_task[tc] = [0, 0, 0, 0, 0.0]
                tb[0] += tin
                tb[1] += tout
                tb[2] += ctok
                tb[4] += cost
        prompt = g(k_prompt)
        if self.top_k and (len(self.top) < self.top_k or cost > self.top[0][0]):
            item = (cost, self.rows_seen, {"line": where, "model": model, "tenant": tenant, "cost_usd": cost,
                                           "input_tokens": tin, "output_tokens": tout,
                                           "prompt": _prompt_text(prompt)[:200]})
            if len(self.top) < self.top_k:
                heapq.heappush(self.top, item)
            else:
                heapq.heapreplace(self.top, item)
        if prompt is not None:
            text = prompt if isinstance(prompt, str) and prompt[:1] != "[" else _prompt_text(prompt)
            h = hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=8).digest()
            e = self.prompts.get(h)
            if e is None:
                if len(self.prompts) >= PROMPT_TRACK_CAP:
                    self.prompts = {k: v for k, v in self.prompts.items() if v[0] > 1}
                    self.prompt_prunes += 1
                    if len(self.prompts) >= PROMPT_TRACK_CAP:  # all repeated: keep the heaviest half
                        keep = sorted(self.prompts.items(), key=lambda kv: -kv[1][1])[: PROMPT_TRACK_CAP // 2]
                        self.prompts = dict(keep)
                self.prompts[h] = [1, cost, text[:200]]
            else:
                e[0] += 1
                e[1] += cost

    # ---- report
    def _reprice(self, price: ApiPrice, tin: float, tout: float, ctok: float) -> float:
        return price.cost(tin, tout, ctok)

    def whatif(self) -> list[dict[str, Any]]:
        tin, tout, ctok, _, actual = self.billable
        out = []
        for m in self.whatif_models:
            p = self.pricing.api[m]
            usd = self._reprice(p, tin, tout, ctok)
            out.append({"scenario": f"all traffic on {m}", "model": m, "cost_usd": usd, "actual_cost_usd": actual,
                        "delta_usd": usd - actual, "delta_pct": (usd - actual) / actual * 100 if actual else None,
                        "note": "same tokens (response-cache hits excluded); prompt-cache share kept"
                        + ("" if p.cached_input is not None else "; this model has no prompt caching")})
        if self.routing is not None:
            routes, models = self.routing["routes"], self.routing.get("models") or {}
            usd = 0.0
            per_task = []
            unrouted = 0.0
            for tc, b in sorted(self.billable_by_task.items()):
                r = routes.get(tc)
                if r is None:
                    usd += b[4]
                    unrouted += b[4]
                    per_task.append({"task_class": tc, "model": None, "cost_usd": b[4], "actual_cost_usd": b[4],
                                     "note": "no route for this class: kept at actual cost"})
                    continue
                m = r[self.routing_priority]["model"]
                if m in models and models[m].get("usd_per_1m_in") is not None:
                    c = (b[0] * float(models[m]["usd_per_1m_in"]) + b[1] * float(models[m]["usd_per_1m_out"])) / 1e6
                else:
                    c = self._reprice(self.pricing.api_price(m), b[0], b[1], b[2])
                usd += c
                per_task.append({"task_class": tc, "model": m, "cost_usd": c, "actual_cost_usd": b[4]})
            actual = self.billable[4]
            out.append({"scenario": f"routing table ({self.routing_priority})", "model": None, "cost_usd": usd,
                        "actual_cost_usd": actual, "delta_usd": usd - actual,
                        "delta_pct": (usd - actual) / actual * 100 if actual else None,
                        "per_task_class": per_task, "unrouted_cost_usd": unrouted})
        return out

    def report(self) -> dict[str, Any]:
        self.total = _new_bucket()
        self.by_day = {}
        for h, b in self.by_hour.items():
            d = self.by_day.setdefault(h[:10], _new_bucket())
            for i, v in enumerate(b):
                d[i] += v
                self.total[i] += v
        good = int(self.total[0])
        tot = _bucket_dict(self.total)
        repeated = sorted(([v[0], v[1], v[2]] for v in self.prompts.values() if v[0] > 1), key=lambda x: -x[1])
        return {
            "rows": self.rows_seen, "rows_ok": good, "rows_bad": int(sum(self.bad.values())),
            "bad_rows": {r: {"count": n, "examples": self.bad_examples.get(r, [])} for r, n in self.bad.most_common()},
            "total": tot,
            "cost_sources": dict(self.cost_sources),
            "status": dict(self.statuses),
            "unpriced_models": dict(self.unpriced_models),
            "by_model": {k: _bucket_dict(v) for k, v in sorted(self.by_model.items(), key=lambda kv: -kv[1][4])},
            "by_tenant": {k: _bucket_dict(v) for k, v in sorted(self.by_tenant.items(), key=lambda kv: -kv[1][4])},
            "by_day": {k: _bucket_dict(v) for k, v in sorted(self.by_day.items())},
            "by_hour": {k: _bucket_dict(v) for k, v in sorted(self.by_hour.items())},
            "top_requests": [x[2] for x in sorted(self.top, key=lambda x: (-x[0], x[1]))],
            "repeated_prompts": [{"count": c, "cost_usd": usd, "prompt": p} for c, usd, p in repeated[: self.top_k]],
            "repeated_prompts_note": None if not self.prompt_prunes else
            f"approximate: more than {PROMPT_TRACK_CAP} distinct prompts, one-off prompts pruned "
            f"{self.prompt_prunes} time(s), so counts are lower bounds",
            "cache": {"hits": tot["cache_hits"], "hit_rate": tot["cache_hit_rate"], "by_kind": dict(self.cache_kinds),
                      "savings_usd": tot["cache_savings_usd"],
                      "cached_prompt_tokens": tot["cached_tokens"],
                      "cached_prompt_token_share": tot["cached_tokens"] / tot["input_tokens"]
                      if tot["input_tokens"] else None},
            "whatif": self.whatif(),
            "pricing": self.pricing.origin,
        }


def analyze_logs(paths: Sequence[str | Path], pricing: Pricing, *, whatif_models: Sequence[str] = (),
                 routing: Any = None, routing_priority: str = "cost", default_task_class: str | None = None,
                 top_k: int = TOP_K, table: str = "ledger", bad_rows_out: str | Path | None = None,
                 progress: bool = False) -> dict[str, Any]:
    """Stream every log in ``paths`` through one CostAnalyzer and return its report."""
    if not paths:
        raise CostlabError("no log files given", "costlab analyze LOG [LOG ...]")
    fh = open(bad_rows_out, "w", encoding="utf-8") if bad_rows_out else None
    try:
        an = CostAnalyzer(pricing, whatif_models, routing, routing_priority, default_task_class, top_k, fh)
        for p in paths:
            p = Path(p)
            bar = None
            if progress:
                from tqdm import tqdm

                bar = tqdm(desc=p.name, unit=" rows", mininterval=1.0, unit_scale=True)
            add, bad = an.add, an.bad_row
            name = p.name
            for n, row in iter_log(p, table):
                where = f"{name}:{n}"
                if isinstance(row, BadRow):
                    bad(where, row.reason, row.detail)
                else:
                    add(row, where)
                if bar is not None and not n % 50_000:
                    bar.update(50_000)
            if bar is not None:
                bar.close()
    finally:
        if fh:
            fh.close()
    rep = an.report()
    rep["files"] = [str(p) for p in paths]
    if rep["rows"] == 0:
        raise CostlabError(f"empty log: no rows in {', '.join(map(str, paths))}",
                           "point costlab analyze at a log with requests")
    if rep["rows_ok"] == 0:
        reasons = "; ".join(f"{r}: {v['count']} (e.g. {', '.join(v['examples'][:3])})"
                            for r, v in rep["bad_rows"].items())
        raise CostlabError(f"no usable rows: all {rep['rows']} rows were bad — {reasons}",
                           "fix the columns (see docs/cost-tooling.md) or the pricing table")
    return rep
