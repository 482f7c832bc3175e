"""Errbot's plugin API on matterbot (the matterbot Errbot shim).

An Errbot plugin imports this package as it imports Errbot::

    from errbot import BotPlugin, botcmd

    class Hello(BotPlugin):
        @botcmd
        def hello(self, msg, args):
            return "Hello, %s!" % msg.frm.nick

and runs, unchanged, as a matterbot exec plugin: matterbot starts
``python3 -m errbot._matterbot PLUGIN_DIR`` (PLUGIN_DIR holds the .plug and
.py), which loads the plugin and speaks matterbot's exec-plugin protocol
on stdin and stdout. Standard library only. What of Errbot's API is not
there, and why, is in README.md next to this package.
"""

import argparse
import inspect
import logging
import re
import shlex
from functools import wraps

from .backends.base import AWAY, DND, OFFLINE, ONLINE, Message  # noqa: F401
from .botplugin import (BotPlugin, Command, CommandError, SeparatorArgParser,  # noqa: F401
                        ShlexArgParser, ValidationException)

__all__ = ["BotPlugin", "CommandError", "Command", "webhook", "webroute", "cmdfilter",
           "botcmd", "re_botcmd", "arg_botcmd", "botflow", "botmatch", "BotFlow", "FlowRoot",
           "Flow", "FLOW_END", "ValidationException", "Message", "SeparatorArgParser",
           "ShlexArgParser", "ONLINE", "OFFLINE", "AWAY", "DND"]

log = logging.getLogger(__name__)

# Chat clients turn "--" into a dash and quotes into curly ones; arg_botcmd
# undoes it before parsing, as Errbot does.
ARG_BOTCMD_CHARACTER_REPLACEMENTS = {"\u2014": "--", "\u201c": '"', "\u201d": '"',
                                     "\u2019": "'", "\u2018": "'"}
_SANITIZE = re.compile("|".join(re.escape(k) for k in ARG_BOTCMD_CHARACTER_REPLACEMENTS))


class ArgumentParseError(Exception):
    """arg_botcmd's parser could not parse the arguments."""


class HelpRequested(Exception):
    """-h or --help was given to an arg_botcmd command."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, raising instead of printing and exiting."""

    def error(self, message):
        raise ArgumentParseError(message)

    def print_help(self, file=None):
        raise HelpRequested()

    def exit(self, status=0, message=None):
        raise ArgumentParseError(message or "exit")


def _tag(func, name=None, hidden=None, admin_only=False, historize=True, template=None,
         flow_only=False, syntax=None, split_args_with="", is_re=False, pattern=None, flags=0,
         matchall=False, prefixed=True, re_cmd_name_help=None, is_arg=False, parser=None):
    if hasattr(func, "_err_command"):  # an earlier decorator made it: keep it
        return func
    func._err_command = True
    func._err_command_name = name or func.__name__
    func._err_command_split_args_with = split_args_with
    func._err_command_admin_only = admin_only
    func._err_command_historize = historize
    func._err_command_template = template
    func._err_command_syntax = syntax
    func._err_command_flow_only = flow_only
    func._err_command_hidden = hidden if hidden is not None else flow_only
    func._err_re_command = is_re
    if is_re:
        func._err_command_re_pattern = re.compile(pattern, flags=flags)
        func._err_command_matchall = matchall
        func._err_command_prefix_required = prefixed
        func._err_command_syntax = pattern
        func._err_command_re_name_help = re_cmd_name_help
    func._err_arg_command = is_arg
    if is_arg:
        func._err_command_parser = parser
    return func


def botcmd(*args, hidden=None, name=None, split_args_with="", admin_only=False, historize=True,
           template=None, flow_only=False, syntax=None):
    """Make a plugin method a command: ``def cmd(self, msg, args)``.

    args is the text after the command, or a list when split_args_with is
    given (a separator as for str.split, None for any whitespace, an
    ArgParserBase or a callable). A method name with underscores is a
    command of several words: ``deploy_rollback`` is ``!deploy rollback``.
    The method returns the reply (or yields several); with template, it
    returns the template's parameters.
    """
    def decorator(func):
        return _tag(func, name=name or func.__name__, hidden=hidden,
                    split_args_with=split_args_with, admin_only=admin_only, historize=historize,
                    template=template, flow_only=flow_only, syntax=syntax)
    return decorator(args[0]) if args else decorator


def re_botcmd(*args, hidden=None, name=None, admin_only=False, historize=True, template=None,
              pattern=None, flags=0, matchall=False, prefixed=True, flow_only=False,
              re_cmd_name_help=None):
    """Make a plugin method a command matched by a regular expression:
    ``def cmd(self, msg, match)``; match is a re.Match (a list of them
    with matchall). prefixed=False matches any message, not only those
    addressed to the bot."""
    def decorator(func):
        return _tag(func, name=name or func.__name__, hidden=hidden, admin_only=admin_only,
                    historize=historize, template=template, is_re=True, pattern=pattern,
                    flags=flags, matchall=matchall, prefixed=prefixed, flow_only=flow_only,
                    re_cmd_name_help=re_cmd_name_help)
    return decorator(args[0]) if args else decorator


def botmatch(*args, **kwargs):
    """A regular expression matched against every message:
    ``@botmatch(r'^(?:Yes|No)$')``."""
    def decorator(func, pattern):
        return _tag(func, is_re=True, prefixed=False, pattern=pattern,
                    hidden=kwargs.get("hidden"), name=kwargs.get("name", func.__name__),
                    admin_only=kwargs.get("admin_only", False),
                    flow_only=kwargs.get("flow_only", False),
                    historize=kwargs.get("historize", True), template=kwargs.get("template"),
                    flags=kwargs.get("flags", 0), matchall=kwargs.get("matchall", False))
    if len(args) == 2:
        return decorator(*args)
    if len(args) == 1:
        return lambda f: decorator(f, args[0])
    raise ValueError("botmatch: You need to pass the pattern as parameter to the decorator.")


def arg_botcmd(*args, hidden=None, name=None, admin_only=False, historize=True, template=None,
               flow_only=False, unpack_args=True, **kwargs):
    """A command whose arguments argparse parses: each use adds one
    argument (``add_argument(*args, **kwargs)``). The method receives them
    as keyword arguments (or one namespace with unpack_args=False)."""
    argparse_args = args[1:] if args and callable(args[0]) else args

    def decorator(func):
        if not hasattr(func, "_err_command"):
            parser = ArgumentParser(prog=name or func.__name__, description=func.__doc__)

            @wraps(func)
            def wrapper(self, msg, args):
                try:
                    words = shlex.split(_SANITIZE.sub(
                        lambda m: ARG_BOTCMD_CHARACTER_REPLACEMENTS[m.group()], args))
                    parsed = parser.parse_args(words)
                except ArgumentParseError as e:
                    yield "I couldn't parse the arguments; %s" % e
                    yield parser.format_usage()
                    return
                except HelpRequested:
                    yield parser.format_help()
                    return
                except ValueError as e:
                    yield "I couldn't parse this command; %s" % e
                    yield parser.format_help()
                    return
                if unpack_args:
                    fargs, fkwargs = [], vars(parsed)
                else:
                    fargs, fkwargs = [parsed], {}
                if inspect.isgeneratorfunction(func):
                    yield from func(self, msg, *fargs, **fkwargs)
                else:
                    yield func(self, msg, *fargs, **fkwargs)

            _tag(wrapper, name=name or wrapper.__name__, hidden=hidden, admin_only=admin_only,
                 historize=historize, template=template, flow_only=flow_only, is_arg=True,
                 parser=parser)
        else:
            wrapper = func
        wrapper._err_command_parser.add_argument(*argparse_args, **kwargs)
        wrapper.__doc__ = wrapper._err_command_parser.format_help()
        usage = wrapper._err_command_parser.format_usage()
        wrapper._err_command_syntax = usage[len("usage: ") + len(
            wrapper._err_command_parser.prog) + 1:-1]
        return wrapper

    return decorator(args[0]) if args and callable(args[0]) else decorator


def _tag_webhook(func, uri_rule, methods, form_param, raw):
    func._err_webhook_uri_rule = uri_rule
    func._err_webhook_methods = tuple(methods)
    func._err_webhook_form_param = form_param
    func._err_webhook_raw = raw
    return func


def webhook(*args, methods=("POST", "GET"), form_param=None, raw=False):
    """Serve a plugin method on matterbot's HTTP listener:
    ``def hook(self, payload)``. ``@webhook`` serves /METHOD_NAME,
    ``@webhook('/deploy/<env>')`` that path (its parts in keyword
    arguments). payload is the JSON body decoded, or the form as a dict
    (its form_param field decoded as JSON when given), or with raw=True a
    request object. The return value is the response body."""
    if not args:
        return lambda f: _tag_webhook(f, "/" + f.__name__, methods, form_param, raw)
    if isinstance(args[0], str):
        rule = args[0] if args[0] == "/" else args[0].rstrip("/")
        return lambda f: _tag_webhook(f, rule, methods, form_param, raw)
    return _tag_webhook(args[0], "/" + args[0].__name__, methods, form_param, raw)


def webroute(*args, **kwargs):
    """Errbot's Flask route: not on matterbot (use webhook)."""
    raise NotImplementedError("webroute: matterbot serves webhooks, not Flask routes; use @webhook")


def cmdfilter(*args, **kwargs):
    """A filter run before each of the plugin's commands:
    ``def f(self, msg, cmd, args, dry_run)`` returning (msg, cmd, args) to
    let it run, or (None, None, None) to block it. On matterbot it sees
    the commands of its own plugin only (see README)."""
    def decorate(func):
        if not hasattr(func, "_err_command_filter"):
            func._err_command_filter = True
        func.catch_unprocessed = kwargs.get("catch_unprocessed", False)
        return func
    return decorate(args[0]) if args else decorate


def botflow(*args, **kwargs):
    """Errbot's flows: tagged so the plugin loads; matterbot does not run
    them (see README)."""
    def decorate(func):
        func._err_flow = True
        return func
    return decorate(args[0]) if args else decorate


class FlowRoot:
    """Errbot's flow definitions: not run on matterbot."""

    def __init__(self, name, description):
        self.name = name
        self.description = description

    def connect(self, *args, **kwargs):
        return self


class BotFlow:
    """Errbot's flow plugins: not loaded on matterbot (see README)."""

    def __init__(self, bot=None, name=None):
        self._bot = bot
        self._name = name


class Flow:
    """A running flow: never made on matterbot."""


FLOW_END = object()
