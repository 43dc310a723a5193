"""Bulk SQL on the DBAPI cursor of a SQLAlchemy connection (same transaction): insert,
update and select many rows at once, with constant columns folded into SQL literals.

On PostgreSQL (psycopg 3) inserts and updates go through ``COPY ... FROM STDIN``
(an update copies into a temporary table, then one ``UPDATE ... FROM``): one round
trip of rows instead of a statement per row."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from fyp_tui.errors import StoreError

if TYPE_CHECKING:
    pass


def utcnow() -> str:
    """Now, UTC, in the text form SQLAlchemy's SQLite DateTime reads back."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def param_marker(conn: Any) -> str:
    style = conn.dialect.paramstyle
    if style == "qmark":
        return "?"
    if style in ("format", "pyformat"):
        return "%s"
    raise StoreError(f"database driver paramstyle {style!r} is not supported")


def raw_cursor(conn: Any) -> Any:
    return conn.connection.dbapi_connection.cursor()


def insert_rows(conn: Any, table: str, cols: Sequence[str], rows: Iterable[tuple], *, or_replace: bool = False) -> None:
    m = param_marker(conn)
    verb = "INSERT OR REPLACE" if or_replace and conn.dialect.name == "sqlite" else "INSERT"
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([m] * len(cols))})"
    sql = sql.replace("INSERT", verb, 1)
    if _copies(conn):
        _copy(conn, table, cols, rows)
        return
    cur = raw_cursor(conn)
    try:
        cur.executemany(sql, rows if conn.dialect.name == "sqlite" else list(rows))
    finally:
        cur.close()


def _copies(conn: Any) -> bool:
    """True when ``conn`` is PostgreSQL through psycopg 3 (its cursors have ``copy``)."""
    return conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg"


def _copy(conn: Any, table: str, cols: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """``COPY table (cols) FROM STDIN`` of ``rows`` (PostgreSQL, psycopg 3). Rows holding
    bytes (engine_state's arrays, megabytes) are copied in the binary format: no hex
    escaping of the blobs on either side."""
    it = iter(rows)
    first = next(it, None)
    if first is None:
        return
    binary = any(isinstance(v, (bytes, bytearray, memoryview)) for v in first)
    cur = raw_cursor(conn)
    try:
        types: list[str] = []
        if binary:
            found = _column_types(cur, table)
            types = [found[c] for c in cols]
        fmt = " (FORMAT BINARY)" if binary else ""
        with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN{fmt}") as copy:
            if binary:
                copy.set_types(types)
            copy.write_row(first)
            for row in it:
                copy.write_row(row)
    finally:
        cur.close()


#: rows of numpy columns laid out at a time for a binary COPY (a few MB)
COPY_ROWS = 16_384
#: PostgreSQL column types -> the big-endian numpy dtype of their binary COPY form
_BINARY_DTYPES = {"integer": ">i4", "bigint": ">i8", "smallint": ">i2", "double precision": ">f8", "real": ">f4"}
_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
_BINARY_TRAILER = b"\xff\xff"


def _column_types(cur: Any, table: str) -> dict[str, str]:
    cur.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        (table,),
    )
    return dict(cur.fetchall())


def _copy_arrays(conn: Any, table: str, columns: dict[str, np.ndarray]) -> bool:
    """``COPY table FROM STDIN (FORMAT BINARY)`` of numeric numpy columns, the rows laid
    out by numpy in one buffer (no Python value per cell: tens of thousands of rows in
    milliseconds). False, having written nothing, when a column's type has no such
    layout here or a value does not fit it (the caller then copies rows)."""
    cur = raw_cursor(conn)
    try:
        types = _column_types(cur, table)
        fields: list[tuple[str, str]] = [("count", ">i2")]
        for i, name in enumerate(columns):
            a = columns[name]
            dtype: Any = _BINARY_DTYPES.get(types.get(name, ""))
            if types.get(name) == "bytea" and a.dtype.kind == "V" and a.ndim == 1:
                dtype = a.dtype  # fixed-size blobs (audience.interests): their bytes as they are
            elif dtype is None or a.ndim != 1 or not (a.dtype == bool or np.issubdtype(a.dtype, np.number)):
                return False
            if np.issubdtype(np.dtype(dtype), np.integer) and len(a):
                info = np.iinfo(np.dtype(dtype))
                if not np.issubdtype(a.dtype, np.integer) or a.min() < info.min or a.max() > info.max:
                    return False
            fields += [(f"len{i}", ">i4"), (f"val{i}", dtype)]
        n = len(next(iter(columns.values())))
        rec = np.empty(min(n, COPY_ROWS), np.dtype(fields))  # (packed: no padding between fields)
        rec["count"] = len(columns)
        for i in range(len(columns)):
            rec[f"len{i}"] = rec.dtype[f"val{i}"].itemsize
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(_BINARY_HEADER)
            for lo in range(0, n, COPY_ROWS):  # (a bounded buffer, however many rows)
                k = min(COPY_ROWS, n - lo)
                for i, a in enumerate(columns.values()):
                    rec[f"val{i}"][:k] = a[lo : lo + k]
                copy.write(rec[:k].tobytes())
            copy.write(_BINARY_TRAILER)
        return True
    finally:
        cur.close()


def _literal(a: np.ndarray) -> str | None:
    """SQL literal if every value of ``a`` is the same exactly-representable number, else None."""
    if len(a) == 0 or a.ndim != 1 or a.dtype.kind not in "biuf":
        return None
    v = a[0]
    if not (a == v).all():
        return None
    if a.dtype == bool or np.issubdtype(a.dtype, np.integer):
        return str(int(v))
    if np.issubdtype(a.dtype, np.floating) and float(v).is_integer() and abs(float(v)) < 2**53:
        return repr(float(v))  # integral: parsed back exactly
    return None


def insert_columns(conn: Any, table: str, columns: dict[str, Any]) -> None:
    """Insert rows given column-wise; a numpy column holding one integral value everywhere
    is written as a SQL literal instead of a bound parameter (seeded counters are all 0)."""
    if _copies(conn):
        n = len(next(iter(columns.values())))
        if n == 0:
            return
        arrays = {k: v for k, v in columns.items() if isinstance(v, np.ndarray)}
        if len(arrays) == len(columns) and _copy_arrays(conn, table, arrays):
            return
        listed = [col.tolist() if isinstance(col, np.ndarray) else list(col) for col in columns.values()]
        _copy(conn, table, list(columns), zip(*listed) if n else iter(()))
        return
    m = param_marker(conn)
    names, values, bound = [], [], []
    for name, col in columns.items():
        lit = _literal(col) if isinstance(col, np.ndarray) else None
        names.append(name)
        if lit is not None:
            values.append(lit)
        else:
            values.append(m)
            bound.append(col.tolist() if isinstance(col, np.ndarray) else col)
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(values)})"
    cur = raw_cursor(conn)
    try:
        if bound:
            rows = zip(*bound)
            cur.executemany(sql, rows if conn.dialect.name == "sqlite" else list(rows))
        else:
            n = len(next(iter(columns.values())))
            cur.executemany(sql, [()] * n)
    finally:
        cur.close()


def update_rows(conn: Any, table: str, cols: Sequence[str], rows: Iterable[tuple], key: str = "id") -> None:
    """rows: values of ``cols`` then the key value."""
    if _copies(conn):
        # rows into a temporary table, then one UPDATE ... FROM
        tmp = _update_table(conn, table, [*cols, key])
        _copy(conn, tmp, [*cols, key], rows)
        _update_from(conn, table, tmp, cols, key)
        return
    m = param_marker(conn)
    sql = f"UPDATE {table} SET {', '.join(f'{c} = {m}' for c in cols)} WHERE {key} = {m}"
    cur = raw_cursor(conn)
    try:
        cur.executemany(sql, rows if conn.dialect.name == "sqlite" else list(rows))
    finally:
        cur.close()


def update_columns(conn: Any, table: str, columns: dict[str, np.ndarray], ids: np.ndarray, *, slice_rows: int) -> None:
    """Set ``columns`` (numpy, one value per id) of the rows ``ids``. On PostgreSQL the
    values go by one binary COPY laid out by numpy (see :func:`update_rows`); on SQLite
    one executemany is fed ``slice_rows`` rows of Python values at a time (those of
    all the rows at once would grow the interpreter's heap for good)."""
    if _copies(conn):
        tmp = _update_table(conn, table, [*columns, "id"])
        if not _copy_arrays(conn, tmp, {**columns, "id": np.asarray(ids)}):
            _copy(conn, tmp, [*columns, "id"], _sliced_rows(list(columns.values()), ids, slice_rows))
        _update_from(conn, table, tmp, list(columns), "id")
        return
    update_rows(conn, table, list(columns), _sliced_rows(list(columns.values()), ids, slice_rows))


def _sliced_rows(columns: list[np.ndarray], ids: np.ndarray, k: int) -> Iterator[tuple]:
    for lo in range(0, len(ids), k):
        yield from zip(*(c[lo : lo + k].tolist() for c in columns), ids[lo : lo + k].tolist())


def _update_table(conn: Any, table: str, cols: Sequence[str]) -> str:
    """A new, empty temporary table for the new values of ``cols`` of ``table`` (PostgreSQL)."""
    tmp = f"_upd_{table}"
    cur = raw_cursor(conn)
    try:
        cur.execute(f"DROP TABLE IF EXISTS {tmp}")
        cur.execute(f"CREATE TEMP TABLE {tmp} ON COMMIT DROP AS SELECT {', '.join(cols)} FROM {table} WITH NO DATA")
    finally:
        cur.close()
    return tmp


def _update_from(conn: Any, table: str, tmp: str, cols: Sequence[str], key: str) -> None:
    """One ``UPDATE ... FROM`` of ``table`` from the temporary table ``tmp``, then drop it."""
    cur = raw_cursor(conn)
    try:
        sets = ", ".join(f"{c} = u.{c}" for c in cols)
        cur.execute(f"UPDATE {table} AS t SET {sets} FROM {tmp} AS u WHERE t.{key} = u.{key}")
        cur.execute(f"DROP TABLE {tmp}")
    finally:
        cur.close()


def select_rows(conn: Any, sql: str, params: tuple = (), *, binary: bool = False) -> list[tuple]:
    """Rows of ``sql``; its parameters are written ``{m}`` (the driver's marker).

    ``binary``: on PostgreSQL (psycopg 3), results come in the binary format: bytea
    values (engine_state's arrays, megabytes) arrive as they are, not as hex text
    twice their size to decode (about 3x faster for ``demo``'s)."""
    cur = conn.connection.dbapi_connection.cursor(binary=True) if binary and _copies(conn) else raw_cursor(conn)
    try:
        cur.execute(sql.format(m=param_marker(conn)) if params else sql, params)
        return cur.fetchall()
    finally:
        cur.close()


def columns_of(rows: list[tuple], n: int) -> list[tuple]:
    if not rows:
        return [()] * n
    return list(zip(*rows))


def none_if_negative(a: np.ndarray) -> list:
    return [None if v < 0 else v for v in a.tolist()]


class RawConn:
    """Just enough of a SQLAlchemy Connection over a plain sqlite3 connection."""

    class _Dialect:
        name = "sqlite"
        paramstyle = "qmark"

    dialect = _Dialect()

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.connection = self
        self.dbapi_connection = conn
