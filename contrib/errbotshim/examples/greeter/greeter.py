from errbot import BotPlugin, CommandError, botcmd


class Greeter(BotPlugin):
    """Greets people."""

    @botcmd
    def hello(self, msg, args):
        """Say hello to you, or to whom you name."""
        return "Hello, %s!" % (args or msg.frm.nick)

    @botcmd(split_args_with=None)
    def shout(self, msg, args):
        """Shout each word back, on its own line."""
        if not args:
            raise CommandError("Shout what?")
        for word in args:
            yield word.upper() + "!"

    @botcmd(split_args_with=",")
    def greet_each(self, msg, args):
        """Greet a comma-separated list of names: !greet each ann, bob"""
        return " ".join("Hi %s." % name.strip() for name in args if name.strip())

    @botcmd
    def greet_room(self, msg, args):
        """Greet the room you are in."""
        if msg.is_direct:
            return "This is just the two of us, %s." % msg.frm.nick
        return "Hello, everyone in %s!" % msg.to

    @botcmd
    def botname(self, msg, args):
        """The bot's own name."""
        return "I am %s." % self.bot_identifier.nick

    @botcmd(hidden=True)
    def handshake(self, msg, args):
        """The secret handshake."""
        return "*secret handshake*"

    @botcmd(admin_only=True)
    def greeting(self, msg, args):
        """Set the greeting word (admins only)."""
        self["greeting"] = args
        return "Greeting set to %r." % args

    @botcmd
    def greet(self, msg, args):
        """Greet with the word set by !greeting."""
        word = self.get("greeting", "Hello")
        return "%s, %s!" % (word, args or msg.frm.nick)

    @botcmd(template="welcome")
    def welcome(self, msg, args):
        """Welcome someone with the house rules."""
        return {"name": args or msg.frm.nick, "rules": ["be kind", "no spoilers"]}

    @botcmd
    def farewell(self, msg, args):
        """Say goodbye to someone."""
        if not args:
            raise CommandError("Say goodbye to whom?")
        self.log.info("farewell to %s", args)
        return "Goodbye, %s." % args

    @botcmd
    def oops(self, msg, args):
        """Fail, to see what failing looks like."""
        raise RuntimeError("the greeter tripped over %r" % args)
