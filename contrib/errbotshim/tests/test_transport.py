"""The runner as matterbot runs it: a child process speaking the
long-lived protocol (docs/exec-plugins.md §5, §7, §11) on its standard
input and output."""

import json
import queue
import subprocess
import sys
import threading
import unittest

from support import EXAMPLES, HERE, ROOT

RUNNER = ROOT / "matterbot-errbot"
PLUGINS = HERE / "plugins"
WAIT = 20  # seconds: a hang fails the test instead of blocking the run


def hello(describe=False, config=None):
    return {"type": "hello", "protocol": 1, "plugin": "x", "version": "0", "config": config or {},
            "bot": {"name": "matterbot", "version": "test", "prefix": "!"}, "describe": describe,
            "limits": {"timeout": 60, "concurrency": 16, "max_output": 1048576}}


def request(rid, handler, args="", text=None, direct=False, command=None):
    room = {"id": "r-town", "name": "town-square", "team": "acme"}
    user = {"id": "u-alice", "username": "alice"}
    msg = {"id": "p-" + rid, "text": text or "!x", "from": user, "room": room, "thread_id": "",
           "direct": direct}
    return {"type": "request", "protocol": 1, "id": rid, "ref": "ref" + rid, "plugin": "x",
            "kind": "command", "handler": handler, "command": command or handler,
            "message": msg, "user": user, "room": room, "thread_id": "", "admin": False,
            "args": args, "deadline": "2030-01-01T00:00:00.000Z"}


class Bot:
    """matterbot's side: starts the runner, writes lines, reads lines,
    answers store calls from a dict."""

    def __init__(self, test, plug):
        self.p = subprocess.Popen([sys.executable, str(RUNNER), str(plug)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        test.addCleanup(self.close)
        self.lines = queue.Queue()
        self.raw = []
        self.store = {}
        self.logs = []
        self.eof = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stdout:
            self.raw.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def send(self, m):
        self.p.stdin.write((json.dumps(m) + "\n").encode())
        self.p.stdin.flush()

    def recv(self, hold=()):
        """The next line that is not a log or a store call (those are
        kept or answered), unless it is a call whose method is in hold."""
        while True:
            if self.eof:
                return None
            line = self.lines.get(timeout=WAIT)
            if line is None:
                self.eof = True
                return None
            m = json.loads(line)
            if m["type"] == "log":
                self.logs.append(m)
                continue
            if m["type"] == "call" and m["method"] not in hold:
                self.answer(m)
                continue
            return m

    def answer(self, call):
        method, p = call["method"], call.get("params", {})
        if method == "store.get":
            v = {"found": p["key"] in self.store}
            if v["found"]:
                v["value"] = self.store[p["key"]]
        elif method == "store.set":
            self.store[p["key"]] = p["value"]
            v = {}
        elif method == "store.delete":
            self.store.pop(p["key"], None)
            v = {}
        elif method == "store.keys":
            v = {"keys": sorted(self.store)}
        else:
            self.send({"type": "result", "call": call["call"],
                       "error": {"code": "unsupported", "message": method}})
            return
        self.send({"type": "result", "call": call["call"], "value": v})

    def until_done(self, *rids):
        """The lines up to the done of each of rids."""
        out, left = [], set(rids)
        while left:
            m = self.recv()
            out.append(m)
            if m is None:
                break
            if m["type"] == "done":
                left.discard(m["id"])
        return out

    def close(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        if self.p.poll() is None:
            try:
                self.p.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.p.stdout.close()
        self.p.stderr.close()

    def deactivate(self):
        """Send deactivate, answer the hook's calls, and return (exit
        status, standard error) once the process exits by itself."""
        self.send({"type": "deactivate"})
        while self.recv() is not None:
            pass
        code = self.p.wait(timeout=WAIT)
        return code, self.p.stderr.read().decode()

    def finish(self):
        """Close standard input and return (exit status, standard error)."""
        self.p.stdin.close()
        code = self.p.wait(timeout=WAIT)
        while not self.eof:  # the lines still queued: keep the logs
            line = self.lines.get(timeout=WAIT)
            if line is None:
                self.eof = True
                break
            m = json.loads(line)
            if m["type"] == "log":
                self.logs.append(m)
        return code, self.p.stderr.read().decode()


class DescribeTest(unittest.TestCase):
    def test_manifest_without_activation(self):
        b = Bot(self, EXAMPLES / "notes" / "notes.plug")
        b.send(hello(describe=True))
        ready = b.recv()
        self.assertEqual(ready["type"], "ready")
        self.assertEqual(ready["protocol"], 1)
        names = [c["name"] for c in ready["manifest"]["commands"]]
        self.assertEqual(names, ["note add", "note del", "note list", "note stats"])
        self.assertEqual(sorted(ready["manifest"]["config"]), ["BULLET", "MAX_NOTES"])
        self.assertEqual(b.store, {})  # activate() did not run: it would write "notes"
        self.assertEqual(b.finish()[0], 0)

    def test_directory_too(self):
        b = Bot(self, EXAMPLES / "cookies")
        b.send(hello(describe=True))
        m = b.recv()
        self.assertEqual(len(m["manifest"]["regex"]), 5)
        self.assertTrue(any("look-around" in log["msg"] for log in b.logs))


class ServeTest(unittest.TestCase):
    def test_commands_and_store(self):
        b = Bot(self, EXAMPLES / "greeter" / "greeter.plug")
        b.send(hello())
        self.assertEqual(b.recv(), {"type": "ready", "protocol": 1})
        b.send(request("1", "cmd:greeting", "Howdy"))
        b.send(request("2", "cmd:shout", "a b"))
        got = b.until_done("1", "2")
        by_id = {}
        for m in got:
            by_id.setdefault(m["id"], []).append(m)
        self.assertEqual(by_id["1"], [{"type": "text", "id": "1", "text": "Greeting set to 'Howdy'."},
                                      {"type": "done", "id": "1"}])
        self.assertEqual(by_id["2"], [{"type": "text", "id": "2", "text": "A!"},
                                      {"type": "text", "id": "2", "text": "B!"},
                                      {"type": "done", "id": "2"}])
        self.assertEqual(b.store, {"greeting": "Howdy"})
        b.send(request("3", "cmd:shout"))
        self.assertEqual(b.until_done("3"), [{"type": "text", "id": "3", "text": "Shout what?"},
                                             {"type": "done", "id": "3"}])
        self.assertEqual(b.deactivate()[0], 0)

    def test_stdout_is_the_protocols(self):
        b = Bot(self, PLUGINS / "noisy" / "noisy.plug")
        b.send(hello())
        self.assertEqual(b.recv()["type"], "ready")
        b.send(request("1", "cmd:chatter", "hi"))
        self.assertEqual(b.until_done("1")[0], {"type": "text", "id": "1", "text": "said hi"})
        b.send(request("2", "cmd:whoami"))
        self.assertEqual(b.until_done("2")[0]["text"], "@alice in ~town-square (!)")
        code, stderr = b.deactivate()
        self.assertEqual(code, 0)
        for line in b.raw:
            json.loads(line)  # every line of standard output is the protocol's
        for s in ("activating, on standard output", "a print in a command", "a child's output",
                  "and sys.stdout.write"):
            self.assertIn(s, stderr)
        self.assertIn("deactivating after 1 activations", [log["msg"] for log in b.logs])

    def test_no_match(self):
        # RE2 matched "bake burnt", the plugin's look-ahead does not.
        b = Bot(self, EXAMPLES / "cookies" / "cookies.plug")
        b.send(hello())
        self.assertEqual(b.recv()["type"], "ready")
        b.send(dict(request("1", "re:bake", "bake burnt", text="!bake burnt"), kind="regex"))
        self.assertEqual(b.until_done("1"), [{"type": "done", "id": "1", "no_match": True}])

    def test_bot_message(self):
        b = Bot(self, PLUGINS / "noisy" / "noisy.plug")
        b.send(hello())
        self.assertEqual(b.recv()["type"], "ready")
        b.send({"type": "bot", "bot": {"name": "matterbot", "version": "test", "prefix": "?",
                                       "alt_prefixes": [], "admins": ["@alice"],
                                       "user": {"id": "u-ops", "username": "ops-bot"}}})
        b.send(request("1", "cmd:whoami"))
        self.assertEqual(b.until_done("1")[0]["text"], "@alice in ~town-square (?)")
        self.assertEqual(b.deactivate()[0], 0)

    def test_deactivate_hook_reads_and_writes(self):
        # As execplugin does: deactivate, and standard input stays open
        # until the process exits, so the hook's calls get their results.
        b = Bot(self, PLUGINS / "noisy" / "noisy.plug")
        b.store["deactivations"] = 2
        b.send(hello())
        self.assertEqual(b.recv()["type"], "ready")
        b.send({"type": "deactivate"})
        calls = []
        while True:
            m = b.recv(hold=("store.get", "store.set"))
            if m is None:
                break
            calls.append((m["method"], m["params"]["key"]))
            b.answer(m)
        self.assertEqual(b.p.wait(timeout=WAIT), 0)
        self.assertEqual(calls, [("store.set", "last_words"), ("store.get", "deactivations"),
                                 ("store.set", "deactivations")])
        self.assertEqual(b.store["deactivations"], 3)
        self.assertIn("deactivating after 1 activations", [log["msg"] for log in b.logs])

    def test_input_closed_during_deactivate(self):
        # The bot gone (or past its 5 s): the call waiting fails, the hook
        # is logged as failed, and the process exits all the same.
        b = Bot(self, PLUGINS / "noisy" / "noisy.plug")
        b.send(hello())
        self.assertEqual(b.recv()["type"], "ready")
        b.send({"type": "deactivate"})
        call = b.recv(hold=("store.set",))
        self.assertEqual(call["params"]["key"], "last_words")
        b.p.stdin.close()
        while b.recv() is not None:
            pass
        self.assertEqual(b.p.wait(timeout=WAIT), 0)
        self.assertNotIn("deactivations", b.store)
        self.assertTrue(any(log["msg"].startswith("deactivate failed") and "cancelled" in log["msg"]
                            for log in b.logs), b.logs)

    def test_cancel(self):
        b = Bot(self, PLUGINS / "noisy" / "noisy.plug")
        b.send(hello())
        self.assertEqual(b.recv()["type"], "ready")
        b.send(request("1", "cmd:slow"))
        call = b.recv(hold=("store.get",))
        self.assertEqual((call["type"], call["params"]), ("call", {"key": "gate"}))
        b.send({"type": "cancel", "id": "1", "reason": "timeout"})
        self.assertEqual(b.recv(), {"type": "done", "id": "1"})
        b.store["gate"] = "late"
        b.answer(call)  # the command goes on, and its reply is dropped
        b.send(request("2", "cmd:chatter", "next"))
        self.assertEqual(b.until_done("2"), [{"type": "text", "id": "2", "text": "said next"},
                                             {"type": "done", "id": "2"}])
        b.send({"type": "cancel", "id": "2", "reason": "timeout"})  # after done: ignored
        code, _ = b.finish()
        self.assertEqual(code, 0)
        self.assertFalse(any(b'"slow got' in line for line in b.raw))

    def test_hung_command_does_not_keep_it_alive(self):
        b = Bot(self, PLUGINS / "noisy" / "noisy.plug")
        b.send(hello())
        self.assertEqual(b.recv()["type"], "ready")
        b.send(request("1", "cmd:hang"))
        b.send({"type": "cancel", "id": "1", "reason": "shutdown"})
        self.assertEqual(b.recv(), {"type": "done", "id": "1"})
        code, _ = b.finish()  # standard input closes: it exits, the thread hanging
        self.assertEqual(code, 0)

    def test_ignores_what_it_does_not_know(self):
        b = Bot(self, EXAMPLES / "greeter" / "greeter.plug")
        b.send({"type": "future_thing", "x": 1})
        b.send(hello())
        self.assertEqual(b.recv()["type"], "ready")
        b.send(dict(request("1", "cmd:hello"), new_key=True))
        self.assertEqual(b.until_done("1")[0]["text"], "Hello, alice!")


class FailureTest(unittest.TestCase):
    def test_import_error(self):
        b = Bot(self, PLUGINS / "broken" / "broken.plug")
        b.send(hello(describe=True))
        self.assertIsNone(b.recv())
        code, stderr = b.finish()
        self.assertEqual(code, 1)
        self.assertIn("No module named 'a_module_that_does_not_exist'", stderr)
        self.assertIn("broken.plug", stderr)

    def test_activation_error(self):
        b = Bot(self, PLUGINS / "failing" / "failing.plug")
        b.send(hello())
        self.assertIsNone(b.recv())
        code, stderr = b.finish()
        self.assertEqual(code, 1)
        self.assertIn("configure me", stderr)

    def test_bad_config(self):
        b = Bot(self, PLUGINS / "failing" / "failing.plug")
        b.send(hello(config={"URL": 5, "PASSWORD": ""}))
        self.assertIsNone(b.recv())
        code, stderr = b.finish()
        self.assertEqual(code, 1)
        self.assertIn("does not fit its template", stderr)

    def test_configured(self):
        b = Bot(self, PLUGINS / "failing" / "failing.plug")
        b.send(hello(config={"URL": "https://chat", "PASSWORD": "hunter2"}))
        self.assertEqual(b.recv()["type"], "ready")
        b.send(request("1", "cmd:url"))
        self.assertEqual(b.until_done("1")[0]["text"], "https://chat")

    def test_no_plug(self):
        p = subprocess.run([sys.executable, str(RUNNER), str(HERE)], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=WAIT)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"0 .plug files", p.stderr)


if __name__ == "__main__":
    unittest.main()
