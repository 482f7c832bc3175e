from errbot import BotPlugin, botcmd, cmdfilter


class Gatekeeper(BotPlugin):
    """Guards the vault."""

    @cmdfilter
    def audit(self, msg, cmd, args, dry_run):
        if not dry_run:
            with self.mutable("audit", []) as log:
                log.append("%s %s" % (msg.frm.person, cmd))
        return msg, cmd, args

    @cmdfilter
    def private_vault(self, msg, cmd, args, dry_run):
        if cmd.startswith("vault") and not msg.is_direct:
            if not dry_run:
                self.send(msg.frm, "Ask me about the vault in private.")
            return None, None, None
        return msg, cmd, args

    @cmdfilter
    def polite(self, msg, cmd, args, dry_run):
        # Rewrites the command, as Errbot allows: "!vault please" opens it.
        if cmd == "vault_peek" and args == "please":
            return msg, "vault_open", ""
        return msg, cmd, args

    @botcmd
    def vault_open(self, msg, args):
        """Open the vault."""
        return "The vault is open."

    @botcmd
    def vault_peek(self, msg, args):
        """Peek into the vault."""
        return "You see gold."

    @botcmd
    def audit_log(self, msg, args):
        """Who asked what."""
        return "\n".join(self.get("audit", [])) or "Nothing yet."
