"""BotPlugin: Errbot's plugin base class, on matterbot.

The methods a plugin calls (send, send_card, send_templated,
build_identifier, warn_admins, start_poller, stop_poller, self.log,
self[...] storage, self.config) keep Errbot's signatures; they act through
``self._bot``, the shim's stand-in for Errbot's bot object, which turns
them into calls to matterbot (see errbot._matterbot.runtime).
"""

import logging
import shlex


from .backends.base import (Card, Identifier, Message, ONLINE, Person, Room,  # noqa: F401
                            RoomOccupant)
from .storage import StoreMixin, StoreNotOpenError

log = logging.getLogger(__name__)


class ValidationException(Exception):
    """A plugin's configuration does not fit its template."""


def recurse_check_structure(sample, to_check):
    """Errbot's default check_configuration: to_check has sample's shape.

    Same keys as a dict (none missing, none more), same types, list and
    tuple items of the type of the sample's first item. A None in the
    sample accepts anything.
    """
    if sample is not None and type(sample) is not type(to_check):
        raise ValidationException("%r [%s] is not the same type as %r [%s]." % (
            sample, type(sample).__name__, to_check, type(to_check).__name__))
    if isinstance(sample, (list, tuple)):
        if sample:
            for item in to_check:
                recurse_check_structure(sample[0], item)
        return
    if isinstance(sample, dict):
        for key in sample:
            if key not in to_check:
                raise ValidationException("%r doesn't contain the key %s." % (to_check, key))
        for key in to_check:
            if key not in sample:
                raise ValidationException("%r contains an unknown key %s." % (to_check, key))
        for key in sample:
            recurse_check_structure(sample[key], to_check[key])


class CommandError(Exception):
    """Raised by a command to tell the user why it did not proceed: the
    user reads reason (rendered with template when given)."""

    def __init__(self, reason, template=None):
        super().__init__(reason)
        self.reason = reason
        self.template = template

    def __str__(self):
        return str(self.reason)


class Command:
    """A command made at run time, for create_dynamic_plugin (not supported
    on matterbot: see the shim's README); kept so that imports work."""

    def __init__(self, function, cmd_type=None, cmd_args=None, cmd_kwargs=None, name=None,
                 doc=None):
        if cmd_type is None:
            from errbot import botcmd
            cmd_type = botcmd
        if name is None:
            if function.__name__ == "<lambda>":
                raise ValueError("function is a lambda (anonymous), parameter name needs to be set.")
            name = function.__name__
        self.name = name
        function.__name__ = name
        if doc:
            function.__doc__ = doc
        self.definition = cmd_type(*((function,) + tuple(cmd_args or ())), **(cmd_kwargs or {}))


class BotPluginBase(StoreMixin):
    """Loading, activation, storage and pollers of a plugin."""

    def __init__(self, bot=None, name=None):
        self.is_activated = False
        self.current_pollers = []
        self.current_timers = []
        self.dependencies = []
        self._dynamic_plugins = {}
        if bot is None:
            raise ValueError("a BotPlugin is made by the bot: BotPlugin(bot, name)")
        self._bot = bot
        self._name = name or type(self).__name__
        self.log = logging.getLogger("errbot.plugins.%s" % self._name)
        self.plugin_dir = getattr(bot, "plugin_dir", None)
        self.config = None
        super().__init__()

    @property
    def name(self):
        """The plugin's name, from its .plug file."""
        return self._name

    @property
    def mode(self):
        """The backend: "mattermost" (or "console", "test")."""
        return self._bot.mode

    @property
    def bot_config(self):
        """Errbot's config module: BOT_ADMINS, BOT_PREFIX, ... as matterbot has them."""
        return self._bot.bot_config

    @property
    def bot_identifier(self):
        """The bot's own Person."""
        return self._bot.bot_identifier

    def init_storage(self):
        self.open_storage(self._bot.storage_plugin, self.name)

    def activate(self):
        """Open the storage and expose the commands. Override it, calling
        super().activate()."""
        self.init_storage()
        self._bot.inject_commands_from(self)
        self.is_activated = True

    def deactivate(self):
        """Stop the pollers and close the storage. Override it, calling
        super().deactivate()."""
        if self.current_pollers:
            log.debug("stopping the pollers of %s at deactivation", self.name)
        self.current_pollers = []
        for t in self.current_timers:
            t.cancel()
        self.current_timers = []
        try:
            self.close_storage()
        except StoreNotOpenError:
            pass
        self.is_activated = False

    def start_poller(self, interval, method, times=None, args=None, kwargs=None):
        """Call method(*args, **kwargs) every interval seconds, the first
        time after interval; times calls at most (None: until stopped)."""
        args = list(args) if args else []
        kwargs = dict(kwargs) if kwargs else {}
        try:
            self.current_pollers.append((method, args, kwargs))
            self.program_next_poll(interval, method, times, args, kwargs)
        except Exception:
            log.exception("poller programming failed")

    def stop_poller(self, method=None, args=None, kwargs=None):
        """Stop the poller started with these method, args and kwargs (all
        of them when method is None)."""
        if method is None:
            self.current_pollers = []
            return
        args = list(args) if args else []
        kwargs = dict(kwargs) if kwargs else {}
        self.current_pollers.remove((method, args, kwargs))

    def program_next_poll(self, interval, method, times=None, args=None, kwargs=None):
        if times is not None and times <= 0:
            return
        holder = []

        def fire():
            if holder and holder[0] in self.current_timers:
                self.current_timers.remove(holder[0])
            self.poller(interval, method, times, args, kwargs)
        t = self._bot.call_later(interval, fire)
        holder.append(t)
        self.current_timers.append(t)

    def poller(self, interval, method, times=None, args=None, kwargs=None):
        if (method, args, kwargs) not in self.current_pollers:
            return
        try:
            method(*args, **kwargs)
        except Exception:
            log.exception("a poller crashed")
        if times is not None:
            times -= 1
        if (method, args, kwargs) in self.current_pollers:
            self.program_next_poll(interval, method, times, args, kwargs)

    def create_dynamic_plugin(self, name, commands, doc=""):
        raise NotImplementedError(
            "create_dynamic_plugin: matterbot registers a plugin's commands when it starts; "
            "declare them with @botcmd instead")

    def destroy_dynamic_plugin(self, name):
        raise NotImplementedError("destroy_dynamic_plugin: see create_dynamic_plugin")

    def get_plugin(self, name):
        raise NotImplementedError(
            "get_plugin(%r): on matterbot each Errbot plugin runs in its own process, so "
            "plugins cannot call each other's objects" % name)


class BotPlugin(BotPluginBase):
    """The base class of an Errbot plugin."""

    def get_configuration_template(self):
        """Return a dict of the configuration keys and example values, or
        None (the default) when the plugin takes no configuration."""
        return None

    def check_configuration(self, configuration):
        """Raise ValidationException when configuration does not fit the
        template (the default checks its shape)."""
        recurse_check_structure(self.get_configuration_template(), configuration)

    def configure(self, configuration):
        """Keep configuration in self.config (None when there is none).
        Called before activate."""
        self.config = configuration

    def activate(self):
        super().activate()

    def deactivate(self):
        super().deactivate()

    # Callbacks: override the ones the plugin wants.
    def callback_connect(self):
        pass

    def callback_message(self, message):
        pass

    def callback_mention(self, message, mentioned_people):
        pass

    def callback_presence(self, presence):
        pass

    def callback_reaction(self, reaction):
        pass

    def callback_stream(self, stream):
        stream.reject()

    def callback_botmessage(self, message):
        pass

    def callback_room_joined(self, room, identifier=None, invited_by=None):
        pass

    def callback_room_left(self, room, identifier=None, kicked_by=None):
        pass

    def callback_room_topic(self, room):
        pass

    # What a plugin asks of the bot.
    def warn_admins(self, warning):
        """Send warning to each of the bot's admins."""
        self._bot.warn_admins(warning)

    def send(self, identifier, text, in_reply_to=None, groupchat_nick_reply=False):
        """Send text (markdown) to a person or a room. A RoomOccupant gets
        a direct message, as with err-backend-mattermost. With in_reply_to
        and the same room, the message goes to that message's thread."""
        if not isinstance(identifier, Identifier):
            raise ValueError("identifier needs to be of type Identifier, the old string "
                             "behavior is not supported")
        return self._bot.send(identifier, text, in_reply_to, groupchat_nick_reply)

    def send_card(self, body="", to=None, in_reply_to=None, summary=None, title="", link=None,
                  image=None, thumbnail=None, color="green", fields=()):
        """Send a card: a Mattermost message attachment. to defaults to
        the sender of in_reply_to; a RoomOccupant is its room."""
        frm = in_reply_to.to if in_reply_to is not None else self.bot_identifier
        if to is None:
            if in_reply_to is None:
                raise ValueError("Either to or in_reply_to needs to be set.")
            to = in_reply_to.frm
        self._bot.send_card(Card(body, frm, to, in_reply_to, summary, title, link, image,
                                 thumbnail, color, fields))

    def change_presence(self, status=ONLINE, message=""):
        """Set the bot's status (online, away, dnd, offline)."""
        self._bot.change_presence(status, message)

    def send_templated(self, identifier, template_name, template_parameters, in_reply_to=None,
                       groupchat_nick_reply=False):
        """send, with the text rendered from templates/TEMPLATE_NAME.md."""
        return self._bot.send_templated(identifier=identifier, template_name=template_name,
                                        template_parameters=template_parameters,
                                        in_reply_to=in_reply_to,
                                        groupchat_nick_reply=groupchat_nick_reply)

    def build_identifier(self, txtrep):
        """"@user" is a Person, "~channel" (or "~team/channel") a Room; a
        bare Mattermost id is a user id, as with err-backend-mattermost."""
        return self._bot.build_identifier(txtrep)

    def send_stream_request(self, user, fsource, name=None, size=None, stream_type=None):
        """Upload the file read from fsource to user (a Person or Room)."""
        return self._bot.send_stream_request(user, fsource, name, size, stream_type)

    def rooms(self):
        """The rooms the bot is in."""
        return self._bot.rooms()

    def query_room(self, room):
        """A Room by name ("~name" or "name")."""
        return self._bot.query_room(room)

    def join_room(self, room, username=None, password=None):
        self.query_room(room).join(username, password)


class ArgParserBase:
    """What split_args_with takes besides a string: an object with
    parse_args(args) -> list."""

    def parse_args(self, args):
        raise NotImplementedError()


class SeparatorArgParser(ArgParserBase):
    """Split on a separator, as str.split(separator, maxsplit)."""

    def __init__(self, separator=None, maxsplit=-1):
        self.separator = separator
        self.maxsplit = maxsplit

    def parse_args(self, args):
        return args.split(self.separator, self.maxsplit)


class ShlexArgParser(ArgParserBase):
    """Split with shell quoting rules, as shlex.split."""

    def parse_args(self, args):
        return shlex.split(args)


