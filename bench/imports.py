"""Imports at their size limits: a 20,000-official roster and a 5,000-question bank,
each previewed and then imported, then the same file again (all unchanged), on
SQLite and on PostgreSQL, timed in-process with query counts.

    .venv/bin/python bench/imports.py [--officials 20000] [--questions 5000]
                                      [--only sqlite|postgres]

Targets: the bank under 10 s and the roster under 20 s (preview plus import) on
each database. The files are made as offices make them: a title row above the
header, department and section in two columns, staff numbers with leading zeros as
number cells formatted 000000, questions without a key column.
"""

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

from harness import ensure_database

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"roster": 20.0, "questions": 10.0}
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/xuefa_bench_imports"


def roster_file(officials, sections):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["2026年机关工作人员花名册"])
    sheet.merge_cells("A1:H1")
    sheet.append(["序号", "姓名", "工号", "部门", "科室", "职务", "是否领导干部", "手机号码"])
    for number in range(1, officials + 1):
        bureau, section = sections[number % len(sections)]
        sheet.append(
            [number, f"官员{number}", number, bureau, section, "科员", "否", 13800000000 + number]
        )
        sheet.cell(row=number + 2, column=3).number_format = "000000"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def bank_file(questions, topic):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["题库导入"])
    sheet.append(["题型", "法律专题", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析"])
    for number in range(1, questions + 1):
        if number % 3 == 0:
            row = ["判断", topic, f"第{number}题：行政机关应当依法行政。", "", "", "", "", "对"]
        elif number % 3 == 1:
            row = ["单选", topic, f"第{number}题：下列说法正确的是？", "甲", "乙", "丙", "丁", "B"]
        else:
            row = ["多选", topic, f"第{number}题：下列属于的有？", "甲", "乙", "丙", "丁", "A、C"]
        sheet.append([*row, "依据《中华人民共和国民法典》"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def timed(label, function, *args):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started, cpu = time.perf_counter(), time.process_time()
        result = function(*args)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"    {label:<34} {seconds:6.2f} s wall {cpu:6.2f} s CPU "
        f"{len(captured.captured_queries):6d} queries",
        flush=True,
    )
    return result, seconds


def run_importer(importer, data, filename, label):
    preview, preview_seconds = timed(f"{label}: preview", importer.preview, data, filename)
    if preview.errors:
        raise SystemExit(f"unexpected problems: {[str(p) for p in preview.errors[:5]]}")
    result, apply_seconds = timed(
        f"{label}: import", importer.apply, data, filename, preview.fingerprint, {}
    )
    result.pop("sealed", None)
    total = preview_seconds + apply_seconds
    print(f"    {label}: {result}; preview + import {total:.2f} s", flush=True)
    return total


def bench(args):
    import django

    django.setup()
    from django.core.management import call_command

    # The query counts are what is printed; the log of every query is not needed.
    warnings.filterwarnings("ignore", "Limit for query logging exceeded")

    from exams.fake_data import FakeData
    from learning.imports import get_importer
    from learning.models import Department, LawTopic

    call_command("migrate", verbosity=0, interactive=False)
    # The fake-data builder's district: about 40 bureaus with their offices (sections).
    offices = FakeData().departments()
    bureaus = dict(Department.objects.filter(depth=2).values_list("path", "name"))
    sections = [(bureaus[office.path[: -Department.steplen]], office.name) for office in offices]
    topic = LawTopic.objects.create(name="民法典")
    verdicts = []
    for kind, data, size in (
        ("roster", roster_file(args.officials, sections), args.officials),
        ("questions", bank_file(args.questions, topic.name), args.questions),
    ):
        importer = get_importer(kind)
        print(f"  {kind}: {size} rows, {len(data) / 1024:.0f} KiB xlsx", flush=True)
        first = run_importer(importer, data, f"{kind}.xlsx", "first import")
        again = run_importer(importer, data, f"{kind}.xlsx", "same file again")
        met = max(first, again) < TARGETS[kind]
        verdicts.append(met)
        print(
            f"  {kind}: slowest {max(first, again):.2f} s — target < {TARGETS[kind]:.0f} s: "
            f"{'met' if met else 'NOT met'}",
            flush=True,
        )
    return all(verdicts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officials", type=int, default=20_000)
    parser.add_argument("--questions", type=int, default=5_000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xuefa.settings.dev")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        sys.path.insert(0, str(ROOT))
        sys.exit(0 if bench(args) else 1)

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"== Import bench: {os.cpu_count()} cores, load {load}", flush=True)
    failed = False
    with tempfile.TemporaryDirectory() as folder:
        for name, url in (
            ("sqlite", f"sqlite:///{folder}/imports.sqlite3"),
            ("postgres", POSTGRES_URL),
        ):
            if args.only and args.only != name:
                continue
            ensure_database(url, fresh=True)
            print(f"== {name}", flush=True)
            command = [sys.executable, __file__, "--database-url", url]
            command += ["--officials", str(args.officials), "--questions", str(args.questions)]
            failed |= subprocess.run(command, check=False).returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
