import subprocess
import sys
import threading

from errbot import BotPlugin, botcmd


class Noisy(BotPlugin):
    def activate(self):
        print("activating, on standard output")
        super().activate()
        self.activations = self.get("activations", 0) + 1
        self["activations"] = self.activations

    def deactivate(self):
        self["last_words"] = "bye"
        self["deactivations"] = self.get("deactivations", 0) + 1  # a read, then a write
        self.log.info("deactivating after %d activations", self.activations)
        super().deactivate()

    @botcmd
    def chatter(self, msg, args):
        print("a print in a command")
        subprocess.run(["echo", "a child's output"], check=True)
        sys.stdout.write("and sys.stdout.write\n")
        return "said %s" % args

    @botcmd
    def slow(self, msg, args):
        value = self["gate"]  # the test holds this call's result back
        return "slow got %s" % value

    @botcmd
    def whoami(self, msg, args):
        return "%s in %s (%s)" % (msg.frm.person, msg.to, self.bot_config.BOT_PREFIX)

    @botcmd
    def hang(self, msg, args):
        threading.Event().wait()  # never returns
