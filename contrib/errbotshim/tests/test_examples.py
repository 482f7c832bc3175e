"""The example plugins, run as matterbot runs them, checked against what
Errbot does with the same plugin (its docs, errbot/core.py,
errbot/backends/test.py and err-backend-mattermost)."""

import logging
import unittest

from support import Harness, message, texts

from errbot import ValidationException
from errbot._matterbot.runtime import NO_MATCH, Runtime
from errbot.templating import jinja2


class GreeterTest(unittest.TestCase):
    def setUp(self):
        self.h = Harness("greeter")

    def test_manifest(self):
        cmds = {c["name"]: c for c in self.h.manifest["commands"]}
        self.assertEqual(sorted(cmds), ["botname", "farewell", "greet", "greet each", "greet room",
                                        "greeting", "handshake", "hello", "oops", "shout",
                                        "welcome"])
        self.assertEqual(cmds["greet each"]["aliases"], ["greet_each"])  # !greet_each too
        self.assertTrue(cmds["handshake"]["hidden"])
        self.assertTrue(cmds["greeting"]["admin"])
        self.assertNotIn("admin", cmds["hello"])
        self.assertEqual(cmds["hello"]["help"], "Say hello to you, or to whom you name.")
        self.assertEqual(cmds["hello"]["handler"], "cmd:hello")
        self.assertNotIn("regex", self.h.manifest)
        self.assertNotIn("events", self.h.manifest)  # the bot message names the bot's account
        self.assertNotIn("config", self.h.manifest)

    def test_clashing_names_renamed(self):
        # As Errbot: CLASSNAME-NAME, and a warning.
        h = Harness("greeter", taken=["hello", "greet_each", "plugin list"])
        cmds = {c["name"]: c for c in h.manifest["commands"]}
        self.assertNotIn("hello", cmds)
        self.assertNotIn("greet each", cmds)
        self.assertEqual(cmds["greeter-hello"]["handler"], "cmd:hello")
        self.assertNotIn("aliases", cmds["greeter-hello"])
        self.assertEqual(cmds["greeter-greet each"]["aliases"], ["greeter-greet_each"])
        self.assertIn("greet room", cmds)  # no clash
        self.assertTrue(any("Greeter.hello clashes with another plugin's command hello so it has "
                            "been renamed greeter-hello" in w for w in h.rt.warnings), h.rt.warnings)
        self.assertEqual(texts(h.command("!greeter-hello")[0]), ["Hello, alice!"])

    def test_hello(self):
        self.assertEqual(self.h.command("!hello"), ([{"type": "text", "text": "Hello, alice!"}], None))
        self.assertEqual(texts(self.h.command("!hello Dinah")[0]), ["Hello, Dinah!"])

    def test_generator_replies_each(self):
        self.assertEqual(texts(self.h.command("!shout up  and away")[0]), ["UP!", "AND!", "AWAY!"])

    def test_command_error_is_for_the_user(self):
        # As Errbot: the reason, as a reply of its own.
        with self.assertLogs("errbot.matterbot", logging.INFO) as cm:
            replies, err = self.h.command("!shout")
        self.assertEqual((replies, err), ([{"type": "text", "text": "Shout what?"}], None))
        self.assertIn("CommandError: Shout what?", cm.output[0])

    def test_split_args_with_separator(self):
        self.assertEqual(texts(self.h.command("!greet each ann, bob ,")[0]), ["Hi ann. Hi bob."])

    def test_bot_identifier_from_the_bot(self):
        self.assertEqual(self.h.rt.bot.bot_identifier.person, "@matterbot")  # hello without user
        self.h.rt.learn({"name": "matterbot", "version": "1", "prefix": "!",
                         "user": {"id": "u-ops", "username": "ops-bot", "full_name": "Ops"}})
        self.assertEqual((self.h.rt.bot.bot_identifier.person, self.h.rt.bot.bot_identifier.userid),
                         ("@ops-bot", "u-ops"))
        self.assertEqual(texts(self.h.command("!botname")[0]), ["I am ops-bot."])
        h = Harness("greeter", bot={"user": {"id": "u-ops", "username": "ops-bot"}})
        self.assertEqual(h.rt.bot.bot_identifier.person, "@ops-bot")  # hello with user

    def test_bot_config_from_the_bot(self):
        h = Harness("greeter", bot={"alt_prefixes": ["ops:"], "admins": ["@alice"]})
        c = h.rt.plugin.bot_config
        self.assertEqual((c.BOT_PREFIX, c.BOT_ALT_PREFIXES, c.BOT_ADMINS, c.BOT_ADMINS_NOTIFICATIONS),
                         ("!", ("ops:",), ("@alice",), ("@alice",)))
        h.rt.learn({"name": "matterbot", "version": "1", "prefix": "?", "alt_prefixes": [],
                    "admins": ["@alice", "@bob"]})  # a configuration reload
        self.assertEqual((c.BOT_PREFIX, c.BOT_ALT_PREFIXES, c.BOT_ADMINS),
                         ("?", (), ("@alice", "@bob")))

    def test_bot_message_before_load(self):
        # hello is served in a thread: a bot message may come first.
        h = Harness("greeter", describe_only=True)
        rt = Runtime(h.rt.plug, h.host)
        rt.learn({"prefix": "?", "user": {"id": "u-ops", "username": "ops-bot"}})
        rt.load({"bot": {"name": "matterbot", "prefix": "!"}})
        self.assertEqual((rt.bot.bot_identifier.person, rt.bot.bot_config.BOT_PREFIX), ("@ops-bot", "?"))

    def test_message_identifiers(self):
        self.assertEqual(texts(self.h.command("!greet room")[0]),
                         ["Hello, everyone in ~town-square!"])
        self.assertEqual(texts(self.h.command("!greet room", direct=True)[0]),
                         ["This is just the two of us, alice."])

    def test_storage_through_the_bot(self):
        self.assertEqual(texts(self.h.command("!greet")[0]), ["Hello, alice!"])
        self.assertEqual(texts(self.h.command("!greeting Howdy")[0]), ["Greeting set to 'Howdy'."])
        self.assertEqual(self.h.host.store["greeting"], "Howdy")  # JSON in the bot's store
        self.assertEqual(texts(self.h.command("!greet bob")[0]), ["Howdy, bob!"])

    def test_template(self):
        want = "Welcome, **bob**! The rules:\n\n1. be kind\n2. no spoilers"
        self.assertEqual(texts(self.h.command("!welcome bob")[0]), [want])
        if jinja2 is not None:
            self.assertEqual(texts(Harness("greeter", use_jinja=True).command("!welcome bob")[0]),
                             [want])

    def test_log(self):
        with self.assertLogs("errbot.plugins.Greeter", logging.INFO) as cm:
            self.h.command("!farewell bob")
        self.assertEqual(cm.records[0].getMessage(), "farewell to bob")

    def test_exception_is_internal(self):
        replies, err = self.h.command("!oops now")
        self.assertEqual(replies, [])
        self.assertEqual(err.get("kind"), "internal")
        self.assertIn("RuntimeError: the greeter tripped over 'now'", err["message"])
        self.assertIn("Traceback", err["message"])  # for the log: the user sees a reference


class NotesTest(unittest.TestCase):
    def test_defaults_and_storage(self):
        h = Harness("notes")
        self.assertEqual(texts(h.command("!note list")[0]), ["No notes."])
        self.assertEqual(texts(h.command("!note add buy milk --tag home")[0]), ["Noted (1)."])
        self.assertEqual(texts(h.command("!note add call “bob”")[0]), ["Noted (2)."])
        self.assertEqual(texts(h.command("!note list")[0]),
                         ["- 1. buy milk [home]\n- 2. call bob"])
        self.assertEqual(texts(h.command("!note list home")[0]), ["- 1. buy milk [home]"])
        self.assertEqual(h.host.store["notes"][0],
                         {"text": "buy milk", "tag": "home", "by": "@alice"})

    def test_kept_across_restarts(self):
        h = Harness("notes")
        h.command("!note add one")
        again = Harness("notes")
        again.host.store = h.host.store  # the same bot store, a new process
        again.rt.deactivate()
        again.rt.activate()
        self.assertEqual(texts(again.command("!note list")[0]), ["- 1. one"])

    def test_config(self):
        h = Harness("notes", config={"MAX_NOTES": 1, "BULLET": "*"})
        h.command("!note add one")
        self.assertEqual(texts(h.command("!note add two")[0]), ["I keep 1 notes at most."])
        self.assertEqual(texts(h.command("!note list")[0]), ["* 1. one"])

    def test_config_declared_from_the_template(self):
        # The bot checks the types and refuses unknown keys at load; never
        # required, no default: no table is configure(None), and the
        # template judges the rest.
        h = Harness("notes", describe_only=True)
        self.assertEqual(h.manifest["config"], {"MAX_NOTES": {"type": "int", "help": "template: 5"},
                                                "BULLET": {"type": "string", "help": "template: '-'"}})

    def test_no_table_is_no_configuration(self):
        h = Harness("notes", describe_only=True)
        seen = []
        h.rt.plugin.configure = seen.append
        h.rt.configure({})
        self.assertEqual(seen, [None])  # as an Errbot plugin never configured

    def test_config_checked_as_errbot(self):
        h = Harness("notes", describe_only=True)
        with self.assertRaisesRegex(ValidationException, "unknown key COLOR"):
            h.rt.configure({"MAX_NOTES": 1, "BULLET": "*", "COLOR": "red"})
        with self.assertRaisesRegex(ValidationException, "doesn't contain the key BULLET"):
            h.rt.configure({"MAX_NOTES": 1})
        with self.assertRaisesRegex(ValidationException, "not the same type"):
            h.rt.configure({"MAX_NOTES": "1", "BULLET": "*"})

    def test_config_types_and_secrets(self):
        rt = Harness("notes", describe_only=True).rt
        rt.plugin.get_configuration_template = lambda: {
            "API_TOKEN": "xyz", "dbPassword": "", "ROOM": "~ops", "ON": True, "RATE": 1.5,
            "HOSTS": ("a", "b"), "LIMITS": {"cpu": 1}, "ANY": None, "MONKEY": "see"}
        self.assertEqual(rt.manifest()["config"], {
            "API_TOKEN": {"type": "string", "secret": True},
            "dbPassword": {"type": "string", "secret": True},
            "ROOM": {"type": "string", "help": "template: '~ops'"},
            "ON": {"type": "bool", "help": "template: True"},
            "RATE": {"type": "float", "help": "template: 1.5"},
            "HOSTS": {"type": "array", "help": "template: ('a', 'b')"},
            "LIMITS": {"type": "table", "help": "template: {'cpu': 1}"},
            "ANY": {"help": "template: None"},
            "MONKEY": {"type": "string", "help": "template: 'see'"}})

    def test_config_keys_matterbot_cannot_take(self):
        rt = Harness("notes", describe_only=True).rt
        rt.plugin.get_configuration_template = lambda: {"A KEY": 1, "B": 2}
        self.assertNotIn("config", rt.manifest())  # passed as it is, as before
        self.assertTrue(any("'A KEY'" in w for w in rt.warnings), rt.warnings)

    def test_arg_botcmd_errors(self):
        h = Harness("notes")
        replies, err = h.command("!note del x")
        self.assertIsNone(err)
        self.assertEqual(texts(replies), [
            "I couldn't parse the arguments; argument index: invalid int value: 'x'",
            "usage: note_del [-h] index"])
        self.assertEqual(texts(h.command("!note del 4")[0]), ["There is no note 4."])
        help_text = texts(h.command("!note add --help")[0])[0]
        self.assertIn("--tag TAG", help_text)
        usage = {c["name"]: c.get("usage") for c in h.manifest["commands"]}
        self.assertEqual(usage["note add"], "[-h] [--tag TAG] words [words ...]")

    def test_values_json_or_pickled(self):
        h = Harness("notes")
        self.assertEqual(texts(h.command("!note stats")[0]), ["0 notes, 3 keys, asked 1 times."])
        self.assertEqual(h.host.store["seen"], 1)
        self.assertEqual(list(h.host.store["kinds"]), ["__errbot_pickle__"])
        self.assertEqual(h.rt.plugin["kinds"], {"tuple": (1, 2), "set": {"a"}})


class TickerTest(unittest.TestCase):
    def setUp(self):
        self.h = Harness("ticker")

    def test_poller_times(self):
        self.assertEqual(texts(self.h.command("!tick start 10 2")[0]), ["Ticking every 10s."])
        self.h.clock.advance(9.9)
        self.assertEqual(self.h.host.sent, [])  # the first call after one interval
        self.h.clock.advance(0.1)
        self.h.clock.advance(10)
        self.h.clock.advance(100)
        self.assertEqual(self.h.host.sent, [{"to": "~r-town", "text": "tick 1"},
                                            {"to": "~r-town", "text": "tick 2"}])

    def test_poller_stop(self):
        self.h.command("!tick start 5", direct=True)
        self.h.clock.advance(5)
        self.assertEqual(texts(self.h.command("!tick stop")[0]), ["Stopped after 1 ticks."])
        self.h.clock.advance(60)
        self.assertEqual(self.h.host.sent, [{"to": "@u-alice", "text": "tick 1"}])

    def test_deactivate_stops_pollers(self):
        self.h.command("!tick start 5")
        self.h.rt.deactivate()
        self.assertEqual(self.h.clock.pending(), [])
        self.h.clock.advance(60)
        self.assertEqual(self.h.host.sent, [])

    def test_build_identifier_and_send(self):
        rid = {}
        self.assertEqual(texts(self.h.command("!tell @bob hi there")[0]), ["Told @bob."])
        self.h.command("!tell ~ops hello")
        self.h.command("!tell u-bob by id")
        for s in self.h.host.sent:
            rid.setdefault(s["to"], s["text"])
        self.assertEqual(rid, {"@u-bob": "hi there", "~r-ops": "hello"})
        _, err = self.h.command("!tell @nobody hi")
        self.assertIn("UserDoesNotExistError", err["message"])
        _, err = self.h.command("!tell ~nowhere hi")
        self.assertIn("RoomDoesNotExistError", err["message"])

    def test_send_in_reply_to_threads(self):
        self.h.command("!reply here")
        self.h.command("!reply here", thread_id="p-root")
        self.h.command("!reply here", direct=True)
        got = [(s["to"], s.get("thread_id")) for s in self.h.host.sent]
        self.assertEqual(got[1:], [("~r-town", "p-root"), ("@u-alice", got[2][1])])
        self.assertTrue(got[0][1].startswith("p-"))  # a new thread on the command
        self.assertTrue(all(s.get("id") for s in self.h.host.sent))  # reply-to the request

    def test_card(self):
        self.h.command("!status card")
        self.assertEqual(len(self.h.host.sent), 1)
        s = self.h.host.sent[0]
        self.assertEqual(s["to"], "~r-town")  # a RoomOccupant's card goes to the room
        self.assertEqual(s["card"], {"title": "Ticker", "text": "Ticking **off**.", "color": "green",
                                     "link": "https://example.com/ticker",
                                     "fields": [{"title": "ticks", "value": "0", "short": True},
                                                {"title": "target", "value": "None", "short": True}]})

    def test_send_templated(self):
        self.h.command("!report")
        self.assertEqual([(s["to"], s["text"]) for s in self.h.host.sent],
                         [("@u-alice", "Report for alice: 0 ticks.")])

    def test_warn_admins(self):
        h = Harness("ticker", bot={"admins": ["@alice", "@bob"]})
        self.assertEqual(texts(h.command("!alarm fire")[0]), ["Admins warned."])
        self.assertEqual([(s["to"], s["text"]) for s in h.host.sent],
                         [("@u-alice", "alarm raised by @alice: fire"),
                          ("@u-bob", "alarm raised by @alice: fire")])

    def test_warn_admins_without_admins_logs(self):
        with self.assertLogs("errbot.matterbot", logging.WARNING) as cm:
            self.assertEqual(texts(self.h.command("!alarm fire")[0]), ["Admins warned."])
        self.assertIn("alarm raised by @alice: fire", cm.output[0])


class CookiesTest(unittest.TestCase):
    def setUp(self):
        self.h = Harness("cookies")

    def test_manifest(self):
        got = {r["name"]: (r["pattern"], r["prefixed"]) for r in self.h.manifest["regex"]}
        self.assertEqual(got, {
            "give_cookie": (r"(?i)^(?:(?:can|may) i have an? )?cookie(?: please)?\??$", True),
            "overhear_cookies": (r"(?i)(^| )cookies?( |$)", False),
            "jars": (r"\bjar #(\d+)", False),
            "bake": (r"^bake (\w+)$", True),  # look-ahead: RE2 has none; Python decides
            "bake_burnt": (r"^bake burnt$", True),
        })
        self.assertTrue(any("bake" in w and "look-around" in w for w in self.h.rt.warnings))

    def test_match(self):
        self.assertEqual(texts(self.h.regex("give_cookie", "May I have a cookie please?")[0]),
                         ["Here's a cookie for you, alice."])
        self.assertEqual(texts(self.h.regex("overhear_cookies", "who ate the COOKIES today")[0]),
                         ["Somebody said cookies? Om nom nom!"])

    def test_matchall(self):
        self.assertEqual(texts(self.h.regex("jars", "see jar #1 and jar #22")[0]), ["Jars: 1, 22"])

    def test_python_decides(self):
        self.assertEqual(self.h.regex("bake", "bake burnt"), ([], NO_MATCH))  # matterbot goes on
        self.assertEqual(texts(self.h.regex("bake", "bake choc")[0]), ["Baking a choc cookie."])


class DeploysTest(unittest.TestCase):
    def setUp(self):
        self.h = Harness("deploys", config={"ROOM": "~ops"})

    def test_manifest(self):
        got = [(w["name"], w["pattern"], w["handler"]) for w in self.h.manifest["webhooks"]]
        self.assertEqual(sorted(got), [
            ("build_done POST", "POST /deploys/{env}/{build}", "hook:build_done POST"),
            ("deployed GET", "GET /deployed", "hook:deployed GET"),
            ("deployed POST", "POST /deployed", "hook:deployed POST"),
            ("form GET", "GET /deploys/form", "hook:form GET"),
            ("form POST", "POST /deploys/form", "hook:form POST"),
            ("raw GET", "GET /deploys/raw", "hook:raw GET"),
            ("raw POST", "POST /deploys/raw", "hook:raw POST"),
        ])

    def test_json_payload(self):
        replies, err = self.h.webhook("deployed", body='{"service": "api", "version": "1.2"}',
                                      headers={"Content-Type": ["application/json"]})
        self.assertIsNone(err)
        self.assertEqual(replies, [{"type": "http", "status": 200, "body": "ok",
                                    "headers": {"Content-Type": ["text/html; charset=utf-8"]}}])
        # A webhook answers no message: its send names no request.
        self.assertEqual(self.h.host.sent, [{"to": "~r-ops", "text": "Deployed api 1.2."}])
        self.assertEqual(texts(self.h.command("!last deploy")[0]), ["api"])

    def test_path_values(self):
        replies, _ = self.h.webhook("build_done", body="{}", path_values={"env": "prod", "build": "41"})
        self.assertEqual(replies[0]["headers"], {"Content-Type": ["application/json"]})
        import json
        self.assertEqual(json.loads(replies[0]["body"]),
                         {"env": "prod", "build": 41, "next": 42, "payload": "{}"})
        _, err = self.h.webhook("build_done", path_values={"env": "prod", "build": "x"})
        self.assertEqual(err["status"], 404)

    def test_form_param(self):
        replies, _ = self.h.webhook(
            "form", body="payload=%7B%22service%22%3A%22api%22%7D",
            headers={"Content-Type": ["application/x-www-form-urlencoded"]})
        self.assertEqual(replies[0]["body"], "form: api")
        _, err = self.h.webhook("form", body="other=1",
                                headers={"Content-Type": ["application/x-www-form-urlencoded"]})
        self.assertEqual((err["status"], err["kind"]), (400, "user"))

    def test_raw(self):
        replies, _ = self.h.webhook("raw", query={"dry": ["1"]}, headers={"X-Trace": ["t1"]})
        self.assertEqual((replies[0]["status"], replies[0]["body"]), (202, "POST 1 t1"))

    def test_failure_is_internal(self):
        replies, err = self.h.webhook("deployed", body="not json")
        self.assertEqual(replies, [])
        self.assertIn("TypeError", err["message"])
        self.assertNotIn("status", err)  # a bare 500


class GatekeeperTest(unittest.TestCase):
    def setUp(self):
        self.h = Harness("gatekeeper")

    def test_filter_blocks(self):
        self.assertEqual(self.h.command("!vault open"), ([], None))
        self.assertEqual(self.h.host.sent[0]["to"], "@u-alice")  # the occupant: a DM
        self.assertEqual(self.h.host.sent[0]["text"], "Ask me about the vault in private.")

    def test_filter_lets_through(self):
        self.assertEqual(texts(self.h.command("!vault open", direct=True)[0]), ["The vault is open."])

    def test_filter_rewrites(self):
        self.assertEqual(texts(self.h.command("!vault peek", direct=True)[0]), ["You see gold."])
        self.assertEqual(texts(self.h.command("!vault peek please", direct=True)[0]),
                         ["The vault is open."])

    def test_filters_run_in_order(self):
        self.h.command("!vault open")
        self.h.command("!vault peek please", user="bob", direct=True)
        self.assertEqual(texts(self.h.command("!audit log")[0]),
                         ["@alice vault_open\n@bob vault_peek\n@alice audit_log"])

    def test_failing_filter_blocks(self):
        def boom(msg, cmd, args, dry_run):
            raise ValueError("no")
        self.h.rt.filters.insert(0, boom)
        with self.assertLogs("errbot.plugins.Gatekeeper", logging.ERROR):
            self.assertEqual(self.h.command("!vault open", direct=True), ([], None))


class WatcherTest(unittest.TestCase):
    def setUp(self):
        self.h = Harness("watcher")

    def test_events_declared(self):
        self.assertEqual(self.h.manifest["events"],
                         ["connect", "join", "leave", "message", "presence", "reaction"])

    def test_callbacks(self):
        u = {"id": "u-bob", "username": "bob"}
        room = {"id": "r-ops", "name": "ops", "team": "acme"}
        self.h.event("connect", {"kind": "connect", "user": {"id": "u-bot", "username": "matterbot"}})
        self.h.event("message", msg=message("hi @bob and @alice", mentions=["bob", "alice"]))
        self.h.event("message", msg=message("my secret is out"))
        self.h.event("message", msg=message("a secret", direct=True))
        with self.assertLogs("errbot.plugins.Watcher", logging.INFO) as cm:
            self.h.event("reaction", {"kind": "reaction", "message_id": "p-1", "emoji": "tada",
                                      "user": u, "room": room, "removed": False})
        self.assertEqual(cm.records[0].getMessage(), "@bob added :tada:")
        self.h.event("presence", {"kind": "presence", "user": u, "status": "away"})
        self.h.event("join", {"kind": "join", "user": u, "room": room})
        self.h.event("leave", {"kind": "leave", "user": u, "room": room})
        self.assertEqual(texts(self.h.command("!seen")[0]), [
            "connected 1, joined 1, left 1, mentions 2, messages 3, presence 1, reactions 1"])
        self.assertEqual([(s["to"], s["text"]) for s in self.h.host.sent], [
            ("@u-alice", "Careful: ~town-square is a public channel."),
            ("~r-ops", "Welcome to ~ops, bob."),
        ])
        self.assertEqual(self.h.rt.bot.bot_identifier.userid, "u-bot")


if __name__ == "__main__":
    unittest.main()
