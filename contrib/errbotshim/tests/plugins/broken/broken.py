from errbot import BotPlugin
import a_module_that_does_not_exist  # noqa: F401


class Broken(BotPlugin):
    pass
