from errbot import BotPlugin, botcmd


class Watcher(BotPlugin):
    """Counts what happens around it."""

    def activate(self):
        super().activate()
        self.counts = {"messages": 0, "mentions": 0, "reactions": 0, "presence": 0,
                     "joined": 0, "left": 0, "connected": 0}

    def callback_connect(self):
        self.counts["connected"] += 1

    def callback_message(self, message):
        self.counts["messages"] += 1
        if "secret" in message.body.lower() and message.is_group:
            self.send(message.frm, "Careful: %s is a public channel." % message.to)

    def callback_mention(self, message, mentioned_people):
        self.counts["mentions"] += len(mentioned_people)

    def callback_reaction(self, reaction):
        self.counts["reactions"] += 1
        self.log.info("%s %s :%s:", reaction.reactor, reaction.action, reaction.reaction_name)

    def callback_presence(self, presence):
        self.counts["presence"] += 1

    def callback_room_joined(self, room, identifier, invited_by):
        self.counts["joined"] += 1
        self.send(room, "Welcome to %s, %s." % (room, identifier.nick))

    def callback_room_left(self, room, identifier, kicked_by):
        self.counts["left"] += 1

    @botcmd
    def seen(self, msg, args):
        """What the watcher saw."""
        return ", ".join("%s %d" % kv for kv in sorted(self.counts.items()))
