"""One Errbot plugin on matterbot's exec-plugin protocol, version 1.

Runtime loads the plugin of a .plug file (the .plug and its module),
describes it as a protocol manifest (docs/exec-plugins.md §11: the answer
to a describe hello), configures and activates it from hello, and serves
the protocol's requests: commands, regex commands, webhooks and events. It
does not read or write streams: replies go to a function given with each
request, and what the plugin asks of the bot (store, send, user and room
look-ups) goes to a Host. The transport (transport.py) implements both
over standard input and output; the unit tests use fakes.

The protocol's objects (§3) are used as they come: a message is
``{"id", "text", "from": User, "room": Room, "thread_id", "direct",
"mentions": ["bob"], "files", "permalink"}``, a User ``{"id", "username",
"full_name", "bot"}``, a Room ``{"id", "name", "team"}``.
"""

import base64
import inspect
import json
import logging
import os
import re
import threading
import traceback
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from ..backends.base import (Card, Message, Person, Presence, Reaction, Room, RoomOccupant,
                             RoomDoesNotExistError, UserDoesNotExistError, REACTION_ADDED,
                             REACTION_REMOVED)
from ..botplugin import BotPlugin, CommandError, ValidationException
from ..plugin_info import PluginInfo
from ..storage import StorePlugin
from ..templating import Templates
from . import regex as rx

log = logging.getLogger("errbot.matterbot")

# What Runtime.handle returns for a regex command whose Python pattern
# does not match the text matterbot's RE2 pattern matched: the done says
# no_match (§6.10), and matterbot goes on as if it had not matched.
NO_MATCH = {"no_match": True}

# The Errbot version the shim answers to a .plug's [Errbot] Min and Max.
ERRBOT_VERSION = (6, 2, 0, 1)


class Unsupported(Exception):
    """The bot cannot do what the plugin asked (result error "unsupported")."""


class NotFound(Exception):
    """The bot found no such user or room (result error "not_found")."""


class CallError(Exception):
    """Any other error a call returned: code and message."""

    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code


class LoadError(Exception):
    """The plugin cannot be loaded: no .plug, a bad one, an import error."""


class Host:
    """The calls of §7, as the runtime makes them. Every method may raise
    Unsupported, NotFound or CallError. request is the id of the request
    the call belongs to (the running command's), or None."""

    def store_get(self, key):
        """-> (found, value)"""
        raise Unsupported("store.get")

    def store_set(self, key, value):
        raise Unsupported("store.set")

    def store_delete(self, key):
        raise Unsupported("store.delete")

    def store_keys(self, prefix=""):
        raise Unsupported("store.keys")

    def send(self, to, text=None, card=None, file=None, thread_id=None, request=None):
        raise Unsupported("send")

    def user(self, name):
        """-> User dict"""
        raise Unsupported("user")

    def room(self, name):
        """-> Room dict"""
        raise Unsupported("room")


class BotConfig:
    """Errbot's config module as a plugin reads it (self.bot_config): what
    the bot tells (BOT_PREFIX, BOT_ALT_PREFIXES, BOT_ADMINS: hello's bot,
    then bot messages) and Errbot's defaults for the rest."""

    def __init__(self, values=None):
        self.BOT_ADMINS = ()
        self.BOT_ADMINS_NOTIFICATIONS = None
        self.BOT_PREFIX = "!"
        self.BOT_ALT_PREFIXES = ()
        self.BOT_ALT_PREFIX_SEPARATORS = ()
        self.BOT_ALT_PREFIX_CASEINSENSITIVE = False
        self.BOT_PREFIX_OPTIONAL_ON_CHAT = True
        self.SUPPRESS_CMD_NOT_FOUND = False
        self.HIDE_RESTRICTED_ACCESS = False
        self.HIDE_RESTRICTED_COMMANDS = False
        self.DIVERT_TO_PRIVATE = ()
        self.DIVERT_TO_THREAD = ()
        self.GROUPCHAT_NICK_PREFIXED = False
        self.BOT_ASYNC = True
        self.BOT_ASYNC_POOLSIZE = 16
        self.MESSAGE_SIZE_LIMIT = 16377
        self.BOT_IDENTITY = {}
        self.BOT_DATA_DIR = None
        self.BOT_EXTRA_PLUGIN_DIR = None
        self.CORE_PLUGINS = None
        self.ACCESS_CONTROLS = {}
        self.ACCESS_CONTROLS_DEFAULT = {}
        self.BACKEND = "Mattermost"
        for k, v in (values or {}).items():
            setattr(self, k, tuple(v) if isinstance(v, list) else v)
        if self.BOT_ADMINS_NOTIFICATIONS is None:
            self.BOT_ADMINS_NOTIFICATIONS = self.BOT_ADMINS


class _Timer:
    def __init__(self, interval, fn):
        self._t = threading.Timer(interval, fn)
        self._t.daemon = True
        self._t.name = "errbot-poller"

    def cancel(self):
        self._t.cancel()


def _call_later(interval, fn):
    t = _Timer(interval, fn)
    t._t.start()
    return t


# The request a thread is serving, so that a plugin's self.send inside a
# command tells the bot which message it answers (loop protection).
_current = threading.local()


def current_request():
    return getattr(_current, "id", None)


class ShimBot:
    """The stand-in for Errbot's bot object, a plugin's self._bot."""

    def __init__(self, host, plugin_dir, bot_config=None, bot_user=None, call_later=None,
                 templates=None):
        self.host = host
        self.plugin_dir = str(plugin_dir)
        self.bot_config = BotConfig(bot_config)
        u = bot_user or {}
        self.bot_identifier = Person(username=u.get("username") or "matterbot",
                                     userid=u.get("id"), fullname=u.get("full_name"))
        self.mode = "mattermost"
        self.storage_plugin = StorePlugin(host)
        self.call_later = call_later or _call_later
        self.templates = templates or Templates([os.path.join(self.plugin_dir, "templates")])
        self.log = logging.getLogger("errbot.matterbot")

    def learn(self, info):
        """Take what the protocol says of the bot (§3.6: hello's bot, a bot
        message): its prefixes and admins, and its account once known."""
        c = self.bot_config
        if info.get("prefix"):  # "" in a describe hello
            c.BOT_PREFIX = info["prefix"]
        c.BOT_ALT_PREFIXES = tuple(info.get("alt_prefixes") or ())
        c.BOT_ADMINS = tuple(info.get("admins") or ())
        c.BOT_ADMINS_NOTIFICATIONS = c.BOT_ADMINS
        u = info.get("user")
        if u:
            self.bot_identifier = person_from(u)

    # Errbot's plugin manager calls these; matterbot registered the
    # commands from the manifest, so there is nothing to do.
    def inject_commands_from(self, plugin):
        pass

    def inject_command_filters_from(self, plugin):
        pass

    def remove_commands_from(self, plugin):
        pass

    def remove_command_filters_from(self, plugin):
        pass

    def _room_api(self, room):
        raise NotImplementedError(
            "room operations (join, leave, create, topic, occupants, invite) are not in "
            "matterbot's exec-plugin protocol")

    def _thread(self, to, in_reply_to):
        """The thread for a message to `to` answering in_reply_to: its
        thread (err-backend-mattermost's root_id) when `to` is where it
        was said, else none."""
        if in_reply_to is None or not isinstance(in_reply_to, Message):
            return None
        same = False
        if isinstance(to, Room) and not isinstance(to, RoomOccupant) and in_reply_to.is_group:
            same = to == in_reply_to.to
        elif isinstance(to, Person) and in_reply_to.is_direct:
            same = Person.__eq__(to, in_reply_to.frm)
        if not same:
            return None
        return in_reply_to.extras.get("root_id") or in_reply_to.extras.get("id") or None

    def send(self, identifier, text, in_reply_to=None, groupchat_nick_reply=False):
        text = str(text)
        if groupchat_nick_reply and isinstance(identifier, Room) and in_reply_to is not None:
            text = "@%s: %s" % (in_reply_to.frm.nick, text)
        self.host.send(identifier.address, text=text,
                       thread_id=self._thread(identifier, in_reply_to),
                       request=current_request())

    def send_templated(self, identifier, template_name, template_parameters, in_reply_to=None,
                       groupchat_nick_reply=False):
        text = self.process_template(template_name, template_parameters)
        return self.send(identifier, text, in_reply_to, groupchat_nick_reply)

    def process_template(self, template_name, params):
        if template_name and isinstance(params, Mapping):
            return self.templates.render(template_name, params)
        return str(params)

    def send_card(self, card):
        to = card.to
        if isinstance(to, RoomOccupant) and to.room is not None:
            to = to.room  # as err-backend-mattermost: a card goes to the room
        self.host.send(to.address, card=card_dict(card), thread_id=self._thread(to, card.parent),
                       request=current_request())

    def send_stream_request(self, user, fsource, name=None, size=None, stream_type=None):
        data = fsource.read()
        if isinstance(data, str):
            data = data.encode("utf-8")
        f = {"name": name or getattr(fsource, "name", None) or "file",
             "data": base64.b64encode(data).decode("ascii")}
        if stream_type:
            f["content_type"] = stream_type
        self.host.send(user.address, file=f, request=current_request())

    def warn_admins(self, warning):
        admins = self.bot_config.BOT_ADMINS_NOTIFICATIONS or ()
        if not admins:
            # A bot without admins: the warning goes to the bot's log,
            # where the operator sees it.
            self.log.warning("warn_admins: %s", warning)
            return
        for admin in admins:
            self.send(self.build_identifier(admin), warning)

    def change_presence(self, status, message=""):
        # err-backend-mattermost does nothing here either; the protocol has
        # no call for it.
        self.log.debug("change_presence(%s) ignored", status)

    def build_identifier(self, txtrep):
        txt = str(txtrep).strip()
        if not txt:
            raise ValueError("Invalid or unsupported Mattermost identifier: %r" % txtrep)
        if txt.startswith("~"):
            try:
                r = self.host.room(txt)
            except NotFound:
                raise RoomDoesNotExistError("no channel %s" % txt)
            except (Unsupported, CallError):
                return Room(name=txt[1:], bot=self)
            return room_from(r, self)
        name = txt if txt.startswith("@") else txt  # a bare id or name: the bot knows both
        try:
            u = self.host.user(name)
        except NotFound:
            raise UserDoesNotExistError("no user %s" % txt)
        except (Unsupported, CallError):
            if re.fullmatch(r"[a-z0-9]{26}", txt):
                return Person(userid=txt)
            return Person(username=txt.lstrip("@"))
        return person_from(u)

    def rooms(self):
        raise NotImplementedError("rooms(): matterbot's exec-plugin protocol cannot list rooms")

    def query_room(self, room):
        room = str(room)
        return self.build_identifier(room if room.startswith("~") else "~" + room)


def card_dict(card):
    """The protocol's card (§6.2) from Errbot's Card."""
    fields = [{"title": str(f[0]), "value": str(f[1]), "short": True} for f in card.fields or ()]
    d = {"text": card.body or "", "title": card.title or "", "link": card.link or "",
         "summary": card.summary or "", "color": card.color or "", "image": card.image or "",
         "thumbnail": card.thumbnail or "", "fields": fields}
    return {k: v for k, v in d.items() if v}


def person_from(u, room=None):
    if not u:
        return None
    kw = dict(username=u.get("username"), userid=u.get("id"), fullname=u.get("full_name"))
    if room is not None:
        return RoomOccupant(room=room, **kw)
    return Person(**kw)


def room_from(r, bot=None):
    if not r:
        return None
    return Room(name=r.get("name"), channelid=r.get("id"), teamid=r.get("team"), bot=bot)


def message_from(m, bot):
    """Errbot's Message from the protocol's (§3.2), as err-backend-mattermost
    makes it: in a channel frm is a RoomOccupant and to the Room; in a
    direct message frm is the Person and to the bot."""
    room = m.get("room") or {}
    user = m.get("from") or {}
    if m.get("direct"):
        frm = person_from(user)
        if frm is not None:
            frm._channelid = room.get("id")
        to = bot.bot_identifier
    else:
        r = room_from(room, bot)
        frm = person_from(user, r)
        to = r
    post_id = m.get("id") or ""
    extras = {"id": post_id, "root_id": m.get("thread_id") or post_id,
              "url": m.get("permalink") or "", "matterbot_message": m}
    if m.get("files"):
        extras["attachments"] = [f.get("id") for f in m["files"]]
    return Message(m.get("text", ""), frm=frm, to=to, extras=extras)


class Command:
    """One @botcmd, @arg_botcmd or @re_botcmd method."""

    def __init__(self, method):
        self.method = method
        self.func = getattr(method, "__func__", method)
        self.errbot_name = method._err_command_name
        self.is_re = bool(getattr(method, "_err_re_command", False))
        self.hidden = bool(method._err_command_hidden)
        self.admin_only = bool(method._err_command_admin_only)
        self.template = method._err_command_template
        self.split_args_with = getattr(method, "_err_command_split_args_with", "")
        self.syntax = getattr(method, "_err_command_syntax", None)
        self.doc = inspect.getdoc(method) or ""
        if self.is_re:
            self.pattern = method._err_command_re_pattern
            self.matchall = method._err_command_matchall
            self.prefixed = method._err_command_prefix_required
            self.name = self.errbot_name.lower()
            self.handler = "re:" + self.errbot_name
        else:
            # Errbot runs deploy_rollback for "!deploy rollback" and
            # "!deploy_rollback": matterbot's name has the spaces, the
            # alias the underscores.
            self.name = " ".join(w for w in self.errbot_name.lower().split("_") if w)
            self.alias = self.errbot_name.lower()
            self.handler = "cmd:" + self.errbot_name

    def manifest(self, warnings):
        d = {"name": self.name, "handler": self.handler}
        if self.doc:
            d["help"] = self.doc
        if self.hidden:
            d["hidden"] = True
        if self.admin_only:
            d["admin"] = True
        if self.is_re:
            pattern, loosened = rx.to_re2(self.pattern.pattern, self.pattern.flags)
            if loosened:
                warnings.append("regex command %s: RE2 has no %s: matterbot matches a looser "
                                "pattern, the plugin's own decides" % (self.errbot_name, loosened))
            d["pattern"] = pattern
            d["prefixed"] = bool(self.prefixed)
        else:
            if self.alias != self.name:
                d["aliases"] = [self.alias]
            if self.syntax:
                d["usage"] = self.syntax
        return d


class Webhook:
    """One @webhook method; one manifest entry per HTTP method it takes."""

    def __init__(self, method):
        self.method = method
        self.name = method.__name__
        self.rule = method._err_webhook_uri_rule
        self.methods = tuple(m.upper() for m in method._err_webhook_methods)
        self.form_param = method._err_webhook_form_param
        self.raw = method._err_webhook_raw
        self.path, self.converters = flask_rule_to_pattern(self.rule)
        self.handler = "hook:" + self.name

    def manifest(self):
        return [{"name": "%s %s" % (self.name, m), "pattern": "%s %s" % (m, self.path),
                 "handler": "%s %s" % (self.handler, m)} for m in self.methods]


_RULE_PART = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def flask_rule_to_pattern(rule):
    """Errbot's (Flask's) '/deploy/<env>/<int:n>' -> the ServeMux path
    '/deploy/{env}/{n}' and the converters {'n': int}. '<path:p>' takes the
    rest of the path: '{p...}'."""
    conv = {}

    def sub(m):
        converter, name = m.group(1), m.group(2)
        if converter == "int":
            conv[name] = int
        elif converter == "float":
            conv[name] = float
        return "{%s...}" % name if converter == "path" else "{%s}" % name
    return _RULE_PART.sub(sub, rule), conv


class WebRequest:
    """What a raw=True webhook receives: the parts of Flask's request that
    plugins use (method, path, args, form, data, headers, json, get_json,
    get_data)."""

    def __init__(self, wh):
        self.method = wh.get("method", "POST")
        self.path = wh.get("path", "/")
        self.headers = {k: v[0] if isinstance(v, list) and len(v) == 1 else v
                        for k, v in (wh.get("headers") or {}).items()}
        if "body_base64" in wh:
            self.data = base64.b64decode(wh["body_base64"])
        else:
            self.data = (wh.get("body") or "").encode("utf-8")
        self.args = {k: v[0] if isinstance(v, list) and len(v) == 1 else v
                     for k, v in (wh.get("query") or {}).items()}
        ctype = ""
        for k, v in self.headers.items():
            if k.lower() == "content-type":
                ctype = v if isinstance(v, str) else v[0]
        self.content_type = ctype
        self.mimetype = ctype.split(";")[0].strip().lower()
        self.form = {}
        if self.mimetype == "application/x-www-form-urlencoded":
            self.form = {k: v[0] if len(v) == 1 else v for k, v in urllib.parse.parse_qs(
                self.data.decode("utf-8", "replace"), keep_blank_values=True).items()}
        self.values = dict(self.args, **self.form)

    def get_data(self, as_text=False):
        return self.data.decode("utf-8", "replace") if as_text else self.data

    def get_json(self, force=False, silent=False):
        try:
            return json.loads(self.data.decode("utf-8"))
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self):
        return self.get_json(silent=True)

    @property
    def is_json(self):
        return self.mimetype == "application/json" or self.mimetype.endswith("+json")


# Errbot's callbacks and the protocol events (§2.6) that feed them.
CALLBACK_EVENTS = {
    "callback_message": "message",
    "callback_mention": "message",
    "callback_reaction": "reaction",
    "callback_presence": "presence",
    "callback_room_joined": "join",
    "callback_room_left": "leave",
    "callback_connect": "connect",
}

def find_plug(path):
    """The .plug file named, or the only one in the directory named."""
    path = Path(path)
    if path.is_dir():
        plugs = sorted(path.glob("*.plug"))
        if len(plugs) != 1:
            raise LoadError("%s holds %d .plug files; name the one to run" % (path, len(plugs)))
        return plugs[0].resolve()
    if not path.is_file():
        raise LoadError("%s: no such .plug file" % path)
    return path.resolve()


class Runtime:
    """One Errbot plugin, from its .plug file, speaking to a Host."""

    def __init__(self, plug, host, call_later=None, use_jinja=None):
        plug = find_plug(plug)
        self.plug = plug
        self.plugin_dir = plug.parent
        self.host = host
        self._call_later = call_later
        self._use_jinja = use_jinja
        self.bot = None
        self.info = None
        self.plugin = None
        self.commands = {}      # handler -> Command
        self.webhooks = {}      # handler -> Webhook
        self.filters = []
        self.callbacks = []
        self.warnings = []
        self.taken = frozenset()  # the other plugins' command names (a describe hello's)
        self._bot_lock = threading.Lock()
        self._bot_info = None  # a bot message that came before load made self.bot

    def learn(self, info):
        """A bot message (§5, §3.6): what the bot says of itself now. It
        may come while load runs (hello is served in a thread of its
        own): load takes it then."""
        with self._bot_lock:
            if self.bot is None:
                self._bot_info = info
                return
            self.bot.learn(info)

    # Loading and describing.
    def load(self, hello=None):
        """Read the .plug, import the module and make the plugin object."""
        hello = hello or {}
        self.taken = frozenset(hello.get("taken_commands") or ())
        info = hello.get("bot") or {}
        bot = ShimBot(self.host, self.plugin_dir,
                      bot_user={"username": info.get("name")},
                      call_later=self._call_later,
                      templates=Templates([str(self.plugin_dir / "templates")],
                                          use_jinja=self._use_jinja))
        bot.learn(info)
        with self._bot_lock:
            if self._bot_info is not None:
                bot.learn(self._bot_info)  # newer than hello's
            self.bot = bot
        try:
            self.info = PluginInfo.load(self.plug)
        except Exception as e:
            raise LoadError("%s: %s" % (self.plug, e))
        for bound, cmp, word in ((self.info.errbot_minversion, lambda v: v > ERRBOT_VERSION, "or later"),
                                 (self.info.errbot_maxversion, lambda v: v < ERRBOT_VERSION, "or earlier")):
            if bound and cmp(bound):
                raise LoadError("%s: [Errbot] asks for %s %s; the shim implements Errbot 6.2" % (
                    self.plug, ".".join(str(x) for x in bound[:3]), word))
        if self.info.dependencies:
            self.warnings.append("DependsOn %s: each plugin runs in its own process on matterbot, "
                                 "get_plugin is not available" % ", ".join(self.info.dependencies))
        try:
            classes = self.info.load_plugin_classes("errbot_plugins", BotPlugin)
        except Exception as e:
            raise LoadError("%s: importing %s: %s\n%s" % (self.plug, self.info.module, e,
                                                          traceback.format_exc()))
        if not classes:
            raise LoadError("%s: %s defines no BotPlugin subclass" % (self.plug, self.info.module))
        cls = classes[0][1]
        try:
            self.plugin = cls(self.bot, name=self.info.name)
        except Exception as e:
            raise LoadError("%s: making %s: %s\n%s" % (self.plug, cls.__name__, e,
                                                       traceback.format_exc()))
        self._introspect()

    def _introspect(self):
        seen = {}
        for _, m in inspect.getmembers(self.plugin, inspect.ismethod):
            if getattr(m, "_err_command", False):
                c = Command(m)
                key = ("re" if c.is_re else "cmd", c.name)
                if key in seen:
                    self.warnings.append("two commands named %s: %s kept, %s left out" % (
                        c.name, seen[key], m.__name__))
                    continue
                seen[key] = m.__name__
                self.commands[c.handler] = c
            if getattr(m, "_err_webhook_uri_rule", None):
                w = Webhook(m)
                self.webhooks[w.handler] = w
            if getattr(m, "_err_command_filter", False):
                self.filters.append(m)
                if getattr(m, "catch_unprocessed", False):
                    self.warnings.append("cmdfilter %s: catch_unprocessed filters are not run: "
                                         "matterbot answers unknown commands itself" % m.__name__)
            if getattr(m, "_err_flow", False):
                self.warnings.append("botflow %s: Errbot's flows do not run on matterbot" % m.__name__)
        for name in CALLBACK_EVENTS:
            if getattr(type(self.plugin), name, None) is not getattr(BotPlugin, name):
                self.callbacks.append(name)

    def _rename_clashes(self):
        """Errbot renames a command whose name another plugin's command
        has to CLASSNAME-NAME and warns the admins: so does the shim, with
        the names matterbot says are taken (a describe hello's
        taken_commands, given when the bot already runs: a reload or a new
        directory; at startup matterbot refuses the plugin instead). The
        handler is unchanged: the serving process needs no renaming."""
        if not self.taken:
            return
        cls = type(self.plugin).__name__
        for c in self.commands.values():
            if c.is_re:
                continue
            names = {c.name, c.errbot_name.lower()}
            if not names & self.taken:
                continue
            new = ("%s-%s" % (cls, c.errbot_name)).lower()
            self.warnings.append("%s.%s clashes with another plugin's command %s so it has been "
                                 "renamed %s" % (self.info.name, c.errbot_name,
                                                 sorted(names & self.taken)[0], new))
            c.alias = new
            c.name = " ".join(w for w in new.split("_") if w)

    def manifest(self):
        """The described part of the manifest (§11): ready.manifest."""
        m = {}
        self._rename_clashes()
        cmds = [c.manifest(self.warnings) for c in self.commands.values() if not c.is_re]
        regex = [c.manifest(self.warnings) for c in self.commands.values() if c.is_re]
        hooks = [e for w in self.webhooks.values() for e in w.manifest()]
        events = sorted({CALLBACK_EVENTS[c] for c in self.callbacks})
        if cmds:
            m["commands"] = cmds
        if regex:
            m["regex"] = regex
        if hooks:
            m["webhooks"] = hooks
        if events:
            m["events"] = events
        config = self._config_manifest()
        if config:
            m["config"] = config
        return m

    def _config_manifest(self):
        """The manifest's config section (§2.7) from the plugin's
        configuration template: each key with the type of its example
        value, secret when its name says so (masked by !plugin config),
        never required and without a default: Errbot's template is an
        example, and no table at all is configure(None). The bot checks
        the types and refuses unknown keys at load, with the file and
        line; check_configuration still judges the rest (every key of the
        template, what is inside lists and tables)."""
        try:
            template = self.plugin.get_configuration_template()
        except Exception as e:
            self.warnings.append("get_configuration_template failed (%s: %s): the configuration "
                                 "is passed as it is" % (type(e).__name__, e))
            return None
        if not isinstance(template, Mapping) or not template:
            return None
        out = {}
        for k, v in template.items():
            if not isinstance(k, str) or not k or any(c in k for c in ' ."'):
                self.warnings.append("configuration key %r cannot be declared to matterbot: the "
                                     "configuration is passed as it is" % (k,))
                return None
            d = {}
            t = _config_type(v)
            if t:
                d["type"] = t
            if secret_key(k):
                d["secret"] = True  # and its example value is not repeated
            else:
                d["help"] = "template: %s" % _short_repr(v)
            out[k] = d
        return out

    # Lifecycle.
    def configure(self, config):
        """Give the plugin hello's config, checked as Errbot's !plugin
        config checks it. An empty table is no configuration (None), as
        for an Errbot plugin never configured. Raises ValidationException."""
        p = self.plugin
        template = p.get_configuration_template()
        if not config:
            config = None
        if config is not None and template is not None:
            config = _like_template(template, config)
            p.check_configuration(config)
        p.configure(config)

    def activate(self):
        self.plugin.activate()

    def deactivate(self):
        if self.plugin is not None and self.plugin.is_activated:
            self.plugin.deactivate()

    # Requests.
    def handle(self, req, out):
        """Serve one request (§3.3). out(reply) sends a reply (§6) for it;
        the return value is None, the done's error object (§6.10), or
        NO_MATCH."""
        kind = req.get("kind")
        # A send made while serving a message names it (the bot marks the
        # post as an answer to it); schedules and webhooks answer none.
        _current.id = req.get("id") if req.get("message") else None
        try:
            if kind in ("command", "regex"):
                return self._command(req, out)
            if kind == "webhook":
                return self._webhook(req, out)
            if kind == "event":
                self._event(req)
                return None
            return {"message": "the Errbot shim has no %s %r" % (kind, req.get("handler")),
                    "kind": "internal"}
        finally:
            _current.id = None

    def _filters(self, msg, cmd, args):
        """Errbot's command filters, over this plugin's own filters."""
        try:
            for f in self.filters:
                msg, cmd, args = f(msg, cmd, args, False)
                if msg is None:
                    return None, None, None
            return msg, cmd, args
        except Exception:
            self.plugin.log.exception("a command filter failed; the command is blocked")
            return None, None, None

    def _command(self, req, out):
        c = self.commands.get(req.get("handler"))
        if c is None:
            return {"message": "no command with handler %r" % req.get("handler")}
        msg = message_from(req.get("message") or {}, self.bot)
        args = req.get("args") or ""
        match = None
        if c.is_re:
            match = list(c.pattern.finditer(args)) if c.matchall else c.pattern.search(args)
            if not match:
                return NO_MATCH  # RE2 matched, Python does not: not for this command
        msg, cmd, args = self._filters(msg, c.errbot_name, args)
        if msg is None:
            return None
        if cmd != c.errbot_name:
            other = next((x for x in self.commands.values() if x.errbot_name == cmd), None)
            if other is None or other.is_re != c.is_re:
                self.plugin.log.warning("a filter turned %s into %r, which this plugin does not "
                                        "have: blocked", c.errbot_name, cmd)
                return None
            c = other
        if not c.is_re and c.split_args_with != "":
            sep = c.split_args_with
            try:
                if hasattr(sep, "parse_args"):
                    args = sep.parse_args(args)
                elif callable(sep):
                    args = sep(args)
                else:
                    args = args.split(sep)
            except Exception as e:
                out({"type": "text", "text": "Sorry, I couldn't parse your arguments. %s" % e})
                return None
        return self._execute(c, msg, match if c.is_re else args, out)

    def _execute(self, c, msg, arg, out):
        def reply(r):
            if r:
                # Errbot's markdown rendering drops the newlines a text ends
                # with (argparse's usage has one); so does Mattermost.
                text = self.bot.process_template(c.template, r).rstrip("\n")
                if text:
                    out({"type": "text", "text": text})
        try:
            if inspect.isgeneratorfunction(c.func):
                for r in c.method(msg, arg):
                    reply(r)
            else:
                reply(c.method(msg, arg))
        except CommandError as e:
            # Errbot sends the reason as a plain reply; matterbot would put
            # "`!x` failed: " before a user error. Errbot's words win: the
            # user reads what they read before, and the log says why.
            reason = e.reason
            if e.template:
                reason = self.bot.process_template(e.template, reason)
            log.info("command %s: CommandError: %s", c.errbot_name, reason)
            out({"type": "text", "text": str(reason)})
            return None
        except Exception as e:
            return {"message": "%s: %s: %s\n%s" % (c.errbot_name, type(e).__name__, e,
                                                   traceback.format_exc()), "kind": "internal"}
        return None

    def _webhook(self, req, out):
        w = self.webhooks.get((req.get("handler") or "").split(" ")[0])
        wh = req.get("webhook") or {}
        if w is None:
            return {"message": "no webhook %r" % req.get("handler"), "status": 404, "kind": "user"}
        kwargs = {}
        for k, v in (wh.get("path_values") or {}).items():
            conv = w.converters.get(k)
            try:
                kwargs[k] = conv(v) if conv else v
            except ValueError:
                return {"message": "not found", "status": 404, "kind": "user"}
        r = WebRequest(wh)
        try:
            if w.raw:
                resp = w.method(r, **kwargs)
            elif w.form_param:
                content = r.form.get(w.form_param)
                if content is None:
                    return {"message": "missing form field %s" % w.form_param, "status": 400,
                            "kind": "user"}
                try:
                    content = json.loads(content)
                except ValueError:
                    pass
                resp = w.method(content, **kwargs)
            else:
                # As Errbot's WebView: the JSON body, else the body as text.
                data = r.get_json(silent=True)
                if not data:
                    data = r.get_data(as_text=True)
                resp = w.method(data, **kwargs)
        except Exception as e:
            return {"message": "webhook %s: %s: %s\n%s" % (w.name, type(e).__name__, e,
                                                           traceback.format_exc())}
        out(http_reply(resp))
        return None

    def _event(self, req):
        ev = req.get("event") or {}
        name = req.get("handler")
        if name == "message":
            m = req.get("message") or {}
            msg = message_from(m, self.bot)
            self.callback("callback_message", msg)
            people = [Person(username=n) for n in m.get("mentions") or []]
            if people:
                self.callback("callback_mention", msg, people)
        elif name == "reaction":
            self.callback("callback_reaction", Reaction(
                reactor=person_from(ev.get("user")),
                action=REACTION_REMOVED if ev.get("removed") else REACTION_ADDED,
                reaction_name=ev.get("emoji"),
                reacted_to={"id": ev.get("message_id"), "room": ev.get("room")}))
        elif name == "presence":
            self.callback("callback_presence", Presence(person_from(ev.get("user")),
                                                        ev.get("status") or "online"))
        elif name in ("join", "leave"):
            self._room_event("callback_room_joined" if name == "join" else "callback_room_left", ev)
        elif name == "connect":
            u = ev.get("user")
            if u:
                self.bot.bot_identifier = person_from(u)
            self.callback("callback_connect")

    def _room_event(self, cb, ev):
        if cb not in self.callbacks:
            return
        room = room_from(ev.get("room"), self.bot)
        who = person_from(ev.get("user"))
        fn = getattr(self.plugin, cb)
        try:
            nparams = len(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            nparams = 1
        if nparams >= 2:
            self.callback(cb, room, who, None)  # Errbot 6.2: any member, with the person
        elif who is not None and self.bot.bot_identifier.userid and who == self.bot.bot_identifier:
            self.callback(cb, room)  # older signature: the bot's own joins, as the seed
        elif who is not None and who.username == self.bot.bot_identifier.username:
            self.callback(cb, room)

    def callback(self, name, *args):
        if name not in self.callbacks:
            return
        try:
            getattr(self.plugin, name)(*args)
        except Exception:
            self.plugin.log.exception("%s crashed", name)


def http_reply(resp):
    """The http reply (§6.9) for what a webhook method returned: a string,
    bytes, a dict or list (JSON), None (empty), or Flask's (body, status)
    and (body, status, headers)."""
    status, headers = 200, {}
    if isinstance(resp, tuple):
        if len(resp) == 3:
            resp, status, headers = resp
        elif len(resp) == 2:
            resp, status = resp
    hdrs = {str(k): [str(v)] for k, v in dict(headers or {}).items()}
    has_type = any(k.lower() == "content-type" for k in hdrs)
    r = {"type": "http", "status": int(status)}
    if resp is None or resp == "":
        body = ""
    elif isinstance(resp, (dict, list)):
        body = json.dumps(resp)
        if not has_type:
            hdrs["Content-Type"] = ["application/json"]
    elif isinstance(resp, bytes):
        r["body_base64"] = base64.b64encode(resp).decode("ascii")
        body = None
        if not has_type:
            hdrs["Content-Type"] = ["application/octet-stream"]
    else:
        body = str(resp)
        if not has_type:
            hdrs["Content-Type"] = ["text/html; charset=utf-8"]
    if body is not None:
        r["body"] = body
    if hdrs:
        r["headers"] = hdrs
    return r


def _config_type(v):
    """The manifest's config type (§2.7) of a template's example value,
    or None (any)."""
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (list, tuple)):
        return "array"
    if isinstance(v, Mapping):
        return "table"
    return None


_SECRET_WORDS = {"password", "passwd", "pass", "secret", "token", "key", "apikey", "credential",
                 "credentials", "pwd"}


def secret_key(name):
    """Whether a configuration key's name says it holds a secret: one of
    its words (split at _, -, case changes) is password, secret, token,
    key, … Errbot has no notion of secret keys; a false positive only
    masks a value in !plugin config."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)
    return any(w.lower() in _SECRET_WORDS for w in words) or any(
        s in name.lower() for s in ("password", "secret", "token"))


def _short_repr(v):
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _like_template(template, config):
    """JSON has no tuples: where the template has one, make the list one;
    an integer where the template has a float is a float."""
    if isinstance(template, tuple) and isinstance(config, list):
        sample = template[0] if template else None
        return tuple(_like_template(sample, x) for x in config)
    if isinstance(template, list) and isinstance(config, list):
        sample = template[0] if template else None
        return [_like_template(sample, x) for x in config]
    if isinstance(template, dict) and isinstance(config, dict):
        return {k: _like_template(template.get(k), v) for k, v in config.items()}
    if isinstance(template, float) and isinstance(config, int) and not isinstance(config, bool):
        return float(config)
    return config
