"""Reading CSV/XLSX imports and the two import modes, on a probe table in both databases."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from openpyxl import Workbook
from sqlalchemy import CheckConstraint, Integer, MetaData, String, Table, insert, select
from sqlalchemy import Column as SqlColumn
from sqlalchemy.orm import Session

from bcone.core.db import Database
from bcone.core.errors import ValidationFailed
from bcone.core.imports import (
    Column,
    ImportFileInvalid,
    ImportMode,
    ImportRejected,
    RowOutcome,
    TableRow,
    normalise_header,
    parse_choice,
    read_table,
    run_import,
    split_codes,
    template_csv,
)

COLUMNS = (
    Column("code", ("编码",), required=True),
    Column("name", ("名称",), required=True),
    Column("price", ("价格",)),
)


def xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    sheet = wb.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        "编码,名称,价格\nA1,矿泉水,2.5\nA2,绿茶,3\n".encode(),
        "\ufeff编码,名称,价格\r\nA1,矿泉水,2.5\r\nA2,绿茶,3\r\n".encode(),  # Excel "CSV UTF-8"
        "编码,名称,价格\nA1,矿泉水,2.5\nA2,绿茶,3\n".encode("gbk"),  # Chinese Excel's plain CSV
        "编码\t名称\t价格\nA1\t矿泉水\t2.5\nA2\t绿茶\t3\n".encode("gb18030"),
        "编码\t名称\t价格\r\nA1\t矿泉水\t2.5\r\nA2\t绿茶\t3\r\n".encode("utf-16"),  # Excel "Unicode text"
        "Code,NAME,Price (yuan)\nA1,矿泉水,2.5\nA2,绿茶,3\n".encode(),  # English headers, loosely matched
    ],
)
def test_csv_in_every_encoding_excel_writes(data: bytes) -> None:
    table = read_table(data, "orgs.csv", COLUMNS)
    assert [(r.row, r.values) for r in table.rows] == [
        (2, {"code": "A1", "name": "矿泉水", "price": "2.5"}),
        (3, {"code": "A2", "name": "绿茶", "price": "3"}),
    ]


def test_xlsx_with_numbers_blank_rows_and_unknown_columns() -> None:
    data = xlsx(
        [["编码", "备注", "名称", "价格"], ["A1", "x", "矿泉水", 2.5], [], [6901234567892, None, "绿茶", 3.0]]
    )
    table = read_table(data, "skus.xlsx", COLUMNS)
    assert table.headers == {"code": "编码", "name": "名称", "price": "价格"}
    # The blank spreadsheet row 3 is skipped but row numbers stay those a person sees in Excel.
    assert [(r.row, r.values) for r in table.rows] == [
        (2, {"code": "A1", "name": "矿泉水", "price": "2.5"}),
        (4, {"code": "6901234567892", "name": "绿茶", "price": "3"}),
    ]


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "a.csv", "a.csv: file is empty"),
        (b"\xd0\xcf\x11\xe0rest-of-an-old-xls", "a.xls", "legacy .xls"),
        (b"%PDF-1.7 ...", "a.pdf", "not a CSV or XLSX"),
        (b"PK\x03\x04 broken zip", "a.xlsx", "not a readable XLSX"),
        ("编码,价格\nA1,3\n".encode(), "a.csv", r"missing required column\(s\): 名称"),
        ("编码,名称\n".encode(), "a.csv", "header but no data rows"),
        (b",,\nA1,x\n", "a.csv", "row 1 must be the header"),
        ("编码,code,名称\nA,B,C\n".encode(), "a.csv", "both mean code"),
        (b"\x81\x30\xff\xfe\xfa", "a.csv", "neither UTF-8 nor GBK"),
    ],
)
def test_bad_files_are_422_naming_the_file(data: bytes, filename: str, message: str) -> None:
    with pytest.raises(ImportFileInvalid, match=message) as err:
        read_table(data, filename, COLUMNS)
    assert (err.value.status, err.value.field, err.value.extra["filename"]) == (422, "file", filename)


def test_missing_column_names_the_column() -> None:
    with pytest.raises(ImportFileInvalid) as err:
        read_table("名称\nx\n".encode(), "a.csv", COLUMNS)
    assert err.value.extra["column"] == "code"


def test_size_and_row_limits() -> None:
    with pytest.raises(ImportFileInvalid, match="limit is 10"):
        read_table(b"x" * 11, "a.csv", COLUMNS, max_bytes=10)
    data = ("编码,名称\n" + "".join(f"A{i},n\n" for i in range(4))).encode()
    assert len(read_table(data, "a.csv", COLUMNS, max_rows=4).rows) == 4
    with pytest.raises(ImportFileInvalid, match="more than 3 data rows"):
        read_table(data, "a.csv", COLUMNS, max_rows=3)


def test_cell_helpers() -> None:
    assert normalise_header(" 指导价（元）* ") == "指导价"
    assert normalise_header("Division Code") == "division_code"
    assert split_codes("440000, 110105；310000、 320000") == ["440000", "110105", "310000", "320000"]
    assert parse_choice("门店", {"store": "store", "门店": "store"}, field_name="kind") == "store"
    assert parse_choice("STORE", {"store": "store"}, field_name="kind") == "store"
    assert parse_choice("", {"a": "a"}, field_name="status", default="a") == "a"
    with pytest.raises(ValidationFailed, match="'shop' is not one of: store, 门店") as err:
        parse_choice("shop", {"store": "store", "门店": "store"}, field_name="kind")
    assert err.value.field == "kind"
    template = template_csv(COLUMNS)
    assert template.startswith("\ufeff".encode())
    assert template.decode("utf-8-sig") == "编码,名称,价格\r\n"


probe_metadata = MetaData()
probe = Table(
    "import_probe",
    probe_metadata,
    SqlColumn("code", String(20), primary_key=True),
    SqlColumn("name", String(50), nullable=False),
    SqlColumn("price", Integer, nullable=False),
    CheckConstraint("name <> ''", name="ck_import_probe_name"),
)


@pytest.fixture
def probe_db(db: Database) -> Iterator[Database]:
    probe_metadata.create_all(db.engine)
    yield db
    probe_metadata.drop_all(db.engine)


def _apply(session: Session):  # type: ignore[no-untyped-def]
    def apply(row: TableRow) -> RowOutcome:
        price = row.get("price")
        if not price.isdigit():
            raise ValidationFailed(f"{price!r} is not a whole number", field="price")
        existing = session.execute(select(probe.c.name).where(probe.c.code == row.get("code"))).scalar()
        if existing is not None:
            return "unchanged"
        # An empty name passes this function but not the table's CHECK: the database refuses it.
        session.execute(insert(probe).values(code=row.get("code"), name=row.get("name"), price=int(price)))
        return "created"

    return apply


FILE = "编码,名称,价格\nA1,矿泉水,2\nA2,绿茶,abc\nA3,可乐,3\nA4,,5\n".encode()


def _stored(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return list(conn.execute(select(probe.c.code).order_by(probe.c.code)).scalars())


def test_all_or_nothing_writes_nothing_and_lists_every_bad_row(probe_db: Database) -> None:
    table = read_table(FILE, "p.csv", COLUMNS)
    with probe_db.session() as s:
        s.execute(insert(probe).values(code="KEEP", name="earlier work in the same unit", price=1))
        report = run_import(session=s, table=table, mode=ImportMode.all_or_nothing, apply=_apply(s))
    assert report.imported is False
    assert (report.total_rows, report.created, report.failed) == (4, 0, 2)
    assert [(e.row, e.column, e.value, e.code) for e in report.errors] == [
        (3, "价格", "abc", "validation_failed"),
        (5, None, None, "conflict"),  # the CHECK on name refused it
    ]
    # The caller's own earlier write survives; none of the file's rows do.
    assert _stored(probe_db) == ["KEEP"]
    rejected = ImportRejected(report)
    assert rejected.status == 422
    assert rejected.to_problem()["report"]["failed"] == 2


def test_valid_rows_writes_the_good_rows_and_reimport_is_idempotent(probe_db: Database) -> None:
    table = read_table(FILE, "p.csv", COLUMNS)
    with probe_db.session() as s:
        report = run_import(session=s, table=table, mode=ImportMode.valid_rows, apply=_apply(s))
    assert (report.imported, report.created, report.failed) == (True, 2, 2)
    assert [e.row for e in report.errors] == [3, 5]
    assert _stored(probe_db) == ["A1", "A3"]
    with probe_db.session() as s:
        again = run_import(session=s, table=table, mode=ImportMode.valid_rows, apply=_apply(s))
    assert (again.created, again.unchanged, again.failed) == (0, 2, 2)
    assert _stored(probe_db) == ["A1", "A3"]
