from itertools import chain

from errbot import BotPlugin, arg_botcmd, botcmd

CONFIG_TEMPLATE = {"MAX_NOTES": 5, "BULLET": "-"}


class Notes(BotPlugin):
    """Notes kept in the bot's store."""

    def get_configuration_template(self):
        return CONFIG_TEMPLATE

    def configure(self, configuration):
        # Errbot's documented way to have defaults: merge the template.
        if configuration is not None and configuration != {}:
            config = dict(chain(CONFIG_TEMPLATE.items(), configuration.items()))
        else:
            config = CONFIG_TEMPLATE
        super().configure(config)

    def activate(self):
        super().activate()
        if "notes" not in self:
            self["notes"] = []

    @arg_botcmd("words", nargs="+", help="the note")
    @arg_botcmd("--tag", dest="tag", default="", help="a tag for the note")
    def note_add(self, msg, words, tag):
        """Add a note."""
        text = " ".join(words)
        with self.mutable("notes") as notes:
            if len(notes) >= self.config["MAX_NOTES"]:
                return "I keep %d notes at most." % self.config["MAX_NOTES"]
            notes.append({"text": text, "tag": tag, "by": msg.frm.person})
        return "Noted (%d)." % len(self["notes"])

    @botcmd
    def note_list(self, msg, args):
        """List the notes (of a tag)."""
        notes = [n for n in self["notes"] if not args or n["tag"] == args]
        if not notes:
            return "No notes."
        bullet = self.config["BULLET"]
        return "\n".join("%s %d. %s%s" % (bullet, i + 1, n["text"],
                                         " [%s]" % n["tag"] if n["tag"] else "")
                         for i, n in enumerate(notes))

    @arg_botcmd("index", type=int, help="the note's number")
    def note_del(self, msg, index):
        """Delete a note by its number."""
        with self.mutable("notes") as notes:
            if not 1 <= index <= len(notes):
                return "There is no note %d." % index
            gone = notes.pop(index - 1)
        return "Deleted: %s" % gone["text"]

    @botcmd
    def note_stats(self, msg, args):
        """What the store holds."""
        self["seen"] = self.get("seen", 0) + 1
        self["kinds"] = {"tuple": (1, 2), "set": {"a"}}  # not JSON: pickled
        return "%d notes, %d keys, asked %d times." % (len(self["notes"]), len(self), self["seen"])
