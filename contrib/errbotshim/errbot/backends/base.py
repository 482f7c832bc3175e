"""Errbot's chat model (identifiers, messages, cards, presence, reactions).

The classes keep Errbot's names, constructors and properties so that
plugins which import them (``from errbot.backends.base import RoomOccupant``)
work unchanged. The identifiers are those of Errbot's Mattermost backend
(err-backend-mattermost): a person is ``@username``, a room ``~channel``.
They are built by the shim from what matterbot sends; nothing here talks
to a server.
"""

import io

ONLINE = "online"
OFFLINE = "offline"
AWAY = "away"
DND = "dnd"

REACTION_ADDED = "added"
REACTION_REMOVED = "removed"


class Identifier:
    """Anything a message can be sent to: a Person, a Room, a RoomOccupant."""

    #: the matterbot address of this identifier ("@id", "~id"), set by the shim.
    address = None


class RoomError(Exception):
    """A room operation failed."""


class RoomNotJoinedError(RoomError):
    """The operation needs the bot to be in the room."""


class RoomDoesNotExistError(RoomError):
    """The room does not exist."""


class UserDoesNotExistError(Exception):
    """The user does not exist."""


class UserNotUniqueError(Exception):
    """More than one user has that name."""


class Person(Identifier):
    """A Mattermost user, as err-backend-mattermost's MattermostPerson.

    ``person``, ``aclattr`` and ``str()`` are ``@username``; ``nick`` is
    the username; ``userid`` the Mattermost user id; ``client`` and
    ``channelid`` the channel the message came from, when there is one.
    """

    def __init__(self, username=None, userid=None, fullname=None, email=None,
                 channelid=None, teamid=None):
        if username is not None and username.startswith("@"):
            username = username[1:]
        self._username = username
        self._userid = userid
        self._fullname = fullname
        self._email = email
        self._channelid = channelid
        self._teamid = teamid

    @property
    def userid(self):
        return self._userid

    @property
    def username(self):
        return self._username if self._username is not None else self._userid

    @property
    def person(self):
        return "@" + (self.username or "")

    @property
    def nick(self):
        return self.username

    @property
    def aclattr(self):
        return self.person

    @property
    def fullname(self):
        return self._fullname

    @property
    def email(self):
        return self._email or ""

    @property
    def client(self):
        return self._channelid

    @property
    def channelid(self):
        return self._channelid

    @property
    def teamid(self):
        return self._teamid

    @property
    def address(self):
        """Where matterbot sends a message for this person: a DM."""
        if self._userid:
            return "@" + self._userid
        return "@" + (self._username or "")

    def __str__(self):
        return self.person

    def __repr__(self):
        return "<Person %s>" % self.person

    def __eq__(self, other):
        if not isinstance(other, Person):
            return False
        if self._userid and other._userid:
            return self._userid == other._userid
        return self.username == other.username

    def __hash__(self):
        return hash(self._userid or self.username)


class Room(Identifier):
    """A Mattermost channel, as err-backend-mattermost's MattermostRoom.

    ``str()`` is ``~name``; ``name`` the channel name, ``id`` its id.
    Room management (join, create, topic...) goes through matterbot when
    the protocol allows it, and raises NotImplementedError otherwise.
    """

    def __init__(self, name=None, channelid=None, teamid=None, display_name=None,
                 bot=None, kind="channel"):
        if name is not None and name.startswith("~"):
            name = name[1:]
        self._name = name
        self._id = channelid
        self._teamid = teamid
        self._display_name = display_name
        self._bot = bot
        self._kind = kind

    @property
    def name(self):
        return self._name if self._name is not None else self._id

    @property
    def id(self):
        return self._id

    @property
    def channelid(self):
        return self._id

    @property
    def teamid(self):
        return self._teamid

    @property
    def display_name(self):
        return self._display_name or self.name

    @property
    def address(self):
        """Where matterbot sends a message for this room."""
        if self._id:
            return "~" + self._id
        return "~" + (self._name or "")

    def _rooms(self):
        if self._bot is None:
            raise NotImplementedError("room operations are not available to this plugin")
        return self._bot._room_api(self)

    def join(self, username=None, password=None):
        self._rooms().join()

    def leave(self, reason=None):
        self._rooms().leave()

    def create(self, private=False):
        self._rooms().create(private)

    def destroy(self):
        raise NotImplementedError("matterbot does not delete channels")

    @property
    def exists(self):
        return self._rooms().exists()

    @property
    def joined(self):
        return self._rooms().joined()

    @property
    def topic(self):
        return self._rooms().topic()

    @topic.setter
    def topic(self, topic):
        self._rooms().set_topic(topic)

    @property
    def purpose(self):
        return self._rooms().purpose()

    @purpose.setter
    def purpose(self, purpose):
        self._rooms().set_purpose(purpose)

    @property
    def occupants(self):
        return self._rooms().occupants()

    def invite(self, *args):
        self._rooms().invite(args)

    def __str__(self):
        return "~" + (self.name or "")

    def __repr__(self):
        return "<Room %s>" % self

    def __eq__(self, other):
        if not isinstance(other, Room):
            return False
        if self._id and other._id:
            return self._id == other._id
        return self.name == other.name

    def __hash__(self):
        return hash(self._id or self.name)


class RoomOccupant(Person):
    """A person speaking in a room: ``frm`` of a message posted in a channel.

    As in err-backend-mattermost, sending to an occupant sends a direct
    message to the person (``room`` is the channel it came from).
    """

    def __init__(self, username=None, userid=None, room=None, **kw):
        super().__init__(username=username, userid=userid,
                         channelid=room.id if room is not None else None, **kw)
        self._room = room

    @property
    def room(self):
        return self._room

    def __repr__(self):
        return "<RoomOccupant %s in %s>" % (self.person, self._room)

    def __eq__(self, other):
        if isinstance(other, RoomOccupant):
            return Person.__eq__(self, other) and self._room == other._room
        return Person.__eq__(self, other)

    __hash__ = Person.__hash__


class Message:
    """A chat message, with Errbot's constructor and properties.

    ``extras`` holds what err-backend-mattermost puts there: ``id`` (the
    post id), ``root_id`` (the thread's root, the post itself when not in
    a thread), ``url`` (the permalink), ``attachments`` (file ids).
    """

    def __init__(self, body="", frm=None, to=None, parent=None, delayed=False,
                 partial=False, extras=None, flow=None):
        self._body = body
        self._from = frm
        self._to = to
        self._parent = parent
        self._delayed = delayed
        self._partial = partial
        self._extras = extras if extras is not None else {}
        self._flow = flow
        self.ctx = flow.ctx if flow is not None else {}

    def clone(self):
        return Message(body=self._body, frm=self._from, to=self._to, parent=self._parent,
                       delayed=self._delayed, partial=self._partial,
                       extras=self._extras, flow=self._flow)

    to = property(lambda self: self._to, lambda self, v: setattr(self, "_to", v))
    frm = property(lambda self: self._from, lambda self, v: setattr(self, "_from", v))
    body = property(lambda self: self._body, lambda self, v: setattr(self, "_body", v))
    delayed = property(lambda self: self._delayed, lambda self, v: setattr(self, "_delayed", v))
    parent = property(lambda self: self._parent, lambda self, v: setattr(self, "_parent", v))
    partial = property(lambda self: self._partial, lambda self, v: setattr(self, "_partial", v))

    @property
    def extras(self):
        return self._extras

    @property
    def flow(self):
        return self._flow

    @property
    def is_direct(self):
        return isinstance(self._to, Person)

    @property
    def is_group(self):
        return isinstance(self._to, Room)

    @property
    def is_threaded(self):
        return self._parent is not None

    def __str__(self):
        return self._body

    def __repr__(self):
        return "<Message from %s to %s: %r>" % (self._from, self._to, self._body)


class Card(Message):
    """A card (Mattermost message attachment), as Errbot's Card."""

    def __init__(self, body="", frm=None, to=None, parent=None, summary=None, title="",
                 link=None, image=None, thumbnail=None, color=None, fields=()):
        super().__init__(body=body, frm=frm, to=to, parent=parent)
        self._summary = summary
        self._title = title
        self._link = link
        self._image = image
        self._thumbnail = thumbnail
        self._color = color
        self._fields = fields

    summary = property(lambda self: self._summary)
    title = property(lambda self: self._title)
    link = property(lambda self: self._link)
    image = property(lambda self: self._image)
    thumbnail = property(lambda self: self._thumbnail)
    color = property(lambda self: self._color)
    fields = property(lambda self: self._fields)

    @property
    def text_color(self):
        return "white" if self._color in ("black", "blue") else "black"


class Presence:
    """A change of someone's status: ONLINE, OFFLINE, AWAY or DND."""

    def __init__(self, identifier, status=None, message=None):
        if identifier is None:
            raise ValueError("Presence: identifier is None")
        if status is None and message is None:
            raise ValueError("Presence: a status or a message is needed")
        self._identifier = identifier
        self._status = status
        self._message = message

    identifier = property(lambda self: self._identifier)
    status = property(lambda self: self._status)
    message = property(lambda self: self._message)

    def __str__(self):
        parts = []
        if self._identifier:
            parts.append('identifier: "%s"' % self._identifier)
        if self._status:
            parts.append('status: "%s"' % self._status)
        if self._message:
            parts.append('message: "%s"' % self._message)
        return " ".join(parts)


class Reaction:
    """An emoji reaction added to or removed from a message."""

    def __init__(self, reactor=None, reacted_to_owner=None, action=None, timestamp=None,
                 reaction_name=None, reacted_to=None):
        self._reactor = reactor
        self._reacted_to_owner = reacted_to_owner
        self._action = action
        self._timestamp = timestamp
        self._reaction_name = reaction_name
        self._reacted_to = reacted_to if reacted_to is not None else {}

    reactor = property(lambda self: self._reactor)
    reacted_to_owner = property(lambda self: self._reacted_to_owner)
    action = property(lambda self: self._action)
    timestamp = property(lambda self: self._timestamp)
    reaction_name = property(lambda self: self._reaction_name)
    reacted_to = property(lambda self: self._reacted_to)

    def __str__(self):
        return "reactor: %s action: %s reaction: %s" % (self._reactor, self._action,
                                                        self._reaction_name)


class Stream(io.BufferedReader):
    """An incoming file. matterbot does not offer incoming streams; the
    class exists for plugins that import it."""

    def __init__(self, identifier, fsource, name=None, size=None, stream_type=None):
        super().__init__(fsource)
        self.identifier = identifier
        self.name = name
        self.size = size
        self.stream_type = stream_type

    def accept(self):
        pass

    def reject(self):
        pass
