from errbot import BotPlugin, botcmd


class Failing(BotPlugin):
    def get_configuration_template(self):
        return {"URL": "https://example.com", "PASSWORD": ""}

    def activate(self):
        if self.config is None:
            raise RuntimeError("configure me: [plugins.Failing] URL = ...")
        super().activate()

    @botcmd
    def url(self, msg, args):
        return self.config["URL"]
