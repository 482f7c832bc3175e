import re

from errbot import BotPlugin, re_botcmd


class Cookies(BotPlugin):
    """Hands out cookies."""

    @re_botcmd(pattern=r"^(?:(?:can|may) i have an? )?cookie(?: please)?\??$", flags=re.IGNORECASE)
    def give_cookie(self, msg, match):
        """Ask for a cookie: !cookie, !may I have a cookie please?"""
        return "Here's a cookie for you, %s." % msg.frm.nick

    @re_botcmd(pattern=r"(^| )cookies?( |$)", prefixed=False, flags=re.IGNORECASE)
    def overhear_cookies(self, msg, match):
        """Overhears talk of cookies."""
        return "Somebody said cookies? Om nom nom!"

    @re_botcmd(pattern=r"\bjar #(\d+)", prefixed=False, matchall=True)
    def jars(self, msg, matches):
        """Names the cookie jars mentioned."""
        return "Jars: " + ", ".join(m.group(1) for m in matches)

    @re_botcmd(pattern=r"^bake (?!burnt)(\w+)$")
    def bake(self, msg, match):
        """Bake a cookie of some kind (never burnt)."""
        return "Baking a %s cookie." % match.group(1)

    @re_botcmd(pattern=r"^bake burnt$")
    def bake_burnt(self, msg, match):
        """What bake leaves out."""
        return "No burnt cookies here."
