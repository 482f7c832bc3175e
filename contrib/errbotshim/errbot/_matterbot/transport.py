"""The long-lived exec-plugin protocol (docs/exec-plugins.md §5, §7) over
standard input and output, for one Errbot plugin.

    matterbot-errbot /path/to/hello.plug

matterbot runs this with ``[exec] errbot_runner`` (§11): a ``hello`` with
``describe: true`` is answered with the plugin's manifest; otherwise the
plugin is configured and activated, and each request runs in its own
thread. Standard output carries the protocol only: the plugin's own
prints (and those of the programs it starts) go to standard error, which
matterbot logs with the plugin's name; its logging goes to ``log`` lines.
"""

import json
import logging
from concurrent.futures import ThreadPoolExecutor
import os
import sys
import threading
import traceback

from ..botplugin import ValidationException
from .runtime import (NO_MATCH, CallError, Host, LoadError, NotFound, Runtime, Unsupported,
                      current_request, find_plug)

PROTOCOL = 1

_LEVELS = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn",
           logging.ERROR: "error", logging.CRITICAL: "error"}


class _LogHandler(logging.Handler):
    """Python logging records as the protocol's log lines."""

    def __init__(self, transport):
        super().__init__(logging.DEBUG)
        self.t = transport

    def emit(self, record):
        try:
            msg = record.getMessage()
            if record.exc_info:
                msg += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            line = {"type": "log", "level": _LEVELS.get(record.levelno, "info"), "msg": msg,
                    "attrs": {"logger": record.name}}
            rid = current_request()
            if rid:
                line["id"] = rid
            self.t.write(line)
        except Exception:  # a log line must never break the plugin
            self.handleError(record)


class _Call:
    __slots__ = ("event", "value", "error")

    def __init__(self):
        self.event = threading.Event()
        self.value = None
        self.error = None


class Transport(Host):
    """Reads the bot's lines from rfile, writes the plugin's to wfile (both
    binary), and runs the Runtime of plug."""

    def __init__(self, plug, rfile, wfile, errfile=None, runtime=None):
        self.plug = plug
        self.rfile = rfile
        self.wfile = wfile
        self.errfile = errfile or sys.stderr
        self.runtime = runtime or Runtime(plug, self)
        self._wlock = threading.Lock()
        self._calls = {}
        self._clock = threading.Lock()
        self._seq = 0
        self._closed = False
        self._open = {}          # request id -> "running" | "done"
        self._olock = threading.Lock()
        self._executor = None
        self._concurrency = 16
        self.exit_code = 0
        # exit ends the process (os._exit: the reading thread is blocked in
        # a read, and request threads may still run). Tests replace it.
        self.exit = os._exit

    # Output.
    def write(self, obj):
        data = (json.dumps(obj, separators=(",", ":")) + "\n").encode("utf-8")
        with self._wlock:
            self.wfile.write(data)
            self.wfile.flush()

    def _fatal(self, text):
        """Before ready: say why on standard error and stop (the bot shows
        the last lines of standard error with the failure)."""
        self.errfile.write(text.rstrip() + "\n")
        self.errfile.flush()
        self.exit_code = 1
        try:
            with self._wlock:
                self.wfile.flush()
        finally:
            self.exit(1)

    # Calls (§7). The bot answers them until the process exits, those of
    # the deactivate hook included (it keeps standard input open after
    # "deactivate"); once standard input is closed, none can be answered.
    def call(self, method, params):
        with self._clock:
            if self._closed:
                raise CallError("cancelled", "%s: the bot closed standard input" % method)
            self._seq += 1
            cid = "c%d" % self._seq
            c = _Call()
            self._calls[cid] = c
        self.write({"type": "call", "call": cid, "method": method, "params": params})
        c.event.wait()
        if c.error is not None:
            code = c.error.get("code", "failed")
            msg = c.error.get("message", "")
            if code == "not_found":
                raise NotFound(msg)
            if code == "unsupported":
                raise Unsupported(msg)
            raise CallError(code, "%s: %s" % (method, msg))
        return c.value

    def _result(self, m):
        with self._clock:
            c = self._calls.pop(m.get("call"), None)
        if c is None:
            return
        c.value = m.get("value")
        c.error = m.get("error")
        c.event.set()

    def _fail_calls(self):
        with self._clock:
            self._closed = True
            calls, self._calls = self._calls, {}
        for c in calls.values():
            c.error = {"code": "cancelled", "message": "the bot closed standard input"}
            c.event.set()

    # Host.
    def store_get(self, key):
        v = self.call("store.get", {"key": key}) or {}
        return bool(v.get("found")), v.get("value")

    def store_set(self, key, value):
        self.call("store.set", {"key": key, "value": value})

    def store_delete(self, key):
        self.call("store.delete", {"key": key})

    def store_keys(self, prefix=""):
        return (self.call("store.keys", {"prefix": prefix}) or {}).get("keys") or []

    def send(self, to, text=None, card=None, file=None, thread_id=None, request=None):
        p = {"to": to}
        if text is not None:
            p["text"] = text
        if card is not None:
            p["card"] = card
        if file is not None:
            p["file"] = file
        if thread_id:
            p["thread_id"] = thread_id
        if request and self._is_open(request):
            p["id"] = request
        self.call("send", p)

    def user(self, name):
        return self.call("user", {"name": name})

    def room(self, name):
        return self.call("room", {"name": name})

    # Requests.
    def _is_open(self, rid):
        with self._olock:
            return self._open.get(rid) == "running"

    def _finish(self, rid, error=None):
        """Write rid's done, once. error is None, the done's error object,
        or NO_MATCH."""
        with self._olock:
            if self._open.get(rid) != "running":
                return
            self._open[rid] = "done"
        d = {"type": "done", "id": rid}
        if error is NO_MATCH:
            d["no_match"] = True
        elif error:
            d["error"] = error
        self.write(d)

    def _serve(self, req):
        rid = req["id"]

        def out(reply):
            if self._is_open(rid):
                reply = dict(reply, id=rid)
                self.write(reply)
        try:
            err = self.runtime.handle(req, out)
        except Exception as e:  # the runtime's own failure
            err = {"message": "errbot shim: %s\n%s" % (e, traceback.format_exc())}
        self._finish(rid, err)
        with self._olock:
            self._open.pop(rid, None)

    def _request(self, req):
        rid = req.get("id")
        if not rid:
            return
        with self._olock:
            self._open[rid] = "running"
        self._pool().submit(self._serve, req)

    def _pool(self):
        """The threads requests run in, made as needed and kept (a thread
        per request costs more than the rest of the round trip). Room for
        four times what the bot sends at once (hello's
        limits.concurrency): a cancelled command's thread runs on while
        the bot already sends the next request."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=4 * self._concurrency,
                                                thread_name_prefix="request")
        return self._executor

    def _cancel(self, m):
        # A thread cannot be stopped from outside: the request is closed now
        # (what the plugin still sends for it is dropped); its thread runs on.
        self._finish(m.get("id"))

    # Life.
    def _hello(self, m):
        if m.get("protocol") != PROTOCOL:
            self._fatal("errbot shim: hello speaks protocol %r; this shim speaks %d" % (
                m.get("protocol"), PROTOCOL))
        try:
            self.runtime.load(m)
        except LoadError as e:
            self._fatal("errbot shim: %s" % e)
        if m.get("describe"):
            manifest = self.runtime.manifest()
            for w in self.runtime.warnings:
                self.write({"type": "log", "level": "warn", "msg": w})
            self.write({"type": "ready", "protocol": PROTOCOL, "manifest": manifest})
            return
        for w in self.runtime.warnings:
            self.write({"type": "log", "level": "warn", "msg": w})
        try:
            self.runtime.configure(m.get("config") or {})
        except ValidationException as e:
            self._fatal("errbot shim: the configuration of %s does not fit its template: %s" % (
                self.runtime.info.name, e))
        except Exception as e:
            self._fatal("errbot shim: configuring %s: %s\n%s" % (
                self.runtime.info.name, e, traceback.format_exc()))
        try:
            self.runtime.activate()
        except Exception as e:
            self._fatal("errbot shim: activating %s: %s\n%s" % (
                self.runtime.info.name, e, traceback.format_exc()))
        self.write({"type": "ready", "protocol": PROTOCOL})

    def _deactivate(self):
        try:
            self.runtime.deactivate()
        except Exception:
            logging.getLogger("errbot.matterbot").exception("deactivate failed")

    def _deactivate_and_exit(self):
        """§5.1: the process runs its deactivate hook and exits. The hook
        may use the store (Errbot plugins save their state there): the bot
        answers its calls until the process exits."""
        self._deactivate()
        with self._wlock:
            self.wfile.flush()
        self.exit(self.exit_code)

    def run(self):
        """Serve until standard input ends; return the exit status."""
        started = []
        while True:
            line = self.rfile.readline()
            if not line:
                break
            line = line.strip()
            if not line:
                continue
            try:
                m = json.loads(line.decode("utf-8"))
            except ValueError:
                logging.getLogger("errbot.matterbot").warning("a line that is not JSON: %.200r", line)
                continue
            if not isinstance(m, dict):
                continue
            t = m.get("type")
            if t == "hello":
                limit = (m.get("limits") or {}).get("concurrency")
                if isinstance(limit, int) and limit > 0:
                    self._concurrency = limit
                # activate() may call the store: serve its results meanwhile.
                th = threading.Thread(target=self._hello, args=(m,), name="hello", daemon=True)
                th.start()
                started.append(th)
            elif t == "request":
                self._request(m)
            elif t == "result":
                self._result(m)
            elif t == "cancel":
                self._cancel(m)
            elif t == "bot":
                self.runtime.learn(m.get("bot") or {})
            elif t == "deactivate":
                th = threading.Thread(target=self._deactivate_and_exit, name="deactivate",
                                      daemon=True)
                th.start()
                started.append(th)
            # other types: ignored (§10)
        self._fail_calls()
        for th in started:
            th.join(timeout=4)
        self._deactivate()
        return self.exit_code


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] in ("-h", "--help"):
        sys.stderr.write("usage: matterbot-errbot PLUGIN.plug (or the plugin's directory)\n"
                         "Runs an Errbot plugin as a matterbot exec plugin "
                         "(docs/exec-plugins.md §11).\n")
        return 2
    try:
        plug = find_plug(argv[0])
    except LoadError as e:
        sys.stderr.write("errbot shim: %s\n" % e)
        return 1
    # Keep the protocol's streams to ourselves: the plugin's prints, and
    # the programs it starts, write to standard error and read nothing.
    rfile = os.fdopen(os.dup(0), "rb", buffering=0)
    wfile = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    rfile = _LineReader(rfile)
    t = Transport(plug, rfile, wfile)
    root = logging.getLogger()
    root.handlers[:] = [_LogHandler(t)]
    root.setLevel(logging.INFO)
    logging.getLogger("errbot").setLevel(logging.DEBUG)
    code = t.run()
    # Exit now: a command still running (cancelled, stuck) must not keep
    # the process alive, and the request pool's threads would be joined.
    sys.stderr.flush()
    with t._wlock:
        wfile.flush()
    os._exit(code)


class _LineReader:
    """readline on an unbuffered binary file, without reading past a line
    (so nothing is lost if the file is handed on)."""

    def __init__(self, f):
        self._f = f
        self._buf = b""

    def readline(self):
        while b"\n" not in self._buf:
            chunk = self._f.read(65536)
            if not chunk:
                line, self._buf = self._buf, b""
                return line
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line + b"\n"
