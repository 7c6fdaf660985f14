"""HR completion report at scale: 50,000 officials with a year of study records,
exam attempts and attendance on PostgreSQL, then the whole organisation's completion
report and its xlsx export timed in-process, with the query count.

    .venv/bin/python bench/hr_report.py [--officials 50000] [--db xuefa_bench_hr] [--keep]

The database is dropped and created afresh unless --keep reuses one that already
holds the fake data (then creation is skipped). `learning.completion.evaluate` for
everyone is timed too, since every completion number comes from it. Target: report
plus export under 5 s.
"""

import argparse
import os
import re
import sys
import time
from pathlib import Path

from harness import ensure_database

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 5.0


def timed(label, function, *args, **kwargs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        started, cpu = time.perf_counter(), time.process_time()
        result = function(*args, **kwargs)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"  {label:<40} {seconds:7.2f} s wall {cpu:7.2f} s CPU (this process) "
        f"{len(captured.captured_queries):6d} queries"
    )
    slowest = {}
    for query in captured.captured_queries:
        shape = re.sub(r"\d+", "N", query["sql"])
        shape = re.sub(r"(N, )+N", "…", shape)[:110]
        total, count = slowest.get(shape, (0.0, 0))
        slowest[shape] = (total + float(query["time"]), count + 1)
    for shape, (total, count) in sorted(slowest.items(), key=lambda i: -i[1][0])[:4]:
        print(f"      {total:6.2f} s in {count:4d} × {shape}")
    return result, seconds, cpu, len(captured.captured_queries)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officials", type=int, default=50_000)
    parser.add_argument("--db", default="xuefa_bench_hr")
    parser.add_argument("--year", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="Reuse the database if it exists.")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{args.db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xuefa.settings.dev")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    fresh = ensure_database(os.environ["DATABASE_URL"], fresh=not args.keep)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from learning.completion import evaluate
    from learning.models import Department, Official

    year = args.year or timezone.localdate().year
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"== HR report bench on PostgreSQL {args.db}: {os.cpu_count()} cores, load {load}")
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    if fresh or not Department.objects.filter(name="虚拟区人民政府", depth=1).exists():
        call_command("create_fake_data", officials=args.officials, year=year, verbosity=2)
        print(f"  fake data created in {time.perf_counter() - started:.1f} s (with migrations)")
    else:
        print("  reusing the fake data already in the database")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    officials = Official.objects.count()
    print(f"  officials: {officials}, year {year}")
    everyone = Official.objects.all()
    results, _seconds, _cpu, _queries = timed(
        "evaluate(all officials, year)", evaluate, everyone, year
    )
    complete = sum(1 for r in results.values() if r.is_complete)
    print(f"  complete: {complete} of {len(results)}")

    try:
        from exams.reports.completion import build_report, report_xlsx
    except ImportError:
        print("  exams.reports.completion.build_report / report_xlsx are not in this tree:")
        print("  the report and its xlsx export were NOT timed (evaluate above is the core).")
        return

    user = get_user_model().objects.filter(is_superuser=True).first()
    if user is None:
        user = get_user_model().objects.create_superuser("bench-admin", None, None)
    report, report_seconds, report_cpu, report_queries = timed(
        "build_report(year, whole organisation)", build_report, year, user=user
    )
    content, xlsx_seconds, xlsx_cpu, xlsx_queries = timed(
        "report_xlsx(report)", report_xlsx, report
    )
    # CPU time is the steadier figure on a shared machine; the target is wall time.
    total, total_cpu = report_seconds + xlsx_seconds, report_cpu + xlsx_cpu
    print(f"  xlsx size: {len(content) / 1024:.0f} KiB")
    print(
        f"  report + xlsx: {total:.2f} s wall ({total_cpu:.2f} s CPU), "
        f"{report_queries + xlsx_queries} queries — "
        f"target < {TARGET_SECONDS:.0f} s: {'met' if total < TARGET_SECONDS else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
