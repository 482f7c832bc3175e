from errbot import BotPlugin, botcmd


class Ticker(BotPlugin):
    """Ticks on a poller, and talks to people and rooms."""

    def activate(self):
        super().activate()
        self.ticks = self.get("ticks", 0)  # saved by deactivate
        self.target = None

    def deactivate(self):
        # Errbot plugins keep their state this way.
        self["ticks"] = self.ticks
        self["stops"] = self.get("stops", 0) + 1
        super().deactivate()

    def tick(self, label):
        self.ticks += 1
        self.send(self.target, "%s %d" % (label, self.ticks))

    @botcmd(split_args_with=None)
    def tick_start(self, msg, args):
        """Tick every N seconds, M times: !tick start 0.05 3"""
        interval = float(args[0]) if args else 60.0
        times = int(args[1]) if len(args) > 1 else None
        self.target = msg.to if msg.is_group else msg.frm
        self.start_poller(interval, self.tick, times=times, args=("tick",))
        return "Ticking every %gs." % interval

    @botcmd
    def tick_stop(self, msg, args):
        """Stop ticking."""
        self.stop_poller(self.tick, args=("tick",))
        return "Stopped after %d ticks." % self.ticks

    @botcmd
    def tick_count(self, msg, args):
        """How many ticks so far, across restarts."""
        stops = self.get("stops", 0)
        return "%d ticks%s." % (self.ticks, " (saved at stop %d)" % stops if stops else "")

    @botcmd
    def tell(self, msg, args):
        """Tell someone (or a room) something: !tell @bob hi"""
        who, _, text = args.partition(" ")
        self.send(self.build_identifier(who), text or "(nothing)")
        return "Told %s." % who

    @botcmd
    def reply_here(self, msg, args):
        """Answer in the thread of the command."""
        self.send(msg.to if msg.is_group else msg.frm, "in the thread", in_reply_to=msg)

    @botcmd
    def status_card(self, msg, args):
        """The ticker's state as a card."""
        self.send_card(title="Ticker", body="Ticking **%s**." % ("on" if self.current_pollers else "off"),
                       fields=(("ticks", str(self.ticks)), ("target", str(self.target))),
                       color="green", link="https://example.com/ticker", in_reply_to=msg)

    @botcmd
    def report(self, msg, args):
        """A report from a template, sent to you."""
        self.send_templated(msg.frm, "report", {"ticks": self.ticks, "who": msg.frm.nick})

    @botcmd(admin_only=True)
    def alarm(self, msg, args):
        """Warn the admins."""
        self.warn_admins("alarm raised by %s: %s" % (msg.frm.person, args))
        return "Admins warned."
