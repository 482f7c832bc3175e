"""Test doubles for the shim: a bot (FakeHost) with a store, a directory
of users and rooms and a record of what was sent; a clock for pollers;
and Harness, which loads an example plugin and drives it with protocol
requests the way matterbot would."""

import copy
import itertools
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLES = ROOT / "examples"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from errbot._matterbot.runtime import Host, NotFound, Runtime  # noqa: E402

USERS = {
    "alice": {"id": "u-alice", "username": "alice", "full_name": "Alice Liddell"},
    "bob": {"id": "u-bob", "username": "bob", "full_name": "Bob Builder"},
    "matterbot": {"id": "u-bot", "username": "matterbot", "full_name": "", "bot": True},
}
ROOMS = {
    "town-square": {"id": "r-town", "name": "town-square", "team": "acme"},
    "ops": {"id": "r-ops", "name": "ops", "team": "acme"},
}


class FakeHost(Host):
    """The bot's side of the calls, in memory."""

    def __init__(self):
        self.store = {}
        self.sent = []
        self.calls = []

    def store_get(self, key):
        self.calls.append(("store.get", key))
        if key in self.store:
            return True, copy.deepcopy(self.store[key])
        return False, None

    def store_set(self, key, value):
        self.calls.append(("store.set", key))
        self.store[key] = copy.deepcopy(value)

    def store_delete(self, key):
        self.calls.append(("store.delete", key))
        self.store.pop(key, None)

    def store_keys(self, prefix=""):
        return sorted(k for k in self.store if k.startswith(prefix))

    def send(self, to, text=None, card=None, file=None, thread_id=None, request=None):
        d = {"to": to}
        for k, v in (("text", text), ("card", card), ("file", file), ("thread_id", thread_id),
                     ("id", request)):
            if v:
                d[k] = v
        self.sent.append(d)

    def user(self, name):
        n = name.lstrip("@")
        for u in USERS.values():
            if n in (u["username"], u["id"]):
                return dict(u)
        raise NotFound("no user %s" % name)

    def room(self, name):
        n = name.lstrip("~").split("/")[-1]
        for r in ROOMS.values():
            if n in (r["name"], r["id"]):
                return dict(r)
        raise NotFound("no room %s" % name)


class Clock:
    """call_later for pollers, advanced by hand."""

    class Timer:
        def __init__(self, when, fn):
            self.when, self.fn, self.cancelled = when, fn, False

        def cancel(self):
            self.cancelled = True

    def __init__(self):
        self.now = 0.0
        self.timers = []

    def call_later(self, interval, fn):
        t = Clock.Timer(self.now + interval, fn)
        self.timers.append(t)
        return t

    def advance(self, seconds):
        end = self.now + seconds
        while True:
            due = [t for t in self.timers if not t.cancelled and t.when <= end]
            if not due:
                break
            t = min(due, key=lambda t: t.when)
            self.timers.remove(t)
            self.now = t.when
            t.fn()
        self.now = end

    def pending(self):
        return [t for t in self.timers if not t.cancelled]


_ids = itertools.count(1)


def message(text, user="alice", room="town-square", direct=False, thread_id="", mentions=()):
    u = USERS[user]
    r = dict(ROOMS[room]) if not direct else {"id": "d-" + user, "name": "bot__" + user, "team": ""}
    m = {"id": "p-%d" % next(_ids), "text": text, "from": dict(u), "room": r,
         "thread_id": thread_id, "direct": direct,
         "permalink": "https://chat.example.com/acme/pl/p"}
    if mentions:
        m["mentions"] = list(mentions)
    return m


class Harness:
    """One example plugin, loaded, configured and activated as the
    transport does, driven with requests."""

    def __init__(self, example, config=None, describe_only=False, use_jinja=False, prefix="!",
                 bot=None, taken=()):
        self.host = FakeHost()
        self.clock = Clock()
        self.prefix = prefix
        self.rt = Runtime(EXAMPLES / example, self.host, call_later=self.clock.call_later,
                          use_jinja=use_jinja)
        self.rt.load({"bot": dict({"name": "matterbot", "version": "test", "prefix": prefix,
                                   "alt_prefixes": [], "admins": []}, **(bot or {})),
                      "taken_commands": list(taken)})
        self.manifest = self.rt.manifest()
        if not describe_only:
            self.rt.configure(config or {})
            self.rt.activate()

    def _run(self, req):
        replies = []
        req.setdefault("type", "request")
        req.setdefault("id", "q%d" % next(_ids))
        err = self.rt.handle(req, replies.append)
        return replies, err

    def command(self, line, user="alice", room="town-square", direct=False, thread_id=""):
        """Run "!name args" as matterbot would: the longest declared name
        or alias. Returns (replies, done error)."""
        text = line[len(self.prefix):] if line.startswith(self.prefix) else line
        words = text.split()
        best = None
        for c in self.manifest.get("commands", []):
            for name in [c["name"]] + c.get("aliases", []):
                n = name.split()
                if [w.lower() for w in words[:len(n)]] == n and (best is None or len(n) > best[1]):
                    best = (c, len(n))
        if best is None:
            raise KeyError("no command for %r" % line)
        c, n = best
        rest = text.strip()
        for _ in range(n):
            rest = rest.split(None, 1)[1] if len(rest.split(None, 1)) > 1 else ""
        m = message(line, user, room, direct, thread_id)
        return self._run({"kind": "command", "handler": c["handler"], "command": c["name"],
                          "message": m, "user": m["from"], "room": m["room"],
                          "thread_id": thread_id, "args": rest.strip()})

    def regex(self, name, text, line=None, user="alice", room="town-square", direct=False):
        c = next(c for c in self.manifest["regex"] if c["name"] == name)
        m = message(line if line is not None else text, user, room, direct)
        return self._run({"kind": "regex", "handler": c["handler"], "command": c["name"],
                          "message": m, "user": m["from"], "room": m["room"], "args": text})

    def webhook(self, name, method="POST", path=None, body="", headers=None, query=None,
                path_values=None):
        entry = next(w for w in self.manifest["webhooks"] if w["name"] == "%s %s" % (name, method))
        wh = {"method": method, "path": path or entry["pattern"].split(" ", 1)[1],
              "pattern": entry["pattern"], "headers": headers or {}, "query": query or {},
              "path_values": path_values or {}, "body": body}
        return self._run({"kind": "webhook", "handler": entry["handler"], "webhook": wh})

    def event(self, handler, event=None, msg=None):
        req = {"kind": "event", "handler": handler}
        if event is not None:
            req["event"] = event
        if msg is not None:
            req.update(message=msg, user=msg["from"], room=msg["room"])
        return self._run(req)


def texts(replies):
    return [r["text"] for r in replies if r["type"] == "text"]


os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
