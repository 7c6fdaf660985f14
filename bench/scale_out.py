"""Scale-out on one machine: two app nodes behind nginx, PgBouncer in front of
PostgreSQL, and the exam day run through the balancer; capacity with one node and
two, a node killed in mid-run, PgBouncer restarted in mid-run.

    .venv/bin/python bench/scale_out.py --quick      # CI: kill and pgbouncer, small
    .venv/bin/python bench/scale_out.py              # all three at full size
    .venv/bin/python bench/scale_out.py capacity --cap-ramp 30 --cap-max 300
    .venv/bin/python bench/scale_out.py --install    # as root: apt-get install first

The template database (migrate and the demo data: one to four minutes on two cores)
is dropped at the end unless --keep-template; a kept one is migrated forward and
reused (until its demo exam is about to close). --keep keeps the run's folder (configs,
nginx's access log, the nodes' logs) and database.

What runs, every process on loopback, from Debian packages (nginx, pgbouncer,
util-linux's taskset; PostgreSQL and Redis as the machine has them):
  * PostgreSQL (--pg): a database of its own per run, copied from a template that is
    migrated with the demo data once, plus the bench officials (bench/exam_db.py);
  * PgBouncer in transaction mode in front of it (deploy/pgbouncer.ini.template), with
    max_prepared_statements when the installed PgBouncer is 1.22 or newer; older (Debian
    12 has 1.18) the app runs with DATABASE_PREPARE_THRESHOLD=0. Either way the app
    runs with DATABASE_DISABLE_SERVER_SIDE_CURSORS=true (see docs/deploy.md);
  * two app nodes: gunicorn masters with the project's gunicorn.conf.py and the
    production settings, each pinned to one core with taskset (2 x 1 + 1 workers),
    reaching the database through PgBouncer;
  * nginx as the load balancer (deploy/nginx-xuefa.conf.template): least_conn,
    passive checks, retries on the other node; and an active check (HealthChecker
    below) of each node's /healthz that marks a failing node down and back up;
  * Redis (--redis): the server as it runs, on a database number of its own, flushed;
  * the load generator (bench/exam_load.py) against nginx, and the check of the
    database afterwards (bench/exam_db.py verify).

Scenarios:
  capacity   with one node, then two: the largest number of officials that PASSes
             bench/exam_day.py's targets (p95 < 250 ms on every endpoint, 0 errors,
             0 lost answers), by a short search (--cap-trials runs per node count).
             Officials arrive within --cap-ramp seconds and save every
             30 x cap-ramp / 120 s for cap-ramp seconds: a shorter ramp is the
             2-minute ramp's request rates at N x 120 / cap-ramp officials, which is
             what the table reports ("per 2-min ramp"), also per app core.
  kill       two nodes; in mid-run one gets kill -9 (master and workers) and is
             started again --down seconds later. PASS: every official finished (and a
             resume gave their own attempt), no save or submit failed after the
             clients' retries, 0 acknowledged answers lost, every submitted attempt
             graded once; the other node served while it was down, and it served
             again after rejoining. Requests served per node before, during, after.
  pgbouncer  two nodes; in mid-run PgBouncer is shut down at once (every client and
             server connection cut) and started again --pgbouncer-down s later; the
             same guarantees, and both nodes serve again afterwards.

Prints a table per scenario and PASS/FAIL each; exits 1 on any FAIL.
"""

import argparse
import contextlib
import io
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent))

from exam_day import (  # noqa: E402
    P95_TARGET_MS,
    ROOT,
    app_env,
    collect_static,
    flush_redis,
    load_command,
    manage,
    prepare_database,
    psql,
    reference_ms,
    report,
    stop_app,
    verify,
    wait_ready,
)

DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
TEMPLATE = "xuefa_scale_out_template"
REAL_RAMP = 120  # exam_day's ramp: officials open the exam within two minutes
REAL_SAVE_EVERY = 30  # and save an answer every 30 s
# At the end of that ramp each official adds this many requests a second: four to
# open the exam (list, session, start, attempt page) spread over the ramp, and a save
# every 30 s. What one app core can carry at most is then 1000 / (its CPU ms per
# request) / this, the "CPU ceiling" the capacity table gives beside the search.
PEAK_REQUESTS_PER_OFFICIAL = 4 / REAL_RAMP + 1 / REAL_SAVE_EVERY


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- Tools --------------------------------------------------------------------------


def tool(name):
    """The path of a Debian tool, also in sbin when that is not on PATH (non-root)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in ("/usr/sbin", "/sbin", "/usr/bin"):
        if os.access(f"{folder}/{name}", os.X_OK):
            return f"{folder}/{name}"
    return None


def apt_install(packages):
    """apt-get install, as root, with the packages' own services kept from starting
    (a policy-rc.d that denies, unless one is there already) and, under systemd,
    disabled: this bench runs its own instances on loopback ports."""
    policy = Path("/usr/sbin/policy-rc.d")
    made = not policy.exists()
    if made:
        policy.write_text(
            "#!/bin/sh\n# scale_out.py: no service starts while it installs\nexit 101\n"
        )
        policy.chmod(0o755)
    try:
        quiet = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], env=quiet, check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", *packages], env=quiet, check=True)
    finally:
        if made:
            policy.unlink()
    if Path("/run/systemd/system").exists():
        services = [p for p in packages if p in {"nginx", "pgbouncer"}]
        subprocess.run(["systemctl", "disable", "--now", *services], check=False)


def check_tools(install):
    """{tool: path} of nginx, pgbouncer and taskset; installs the missing ones with
    --install (as root), otherwise says how."""
    wanted = {"nginx": "nginx", "pgbouncer": "pgbouncer", "taskset": "util-linux"}
    missing = sorted({package for name, package in wanted.items() if not tool(name)})
    if missing and install:
        if os.geteuid() != 0:
            raise SystemExit("--install runs apt-get: run it as root (or sudo)")
        apt_install(missing)
    elif missing:
        raise SystemExit(
            f"Missing Debian packages: {' '.join(missing)}. Install them with\n"
            f"    sudo apt-get install -y {' '.join(missing)}\n"
            "and stop and disable the services they bring (this bench runs its own\n"
            "instances on loopback ports), or run this script as root with --install,\n"
            "which installs them without starting their services."
        )
    return {name: tool(name) for name in wanted}


def pgbouncer_version(path):
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"PgBouncer (\d+)\.(\d+)", out)
    return (int(match.group(1)), int(match.group(2))) if match else (0, 0)


def fill(template, values):
    """A deploy/ template with its {{NAME}} placeholders filled."""
    text = (DEPLOY / template).read_text()
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", str(value))
    left = re.findall(r"\{\{\w+\}\}", text)
    if left:
        raise SystemExit(f"{template}: no value for {left}")
    return text


def wait_port(port, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"Nothing listens on port {port}")


def port_free(port):
    """Whether nothing listens on `port` (connections of an earlier run waiting out
    TIME_WAIT do not count: the servers bind with SO_REUSEADDR too)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def healthy(port, timeout=5.0):
    """Whether the node on `port` answers GET /healthz with 200 within `timeout`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            return b" 200 " in sock.recv(64)
    except OSError:
        return False


# --- The processes --------------------------------------------------------------------


class Bouncer:
    """PgBouncer in transaction mode on `port`, in front of the PostgreSQL server of
    `pg` for one database; as the postgres user when run as root (PgBouncer refuses
    to run as root)."""

    def __init__(self, path, folder, port, pg, database):
        self.path, self.folder, self.port, self.database = path, folder, port, database
        self.version = pgbouncer_version(path)
        # 1.21 tracks protocol-level prepared statements; 1.22 also takes DEALLOCATE
        # ALL, which psycopg sends after a schema change (docs/deploy.md).
        self.prepared = self.version >= (1, 22)
        parts = re.match(r"postgres(?:ql)?://([^@/]+)@([^:/]+):(\d+)", pg)
        self.user, self.pg_host, self.pg_port = parts.groups()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "userlist.txt").write_text(f'"{self.user}" ""\n')
        prepared = (
            "max_prepared_statements = 200"
            if self.prepared
            else f";; max_prepared_statements: not in PgBouncer "
            f"{'.'.join(map(str, self.version))}; the app runs with DATABASE_PREPARE_THRESHOLD=0"
        )
        (folder / "pgbouncer.ini").write_text(
            fill(
                "pgbouncer.ini.template",
                {
                    "DBNAME": database,
                    "PG_HOST": self.pg_host,
                    "PG_PORT": self.pg_port,
                    "LISTEN_ADDR": "127.0.0.1",
                    "LISTEN_PORT": port,
                    "UNIX_SOCKET_DIR": "",
                    "MAX_CLIENT_CONN": 1000,
                    "POOL_SIZE": 20,
                    "PREPARED_STATEMENTS": prepared,
                    # Loopback bench: the server trusts loopback too. Production: scram.
                    "AUTH_TYPE": "trust",
                    "AUTH_FILE": folder / "userlist.txt",
                    "ADMIN_USER": self.user,
                    "LOGFILE": folder / "pgbouncer.log",
                    "PIDFILE": folder / "pgbouncer.pid",
                },
            )
        )
        if os.geteuid() == 0:
            for item in [folder, *folder.iterdir()]:
                shutil.chown(item, "postgres")
        self.process = None

    @property
    def url(self):
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def start(self):
        as_user = ["-u", "postgres"] if os.geteuid() == 0 else []
        self.process = subprocess.Popen(
            [self.path, "-q", *as_user, str(self.folder / "pgbouncer.ini")],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def stop(self):
        """Immediate shutdown, as a service restart does: every client and server
        connection is cut (SIGTERM before 1.23; SIGQUIT since, SIGTERM now waiting
        for the clients to leave)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT if self.version >= (1, 23) else signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def stats(self):
        """SHOW STATS of our database from the admin console: {column: value}."""
        out = subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "--csv"]
            + ["-c", "SHOW STATS", "pgbouncer"],
            capture_output=True,
            text=True,
        ).stdout.splitlines()
        if not out:
            return {}
        header = out[0].split(",")
        for line in out[1:]:
            row = dict(zip(header, line.split(","), strict=False))
            if row.get("database") == self.database:
                return row
        return {}


class Node:
    """An app node: a gunicorn master (the project's gunicorn.conf.py, production
    settings) with its workers, pinned to one core, in a process group of its own."""

    def __init__(self, name, port, core, env, taskset, log_path):
        self.name, self.port, self.core, self.env = name, port, core, env
        self.taskset, self.log_path = taskset, log_path
        self.process = None
        self.down = False  # as the balancer has it (the active check)

    def start(self, wait=True):
        self.process = subprocess.Popen(
            [self.taskset, "-c", str(self.core), str(BIN / "gunicorn")]
            + ["-c", "gunicorn.conf.py", "--log-level", "warning"],
            env={**self.env, "GUNICORN_BIND": f"127.0.0.1:{self.port}"},
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=open(self.log_path, "a"),  # noqa: SIM115 - the child keeps it
        )
        if wait:
            self.wait_ready()

    def wait_ready(self):
        wait_ready(self.port)

    def kill(self):
        """kill -9 of the master and every worker."""
        if self.process is not None:
            stop_app(self.process, hard=True)


class Balancer:
    """nginx (one worker process) on `port` with the nodes as its upstream, its
    configuration in `folder` from deploy/nginx-xuefa.conf.template."""

    def __init__(self, path, folder, port, nodes):
        self.path, self.folder, self.port, self.nodes = path, folder, port, nodes
        self.lock = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "temp").mkdir(exist_ok=True)
        self.access_log = folder / "access.log"
        self.servers_file = folder / "upstream-servers.conf"
        self.write_servers()
        (folder / "xuefa.conf").write_text(
            fill(
                "nginx-xuefa.conf.template",
                {
                    "SERVERS_FILE": self.servers_file,
                    "LISTEN": f"127.0.0.1:{port} backlog=4096",
                    "SERVER_NAME": "127.0.0.1 localhost",
                    "ACCESS_LOG": self.access_log,
                },
            )
        )
        temp = folder / "temp"
        (folder / "nginx.conf").write_text(
            f"""# scale_out.py's nginx: loopback only, in the foreground, files in {folder}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {folder}/xuefa.conf;
}}
"""
        )
        self.process = None

    def write_servers(self):
        self.servers_file.write_text(
            "".join(
                f"server 127.0.0.1:{n.port} max_fails=2 fail_timeout=5s{' down' if n.down else ''};"
                f"  # node {n.name}\n"
                for n in self.nodes
            )
        )

    def start(self):
        conf = self.folder / "nginx.conf"
        check = subprocess.run(
            [self.path, "-t", "-q", "-e", str(self.folder / "error.log"), "-c", str(conf)],
            capture_output=True,
            text=True,
        )
        if check.returncode:
            raise SystemExit(f"nginx -t failed:\n{check.stderr}")
        self.process = subprocess.Popen(
            [self.path, "-e", str(self.folder / "error.log"), "-c", str(conf)],
            start_new_session=True,
        )
        wait_port(self.port)

    def set_down(self, node, down):
        """Mark a node down (or up) in the upstream and reload nginx: new workers
        take the change, the old ones finish their requests first."""
        with self.lock:
            node.down = down
            self.write_servers()
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(signal.SIGHUP)

    def stop(self):
        """Graceful stop (its buffered access log is written out)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class HealthChecker(threading.Thread):
    """Active checks, which open-source nginx has not: GET /healthz on each node
    every `interval` s; `fails` failures in a row mark it down in the balancer,
    `rises` successes mark it up again. Never the last node up: /healthz fails on
    every node at once when the shared database (or PgBouncer) is unreachable, and
    taking them all out would only turn slow answers into none."""

    def __init__(self, balancer, interval=1.0, timeout=5.0, fails=2, rises=2):
        super().__init__(daemon=True)
        self.balancer, self.interval, self.timeout = balancer, interval, timeout
        self.fails, self.rises = fails, rises
        self.stopping = threading.Event()
        self.events = []  # (epoch seconds, node name, "down" | "up")

    def run(self):
        streak = {n.name: 0 for n in self.balancer.nodes}  # >0 good in a row, <0 bad
        while not self.stopping.wait(self.interval):
            ok = {n.name: healthy(n.port, self.timeout) for n in self.balancer.nodes}
            for node in self.balancer.nodes:
                if ok[node.name]:
                    streak[node.name] = max(streak[node.name], 0) + 1
                else:
                    streak[node.name] = min(streak[node.name], 0) - 1
                # Out only while another node is healthy now and still in the balancer.
                others = any(
                    ok[n.name] and not n.down for n in self.balancer.nodes if n is not node
                )
                if not node.down and streak[node.name] <= -self.fails and others:
                    self.balancer.set_down(node, True)
                    self.events.append((time.time(), node.name, "down"))
                elif node.down and streak[node.name] >= self.rises:
                    self.balancer.set_down(node, False)
                    self.events.append((time.time(), node.name, "up"))

    def stop(self):
        self.stopping.set()
        self.join(timeout=30)


# --- One deployment: database, PgBouncer, nodes, nginx ---------------------------------


class Deployment:
    """Everything of one run, started by start() and stopped by stop()."""

    def __init__(self, args, tools, workdir, label, nodes=2):
        self.args, self.tools, self.label = args, tools, label
        self.folder = workdir / label
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o755)  # nginx's workers and PgBouncer run as other users
        self.database = args.database
        self.plan = str(self.folder / "plan.json")
        self.results = str(self.folder / "results.json")
        self.bouncer = Bouncer(
            tools["pgbouncer"],
            self.folder / "pgbouncer",
            args.pgbouncer_port,
            args.pg,
            args.database,
        )
        self.direct_env = app_env(f"{args.pg}/{args.database}", args.redis)
        env = app_env(self.bouncer.url, args.redis, args.workers)
        env["DATABASE_DISABLE_SERVER_SIDE_CURSORS"] = "true"
        env["CONN_MAX_AGE"] = str(args.conn_max_age)
        if not self.bouncer.prepared:
            env["DATABASE_PREPARE_THRESHOLD"] = "0"
        self.node_env = env
        self.nodes = [
            Node(name, port, core, env, tools["taskset"], self.folder / f"node-{name}.log")
            for name, port, core in (("a", args.node_ports[0], 0), ("b", args.node_ports[1], 1))
        ][:nodes]
        self.balancer = Balancer(tools["nginx"], self.folder / "nginx", args.port, self.nodes)
        self.checker = HealthChecker(self.balancer)

    def prepare(self, officials):
        with contextlib.redirect_stdout(io.StringIO()):
            prepare_database(
                self.args.pg, self.database, self.args.redis, officials, self.plan, TEMPLATE
            )
        flush_redis(self.args.redis)

    def start(self):
        self.bouncer.start()
        for node in self.nodes:
            node.start(wait=False)
        for node in self.nodes:
            node.wait_ready()
        self.balancer.start()
        self.checker.start()

    def stop(self):
        if self.checker.is_alive():
            self.checker.stop()
        self.balancer.stop()
        for node in self.nodes:
            node.kill()
        self.bouncer.stop()

    def log_tails(self, lines=25):
        """The end of each node's error log that holds a traceback."""
        tails = []
        for node in self.nodes:
            text = node.log_path.read_text(errors="replace") if node.log_path.exists() else ""
            if "Traceback" in text:
                tails.append(f"--- node {node.name}'s log, last lines:")
                tails.extend(text.splitlines()[-lines:])
        return "\n".join(tails)

    def tracebacks(self):
        return sum(
            n.log_path.read_text(errors="replace").count("Traceback")
            for n in self.nodes
            if n.log_path.exists()
        )


# --- CPU, per part ---------------------------------------------------------------------


def _processes():
    """{pid: (parent, name, own ticks, reaped children's ticks)} from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks = [int(f) for f in fields[11:15]]
        found[int(entry.name)] = (int(fields[1]), name, ticks[0] + ticks[1], ticks[2] + ticks[3])
    return found


def cpu_ticks(deployment):
    """CPU ticks so far by part: each node (its master, live workers and those it
    reaped), PgBouncer, nginx, PostgreSQL (every database of the server), Redis and
    the machine (busy ticks). Empty without /proc."""
    if not Path("/proc/stat").exists():
        return {}
    procs = _processes()
    masters = {
        n.process.pid: f"node {n.name}"
        for n in deployment.nodes
        if n.process is not None and n.process.poll() is None
    }
    parts = dict.fromkeys([*masters.values(), "pgbouncer", "nginx", "postgres", "redis"], 0)
    for pid, (parent, name, own, reaped) in procs.items():
        if pid in masters:
            parts[masters[pid]] += own + reaped
        elif parent in masters:
            parts[masters[parent]] += own
        elif name == "pgbouncer":
            parts["pgbouncer"] += own
        elif name == "nginx":
            parts["nginx"] += own + reaped
        elif name == "postgres":
            root = procs.get(parent, (0, ""))[1] != "postgres"
            parts["postgres"] += own + (reaped if root else 0)
        elif name.startswith("redis-server"):
            parts["redis"] += own
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    parts["machine"] = sum(values) - values[3] - values[4]
    return parts


def cpu_used(before, after, loadgen_seconds, elapsed):
    """Cores used on average by part between two cpu_ticks, "other" being what the
    machine spent outside this bench's processes (a shared machine's other work)."""
    if not before:
        return {}
    hertz = os.sysconf("SC_CLK_TCK")
    # A node killed in between took its ticks with it: nothing is counted for it.
    used = {k: max(0, after.get(k, 0) - before[k]) / hertz / elapsed for k in before}
    used["load generator"] = loadgen_seconds / elapsed
    used["other"] = max(0.0, used["machine"] - sum(v for k, v in used.items() if k != "machine"))
    return used


def cpu_line(used):
    if not used:
        return "CPU: no /proc"
    shares = ", ".join(f"{k} {v:.2f}" for k, v in used.items() if k != "machine")
    line = f"CPU (cores on average, of {os.cpu_count()}): {used['machine']:.2f} in all: {shares}"
    if used["other"] > 0.25 * (os.cpu_count() or 1):
        # Processes that are not this bench's: a shared machine's figures are low.
        line += f"  [machine busy: {used['other']:.2f} cores went to other processes]"
    return line


# --- One load run ----------------------------------------------------------------------


def load_args(officials, ramp, duration, save_every, connections, seconds_max):
    return SimpleNamespace(
        officials=officials,
        ramp=ramp,
        duration=duration,
        save_every=save_every,
        connections=connections,
        max_seconds=seconds_max,
    )


def run_load(deployment, shape, extra=(), during=None):
    """Run exam_load.py against nginx with `shape` (load_args); `during(t0)` in a
    thread while it runs. (results, elapsed s, CPU line)."""
    command = load_command(
        deployment.args.port, deployment.plan, deployment.results, shape, list(extra)
    )
    before = cpu_ticks(deployment)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    started, t0 = time.perf_counter(), time.time()
    thread = None
    if during is not None:
        thread = threading.Thread(target=during, args=(t0,), daemon=True)
        thread.start()
    subprocess.run(command, cwd=ROOT, check=True)
    elapsed = time.perf_counter() - started
    after = cpu_ticks(deployment)
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    loadgen = done.ru_utime + done.ru_stime - children.ru_utime - children.ru_stime
    if thread is not None:
        thread.join(timeout=180)
    with open(deployment.results) as fh:
        results = json.load(fh)
    return results, elapsed, cpu_used(before, after, loadgen, elapsed)


def judge_targets(results):
    """exam_day's judgement of a run: (errors, worst p95, its endpoint, table text)."""
    table = io.StringIO()
    with contextlib.redirect_stdout(table):
        errors, worst = report(results)
    errors += results["connection_error_count"] + len(results["failed_officials"])
    errors += results.get("unfinished_officials", 0)
    slowest = max(results["endpoints"].items(), key=lambda item: item[1]["p95"], default=("-", {}))
    return errors, worst, slowest[0], table.getvalue()


def quiet_verify(deployment, resumable=False):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        summary = verify(deployment.direct_env, deployment.plan, deployment.results, resumable)
    return summary


# --- Requests per node, from nginx's access log -----------------------------------------


def served_per_node(access_log, nodes, phases):
    """Per phase (name, start, end epoch seconds): requests each node answered, the
    requests nginx passed on to the other node after a failure (counted where they
    were answered), and the 5xx the clients got (nginx's 502/504 and the app's 500s)."""
    by_port = {f"127.0.0.1:{n.port}": n.name for n in nodes}
    rows = {
        name: {
            "seconds": end - start,
            "served": dict.fromkeys(by_port.values(), 0),
            "moved": 0,
            "5xx": 0,
            "balancer 5xx": 0,
        }
        for name, start, end in phases
    }
    if not access_log.exists():
        return rows
    for line in access_log.read_text(errors="replace").splitlines():
        fields = line.split("|")
        if len(fields) < 7:
            continue
        when, tried, upstream_status, status = float(fields[0]), fields[1], fields[2], fields[3]
        phase = next((name for name, start, end in phases if start <= when < end), None)
        if phase is None:
            continue
        row = rows[phase]
        addresses = [a.strip() for a in re.split(r"[,:]\s", tried) if a.strip()]
        last_status = upstream_status.replace(":", ",").split(",")[-1].strip()
        if status.startswith("5"):
            row["5xx"] += 1
        if last_status in {"502", "504", "-", ""} or addresses[-1] not in by_port:
            row["balancer 5xx"] += status.startswith("5")
            continue
        row["served"][by_port[addresses[-1]]] += 1
        row["moved"] += len(addresses) > 1
    return rows


def print_phases(rows, nodes):
    names = [n.name for n in nodes]
    header = f"{'phase':<26}{'s':>6}" + "".join(f"{'node ' + n:>16}" for n in names)
    print(header + f"{'retried on other':>18}{'5xx to clients':>16}")
    for phase, row in rows.items():
        seconds = max(row["seconds"], 0.001)
        cells = "".join(
            f"{row['served'][n]:>8} {row['served'][n] / seconds:>5.1f}/s" for n in names
        )
        print(f"{phase:<26}{row['seconds']:>6.1f}{cells}{row['moved']:>18}{row['5xx']:>16}")


# --- Scenarios ------------------------------------------------------------------------


def capacity_trial(args, tools, workdir, nodes, officials):
    """One run of `officials` on `nodes` nodes at the capacity shape; a result dict."""
    ramp = args.cap_ramp
    save_every = REAL_SAVE_EVERY * ramp / REAL_RAMP
    duration = args.cap_duration or ramp
    label = f"cap-{nodes}-{officials}"
    deployment = Deployment(args, tools, workdir, label, nodes)
    deployment.prepare(officials)
    try:
        deployment.start()
        shape = load_args(
            officials, ramp, duration, save_every, args.connections, ramp + duration + 300
        )
        results, elapsed, cpu = run_load(deployment, shape)
        stats = deployment.bouncer.stats()
    finally:
        deployment.stop()
    errors, worst, slowest, table = judge_targets(results)
    summary = quiet_verify(deployment)
    lost = summary["lost_answers"]
    ok = errors == 0 and lost == 0 and not summary["problems"] and worst < P95_TARGET_MS
    total = sum(e["count"] for e in results["endpoints"].values())
    node_cores = sum(v for k, v in cpu.items() if k.startswith("node "))
    node_ms = node_cores * elapsed * 1000 / max(1, total)
    xacts = int(stats.get("total_xact_count", 0) or 0)
    wait_us = int(stats.get("total_wait_time", 0) or 0)
    result = {
        "nodes": nodes,
        "officials": officials,
        "equivalent": round(officials * REAL_RAMP / ramp),
        "ok": ok,
        "rps": total / elapsed,
        "worst": worst,
        "slowest": slowest,
        "errors": errors,
        "lost": lost,
        "problems": summary["problems"],
        "cpu": cpu,
        "node_ms": node_ms,
        "ceiling": 1000 / node_ms / PEAK_REQUESTS_PER_OFFICIAL if node_ms else 0,
        "pool_wait_ms": wait_us / 1000 / max(1, xacts),
        "tracebacks": deployment.tracebacks(),
        # The active check taking a node out under load alone would be a false alarm.
        "checker": [f"{n} {w}" for _t, n, w in deployment.checker.events],
    }
    log(
        f"{'PASS' if ok else 'FAIL'} capacity {nodes} node(s), {officials} officials "
        f"(= {result['equivalent']} per 2-min ramp): {result['rps']:.0f} req/s, worst p95 "
        f"{worst:.0f} ms ({slowest}), {errors} errors, {lost} lost, app CPU "
        f"{node_ms:.1f} ms/request, PgBouncer wait {result['pool_wait_ms']:.2f} ms/transaction, "
        f"active check {result['checker'] or 'quiet'}, problems {summary['problems'] or 'none'}"
    )
    if args.verbose or not ok:
        print(table.rstrip())
    print(f"  {cpu_line(cpu)}", flush=True)
    return result


def round_to(value, step=10):
    return max(step, int(round(value / step)) * step)


def search_capacity(args, tools, workdir, nodes, start):
    """Largest passing count within --cap-trials runs: double until a FAIL (or
    --cap-max), halve until a PASS, then bisect. (largest PASS, smallest FAIL, runs)."""
    passed, failed, runs = 0, None, []
    officials = round_to(min(start, args.cap_max))
    for _trial in range(args.cap_trials):
        run = capacity_trial(args, tools, workdir, nodes, officials)
        runs.append(run)
        if run["ok"]:
            passed = officials
            if failed is None:
                if officials >= args.cap_max:
                    break
                officials = round_to(min(args.cap_max, officials * 2))
            else:
                officials = round_to((passed + failed) / 2)
        else:
            failed = officials
            officials = round_to(officials / 2) if not passed else round_to((passed + failed) / 2)
        if failed is not None and (
            officials in {passed, failed} or failed - passed <= max(10, passed // 10)
        ):
            break
    return passed, failed, runs


def scenario_capacity(args, tools, workdir):
    log(
        f"capacity: ramp {args.cap_ramp:.0f} s, saves every "
        f"{REAL_SAVE_EVERY * args.cap_ramp / REAL_RAMP:.1f} s for "
        f"{args.cap_duration or args.cap_ramp:.0f} s, {args.workers} workers a node; "
        f"counts are also given per 2-minute ramp (x {REAL_RAMP / args.cap_ramp:.2f})"
    )
    found = {}
    start = args.cap_start
    for nodes in (1, 2):
        passed, failed, runs = search_capacity(args, tools, workdir, nodes, start * nodes)
        found[nodes] = (passed, failed, runs)
        if passed:
            start = passed  # two nodes: start from twice one node's figure
    scale = REAL_RAMP / args.cap_ramp
    print(f"\nCapacity (exam-day targets: p95 < {P95_TARGET_MS} ms, 0 errors, 0 lost)")
    print(
        f"{'nodes':>5}{'largest PASS':>14}{'first FAIL':>12}{'per 2-min ramp':>16}"
        f"{'per app core':>14}{'req/s at PASS':>15}{'app ms/req':>12}{'CPU ceiling/core':>18}"
        f"{'runs':>6}"
    )
    for nodes, (passed, failed, runs) in found.items():
        best = next((r for r in runs if r["ok"] and r["officials"] == passed), None)
        node_ms = sorted(r["node_ms"] for r in runs)[len(runs) // 2]
        ceiling = 1000 / node_ms / PEAK_REQUESTS_PER_OFFICIAL if node_ms else 0
        print(
            f"{nodes:>5}{passed:>14}{failed if failed else '-':>12}"
            f"{round(passed * scale):>16}{round(passed * scale / nodes):>14}"
            f"{(best['rps'] if best else 0):>15.0f}{node_ms:>12.1f}{ceiling:>18.0f}{len(runs):>6}"
        )
    print(
        "(per 2-min ramp: the largest PASS x 120 / ramp; app ms/req: the nodes' CPU per "
        "request, median of the runs; CPU ceiling/core: officials per 2-minute ramp that "
        "would keep one app core 100% busy at the ramp's peak, the database elsewhere)"
    )
    one, two = found[1][0], found[2][0]
    ok = one > 0 and two > 0
    ratio = f"{two / one:.2f}x" if one else "-"
    verdict = (
        f"{'PASS' if ok else 'FAIL'} capacity: one node {round(one * scale)}, two nodes "
        f"{round(two * scale)} officials per 2-minute ramp ({ratio})"
    )
    print(verdict, flush=True)
    return ok, verdict


def fault_scenario(args, tools, workdir, name, fault, phase_names):
    """Two nodes, the fault shape, `fault(deployment, t0, marks)` in a thread while the
    officials run; then the guarantees and requests served per node per phase."""
    deployment = Deployment(args, tools, workdir, name, 2)
    deployment.prepare(args.officials)
    marks = {}
    state = {}

    def during(t0):
        try:
            fault(deployment, t0, marks)
        except BaseException as error:  # a fault that failed is a failed test, not a hang
            state["failed"] = repr(error)

    shape = load_args(
        args.officials,
        args.ramp,
        args.duration,
        args.save_every,
        args.connections,
        args.ramp + args.duration + args.retry_for + 120,
    )
    extra = ["--resume", "--retry-for", str(args.retry_for)]
    try:
        deployment.start()
        t_start = time.time()
        results, elapsed, cpu = run_load(deployment, shape, extra, during)
        t_end = time.time() + 1
    finally:
        deployment.stop()
    summary = quiet_verify(deployment, resumable=True)
    errors, worst, _slowest, table = judge_targets(results)
    finished = len(results["resumed"])
    statuses = {}
    for endpoint in results["endpoints"].values():
        for status, count in endpoint["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    names = [phase_names[0], *[p for p in phase_names[1:] if marks.get(p, t_end) < t_end]]
    edges = [t_start, *[marks[p] for p in names[1:]], t_end]
    phases = [(names[i], edges[i], edges[i + 1]) for i in range(len(names))]
    rows = served_per_node(deployment.balancer.access_log, deployment.nodes, phases)
    print(f"\n{name}: {'; '.join(marks.get('events', []))}")
    if args.verbose:
        print(table.rstrip())
    print_phases(rows, deployment.nodes)
    print(f"  {cpu_line(cpu)}")
    failures = []
    if state.get("failed"):
        failures.append(f"the fault itself failed: {state['failed']}")
    if finished != args.officials:
        failures.append(f"{finished}/{args.officials} officials finished")
    for key in ("failed_officials", "failed_saves", "failed_submits"):
        if results[key]:
            failures.append(f"{len(results[key])} {key.replace('_', ' ')}, e.g. {results[key][:2]}")
    if summary["lost_answers"]:
        failures.append(f"{summary['lost_answers']} acknowledged answers lost")
    failures += summary["problems"]
    return deployment, rows, failures, (results, summary, statuses, elapsed)


def scenario_kill(args, tools, workdir):
    victim = "b"
    phase_names = ["before the kill", f"{victim} killed", f"{victim} back in nginx"]

    def fault(deployment, t0, marks):
        node = next(n for n in deployment.nodes if n.name == victim)
        events = marks.setdefault("events", [])
        time.sleep(max(0.0, t0 + args.fault_at * args.ramp - time.time()))
        node.kill()
        killed = marks[phase_names[1]] = time.time()
        events.append(f"kill -9 of node {victim} at {killed - t0:.1f} s")
        time.sleep(args.down)
        started = time.time()
        events.append(f"restarted at {started - t0:.1f} s")
        node.start(wait=True)
        back = time.time()
        events.append(f"answering /healthz after {back - started:.1f} s")
        # Back in the balancer: the active check's "up", or at once when it never
        # took the node out (passive checks alone).
        while node.down and time.time() < back + 60:
            time.sleep(0.1)
        marks[phase_names[2]] = time.time()
        downs = [t for t, n, what in deployment.checker.events if n == victim and what == "down"]
        events.insert(
            1,
            "the active check took it out of nginx "
            + (f"{downs[0] - killed:.1f} s later" if downs else "- never (passive checks only)"),
        )
        events.append(f"back in nginx at {marks[phase_names[2]] - t0:.1f} s")

    deployment, rows, failures, (results, summary, statuses, elapsed) = fault_scenario(
        args, tools, workdir, "kill", fault, phase_names
    )
    down_row = rows.get(phase_names[1])
    after_row = rows.get(phase_names[2])
    if down_row is None or after_row is None:
        failures.append("the node was not killed and restarted within the run")
    else:
        if down_row["served"]["a"] == 0:
            failures.append("node a served nothing while b was down")
        if after_row["served"][victim] == 0:
            failures.append(f"node {victim} served nothing after rejoining")
    return finish("kill", failures, results, summary, statuses, deployment, elapsed)


def scenario_pgbouncer(args, tools, workdir):
    phase_names = ["before the restart", "PgBouncer down", "after the restart"]

    def fault(deployment, t0, marks):
        events = marks.setdefault("events", [])
        time.sleep(max(0.0, t0 + args.fault_at * args.ramp - time.time()))
        deployment.bouncer.stop()
        stopped = marks[phase_names[1]] = time.time()
        version = ".".join(map(str, deployment.bouncer.version))
        events.append(f"PgBouncer {version} shut down at once at {stopped - t0:.1f} s")
        time.sleep(args.pgbouncer_down)
        deployment.bouncer.start()
        marks[phase_names[2]] = time.time()
        events.append(f"listening again at {marks[phase_names[2]] - t0:.1f} s")
        time.sleep(5)  # what the active check did meanwhile
        taken = [(round(t - t0, 1), n, w) for t, n, w in deployment.checker.events]
        events.append(f"active check: {taken}" if taken else "the active check took no node out")

    deployment, rows, failures, (results, summary, statuses, elapsed) = fault_scenario(
        args, tools, workdir, "pgbouncer", fault, phase_names
    )
    after_row = rows.get(phase_names[2])
    if after_row is None:
        failures.append("PgBouncer was not restarted within the run")
    else:
        for node in deployment.nodes:
            if after_row["served"][node.name] == 0:
                failures.append(f"node {node.name} served nothing after the restart")
    return finish("pgbouncer", failures, results, summary, statuses, deployment, elapsed)


def finish(name, failures, results, summary, statuses, deployment, elapsed):
    failed = sum(n for s, n in statuses.items() if s == "0" or s.startswith("5"))
    broken = results["connection_error_count"]
    if failed:
        seen = (
            f"{failed} failed responses reached the clients ({broken} connection errors or "
            f"cut replies, {failed - broken} 5xx), each retried until it succeeded"
        )
    else:
        seen = "no failed response reached the clients"
    verdict = (
        f"{'PASS' if not failures else 'FAIL'} {name}: {len(results['resumed'])} officials "
        f"finished in {elapsed:.0f} s and resumed their own attempt, "
        f"{summary['acknowledged_answers']} acknowledged answers, {summary['lost_answers']} "
        f"lost, {summary['submitted_attempts']} graded once; {seen}; responses {statuses}; "
        f"{deployment.tracebacks()} tracebacks in the nodes' logs"
        + (f"; {'; '.join(failures)}" if failures else "")
    )
    print(verdict, flush=True)
    if failures and deployment.tracebacks():
        print(deployment.log_tails(), flush=True)
    return not failures, verdict


# --- Main ------------------------------------------------------------------------------


def _template_usable(args):
    """Whether the kept template has the demo's open annual exam for a day yet (the
    demo data opens it for 30 days from when it was loaded)."""
    out = subprocess.run(
        ["psql", f"{args.pg}/{TEMPLATE}", "-Atc"]
        + [
            "SELECT count(*) FROM exams_examsession WHERE kind = 'annual' AND for_everyone "
            "AND opens_at < now() AND closes_at > now() + interval '1 day'"
        ],
        capture_output=True,
        text=True,
    )
    return out.returncode == 0 and out.stdout.strip() not in {"", "0"}


def ensure_template(args):
    """The template database, migrated with the demo data: made when missing, stale
    (its annual exam about to close) or with --fresh-template; else brought up to the
    current migrations. Static files collected (the production settings' manifest)."""
    env = app_env(f"{args.pg}/{TEMPLATE}", args.redis)
    started = time.perf_counter()
    if not args.fresh_template and _template_usable(args):
        manage(env, "migrate", "--noinput")
    else:
        psql(args.pg, f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        psql(args.pg, f'CREATE DATABASE "{TEMPLATE}"')
        manage(env, "migrate", "--noinput")
        manage(env, "load_demo_data")
    collect_static(env)
    log(f"template database {TEMPLATE} ready in {time.perf_counter() - started:.0f} s")


SCENARIOS = {"capacity": scenario_capacity, "kill": scenario_kill, "pgbouncer": scenario_pgbouncer}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("scenarios", nargs="*", help="capacity, kill, pgbouncer (default: all)")
    parser.add_argument("--quick", action="store_true", help="CI: kill and pgbouncer, small")
    parser.add_argument("--install", action="store_true", help="apt-get install what is missing")
    parser.add_argument("--verbose", action="store_true", help="per-endpoint tables of every run")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="xuefa_scale_out")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--port", type=int, default=8330, help="nginx")
    parser.add_argument("--node-ports", type=int, nargs=2, default=[8331, 8332])
    parser.add_argument("--pgbouncer-port", type=int, default=6437)
    parser.add_argument(
        "--workers", type=int, default=3, help="gunicorn workers a node (2 x 1 + 1)"
    )
    parser.add_argument("--conn-max-age", type=int, default=60, help="the app's CONN_MAX_AGE")
    parser.add_argument("--connections", type=int, default=64, help="requests in flight at most")
    # The faults' shape.
    parser.add_argument("--officials", type=int, default=600)
    parser.add_argument("--ramp", type=float, default=60)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--save-every", type=float, default=10)
    parser.add_argument("--retry-for", type=float, default=120)
    parser.add_argument("--fault-at", type=float, default=0.5, help="share of the ramp")
    parser.add_argument("--down", type=float, default=10, help="s the killed node stays down")
    parser.add_argument("--pgbouncer-down", type=float, default=2)
    # The capacity search.
    parser.add_argument("--cap-ramp", type=float, default=REAL_RAMP)
    parser.add_argument("--cap-duration", type=float, help="saving s (default: the ramp)")
    parser.add_argument("--cap-start", type=int, default=500, help="officials a node, first run")
    parser.add_argument("--cap-max", type=int, default=20000)
    parser.add_argument("--cap-trials", type=int, default=4, help="runs per node count")
    parser.add_argument("--fresh-template", action="store_true")
    parser.add_argument("--keep-template", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the run's files and database")
    args = parser.parse_args()
    if args.quick:
        args.scenarios = args.scenarios or ["kill", "pgbouncer"]
        quick = {"officials": 60, "ramp": 12, "duration": 16, "save_every": 2, "down": 4}
        for key, value in quick.items():
            if getattr(args, key) == parser.get_default(key):
                setattr(args, key, value)
    args.scenarios = args.scenarios or list(SCENARIOS)
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}: choose from {list(SCENARIOS)}")
    return args


def main():
    args = parse_args()
    tools = check_tools(args.install)
    busy = [p for p in (args.port, *args.node_ports, args.pgbouncer_port) if not port_free(p)]
    if busy:
        raise SystemExit(
            f"Ports already in use: {busy} (see --port, --node-ports, --pgbouncer-port)"
        )
    version = pgbouncer_version(tools["pgbouncer"])
    print(
        f"scale-out: {', '.join(args.scenarios)}; nginx {tools['nginx']}, PgBouncer "
        f"{'.'.join(map(str, version))} ("
        + (
            "max_prepared_statements"
            if version >= (1, 22)
            else "too old for prepared statements: DATABASE_PREPARE_THRESHOLD=0"
        )
        + f"), Redis {args.redis}, PostgreSQL {args.pg}/{args.database}; "
        f"machine: {os.cpu_count()} cores, reference loop {reference_ms():.0f} ms",
        flush=True,
    )
    # A SIGTERM (CI's time limit, Ctrl-C) still cleans up: the finally below runs.
    signal.signal(signal.SIGTERM, lambda *_a: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="xuefa-scaleout-"))
    workdir.chmod(0o755)
    verdicts = []
    try:
        ensure_template(args)
        for name in args.scenarios:
            verdicts.append(SCENARIOS[name](args, tools, workdir))
    finally:
        if not args.keep:
            psql(args.pg, f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept: {workdir} and database {args.database}")
        if not args.keep_template:
            psql(args.pg, f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    print(f"\nmachine: reference loop {reference_ms():.0f} ms after the runs")
    print("\n".join(line for _ok, line in verdicts))
    sys.exit(0 if verdicts and all(ok for ok, _line in verdicts) else 1)


if __name__ == "__main__":
    main()
