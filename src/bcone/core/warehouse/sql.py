"""SQL text shared by the engines: ``$name`` parameters, the read-only rule, tenant scoping.

Analytics SQL is written once with ``$name`` parameters (DuckDB's own syntax); the ClickHouse
engine rewrites each to ``{name:Type}``. A small scanner keeps string literals, quoted identifiers
and comments out of every rewrite and check, so ``'$5 off'`` or ``-- drop`` never count as code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

from bcone.core.warehouse.port import EVENTS_TABLE, Params, ReadOnlyQueryRequired, WarehouseQueryFailed

TokenKind = Literal["code", "quoted", "comment", "param"]

TENANT_VIEW = "tenant_events"
TENANT_PARAM = "tenant_id"
# Derived tables: ``summary_<name>`` holds every tenant's rows (a ``tenant_id`` column first);
# a read statement names one tenant's rows ``tenant_summary_<name>``.
SUMMARY_PREFIX = "summary_"
TENANT_SUMMARY_PREFIX = "tenant_summary_"
SUMMARY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_TENANT_SUMMARY = re.compile(r"\btenant_summary_([a-z][a-z0-9_]{0,47})\b")
_COLUMN_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

# A read statement starts with one of these (DESC is DESCRIBE's short form).
READ_STATEMENTS = frozenset({"SELECT", "WITH", "DESCRIBE", "DESC", "SHOW"})
# Words that turn a read into a write when they appear as code anywhere in the statement:
# ``WITH ... INSERT`` (DuckDB), ``SELECT ... INTO OUTFILE`` (ClickHouse).
WRITE_WORDS = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE", "OUTFILE", "COPY", "ATTACH", "DETACH"})

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUOTES = {"'": "'", '"': '"', "`": "`"}


def tokens(sql: str) -> Iterator[tuple[TokenKind, str]]:
    """Split ``sql`` into code, quoted text (strings and identifiers), comments and ``$params``;
    joining the pieces gives ``sql`` back."""
    i, n, start = 0, len(sql), 0
    while i < n:
        ch = sql[i]
        if ch in _QUOTES:
            if start < i:
                yield "code", sql[start:i]
            end = _closing_quote(sql, i)
            yield "quoted", sql[i:end]
            i = start = end
        elif sql.startswith("--", i):
            if start < i:
                yield "code", sql[start:i]
            end = sql.find("\n", i)
            end = n if end < 0 else end + 1
            yield "comment", sql[i:end]
            i = start = end
        elif sql.startswith("/*", i):
            if start < i:
                yield "code", sql[start:i]
            end = sql.find("*/", i + 2)
            end = n if end < 0 else end + 2
            yield "comment", sql[i:end]
            i = start = end
        elif ch == "$" and (match := _PARAM.match(sql, i)):
            if start < i:
                yield "code", sql[start:i]
            yield "param", match.group(0)
            i = start = match.end()
        else:
            i += 1
    if start < n:
        yield "code", sql[start:n]


def _closing_quote(sql: str, i: int) -> int:
    """Index just past the quote that closes the one at ``i`` (doubled quotes and backslash
    escapes stay inside)."""
    quote = _QUOTES[sql[i]]
    j = i + 1
    while j < len(sql):
        if sql[j] == "\\":
            j += 2
            continue
        if sql[j] == quote:
            if j + 1 < len(sql) and sql[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return len(sql)


def param_names(sql: str) -> set[str]:
    """The ``$name`` parameters that ``sql`` uses."""
    return {text[1:] for kind, text in tokens(sql) if kind == "param"}


def rewrite_params(sql: str, placeholder: Callable[[str], str]) -> str:
    """``sql`` with every ``$name`` replaced by ``placeholder(name)``."""
    return "".join(placeholder(text[1:]) if kind == "param" else text for kind, text in tokens(sql))


def used_params(sql: str, params: Params | None) -> dict[str, Any]:
    """The parameters ``sql`` uses, checked present: a missing one is the caller's mistake."""
    names = param_names(sql)
    given = dict(params or {})
    missing = sorted(names - given.keys())
    if missing:
        raise WarehouseQueryFailed(f"missing query parameter(s): {', '.join(missing)}", field="params")
    return {name: given[name] for name in names}


def ensure_read_only(sql: str) -> None:
    """Refuse anything but one SELECT / WITH / DESCRIBE / SHOW statement."""
    code = [text for kind, text in tokens(sql) if kind in ("code", "param")]
    words = [w.upper() for text in code for w in _WORD.findall(text)]
    if not words or words[0] not in READ_STATEMENTS:
        first = words[0] if words else "(empty)"
        raise ReadOnlyQueryRequired(
            f"only SELECT, WITH, DESCRIBE or SHOW statements are allowed, not {first}", field="sql"
        )
    written = sorted(WRITE_WORDS.intersection(words))
    if written:
        raise ReadOnlyQueryRequired(f"a read statement may not contain {', '.join(written)}", field="sql")
    body = "".join(code).rstrip().rstrip(";")
    if ";" in body:
        raise ReadOnlyQueryRequired("one statement at a time", field="sql")


def summary_table(name: str) -> str:
    """The table of summary ``name`` (``summary_<name>``); a name that is not ``[a-z][a-z0-9_]*``
    (at most 48 characters) is refused."""
    if not isinstance(name, str) or not SUMMARY_NAME.match(name):
        raise WarehouseQueryFailed(
            f"{name!r} is not a summary name (lower-case letters, digits and _, starting with a letter)",
            field="name",
        )
    return SUMMARY_PREFIX + name


def check_column_names(names: Sequence[str], field: str) -> list[str]:
    """``names`` as plain lower-case column names, or :class:`WarehouseQueryFailed` naming ``field``."""
    out = []
    for name in names:
        if not isinstance(name, str) or not _COLUMN_NAME.match(name):
            raise WarehouseQueryFailed(f"{name!r} is not a column name", field=field)
        out.append(name)
    return out


def referenced_summaries(sql: str) -> list[str]:
    """The summaries ``sql`` reads as ``tenant_summary_<name>`` (in code, not in strings)."""
    found: list[str] = []
    for kind, text in tokens(sql):
        if kind == "code":
            found.extend(m.group(1) for m in _TENANT_SUMMARY.finditer(text))
    return sorted(set(found))


def scope_to_tenant(sql: str, params: Params | None, tenant_id: str) -> tuple[str, dict[str, Any]]:
    """Bind ``tenant_events`` in ``sql`` to one tenant's events (and each ``tenant_summary_<name>``
    it names to that tenant's rows of ``summary_<name>``).

    The statement gets a leading common table expression, merged into its own ``WITH`` list when
    it has one; both engines inline such a CTE, so the tenant filter reaches the table scan (and
    ClickHouse's primary key, which starts with ``tenant_id``).
    """
    merged = dict(params or {})
    if merged.get(TENANT_PARAM, tenant_id) != tenant_id:
        raise WarehouseQueryFailed("params.tenant_id differs from tenant_id", field="params")
    merged[TENANT_PARAM] = tenant_id
    cte = f"{TENANT_VIEW} AS (SELECT * FROM {EVENTS_TABLE} WHERE tenant_id = ${TENANT_PARAM})"
    for name in referenced_summaries(sql):
        cte += (
            f", {TENANT_SUMMARY_PREFIX}{name} AS"
            f" (SELECT * FROM {summary_table(name)} WHERE tenant_id = ${TENANT_PARAM})"
        )
    parts = list(tokens(sql))
    for index, (kind, text) in enumerate(parts):
        if kind == "comment" or (kind == "code" and not text.strip()):
            continue
        leading = re.match(r"(\s*)WITH\b", text, re.IGNORECASE) if kind == "code" else None
        if leading:
            parts[index] = (kind, f"{text[: leading.end()]} {cte},{text[leading.end() :]}")
        else:
            parts.insert(index, ("code", f"WITH {cte} "))
        break
    return "".join(text for _, text in parts), merged
