from errbot import BotPlugin, botcmd, webhook


class Deploys(BotPlugin):
    """Tells a room about deploys reported over HTTP."""

    def get_configuration_template(self):
        return {"ROOM": "~town-square"}

    def room(self):
        return self.build_identifier((self.config or {}).get("ROOM", "~town-square"))

    @webhook
    def deployed(self, payload):
        self.send(self.room(), "Deployed %s %s." % (payload["service"], payload["version"]))
        self["last"] = payload["service"]
        return "ok"

    @webhook("/deploys/<env>/<int:build>", methods=("POST",))
    def build_done(self, payload, env, build):
        return {"env": env, "build": build, "next": build + 1, "payload": payload}

    @webhook("/deploys/form", form_param="payload")
    def form(self, payload):
        return "form: %s" % payload["service"]

    @webhook("/deploys/raw", raw=True)
    def raw(self, request):
        return "%s %s %s" % (request.method, request.args.get("dry", "no"),
                             request.headers.get("X-Trace", "-")), 202

    @botcmd
    def last_deploy(self, msg, args):
        """The last service deployed."""
        return self.get("last", "Nothing deployed yet.")
