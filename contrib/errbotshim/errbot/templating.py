"""Templates for send_templated and ``@botcmd(template=...)``.

Errbot renders ``templates/NAME.md`` next to the plugin with Jinja2. The
shim uses Jinja2 when it can be imported (Debian: python3-jinja2), and
otherwise a small renderer of the standard library that covers what chat
templates use:

- ``{{ expr }}`` with filters: upper, lower, title, capitalize, trim,
  length, join(sep), default(value), first, last, sort, string, int,
  round(n), replace(a, b), e (no escaping: markdown)
- ``{% if %} {% elif %} {% else %} {% endif %}``
- ``{% for x in xs %} {% else %} {% endfor %}`` (also ``for k, v in
  d.items()``), with loop.index, loop.index0, loop.first, loop.last,
  loop.length
- ``{# comments #}``, ``{%- -%}`` and ``{{- -}}`` whitespace control

Errbot's plugin environment is Jinja2's defaults plus autoescape: the
shim does not escape HTML (matterbot sends markdown, where "&amp;" would
show as is). Expressions are Python expressions (the template is the plugin's own
code, trusted as much), with Jinja's lookups: ``a.b`` reads an attribute
or a key, an unknown name is empty.
"""

import ast
import os
import re

try:  # pragma: no cover - depends on the machine
    import jinja2
except ImportError:  # pragma: no cover
    jinja2 = None


class TemplateError(Exception):
    """A template is missing or malformed."""


class _Undefined:
    def __str__(self):
        return ""

    def __bool__(self):
        return False

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0

    def __getattr__(self, name):
        return self

    def __getitem__(self, key):
        return self

    def __eq__(self, other):
        return isinstance(other, _Undefined) or other is None

    __hash__ = object.__hash__


UNDEFINED = _Undefined()


def _lookup(obj, name):
    if isinstance(obj, dict):
        if name in obj:
            return obj[name]
        return getattr(obj, name, UNDEFINED)
    try:
        return getattr(obj, name)
    except AttributeError:
        try:
            return obj[name]
        except (TypeError, KeyError, IndexError):
            return UNDEFINED


class _Attrs(ast.NodeTransformer):
    def visit_Attribute(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            return ast.copy_location(ast.Call(
                func=ast.Name(id="__lookup", ctx=ast.Load()),
                args=[node.value, ast.Constant(node.attr)], keywords=[]), node)
        return node


_HELPERS = {"__lookup": _lookup, "true": True, "false": False, "none": None, "len": len,
            "str": str, "int": int, "range": range, "sorted": sorted}


class _Scope(dict):
    def __missing__(self, key):
        return _HELPERS.get(key, UNDEFINED)


def _filter_join(v, sep=""):
    return sep.join(str(x) for x in v)


FILTERS = {
    "upper": lambda v: str(v).upper(),
    "lower": lambda v: str(v).lower(),
    "title": lambda v: str(v).title(),
    "capitalize": lambda v: str(v).capitalize(),
    "trim": lambda v: str(v).strip(),
    "length": len, "count": len,
    "join": _filter_join,
    "default": lambda v, d="", boolean=False: d if (isinstance(v, _Undefined) or (boolean and not v)) else v,
    "d": lambda v, d="": d if isinstance(v, _Undefined) else v,
    "first": lambda v: next(iter(v), UNDEFINED),
    "last": lambda v: list(v)[-1] if len(list(v)) else UNDEFINED,
    "sort": lambda v, reverse=False: sorted(v, reverse=reverse),
    "string": str,
    "int": lambda v, default=0: _to_int(v, default),
    "round": lambda v, precision=0: round(float(v), precision),
    "replace": lambda v, a, b: str(v).replace(a, b),
    "e": lambda v: v, "escape": lambda v: v, "safe": lambda v: v,
}


def _to_int(v, default):
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


_compiled = {}


def _split_filters(expr):
    """'a | join(", ") | upper' -> ['a', 'join(", ")', 'upper'] (| outside strings)."""
    parts, depth, quote, cur = [], 0, None, []
    i = 0
    while i < len(expr):
        c = expr[i]
        if quote:
            cur.append(c)
            if c == "\\" and i + 1 < len(expr):
                cur.append(expr[i + 1])
                i += 1
            elif c == quote:
                quote = None
        elif c in "'\"":
            quote = c
            cur.append(c)
        elif c in "([{":
            depth += 1
            cur.append(c)
        elif c in ")]}":
            depth -= 1
            cur.append(c)
        elif c == "|" and depth == 0 and expr[i + 1:i + 2] != "|" and expr[i - 1:i] != "|":
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur).strip())
    return parts


def _compile(expr):
    code = _compiled.get(expr)
    if code is None:
        # Jinja's "not", "and", "or", "in", "==" are Python's; "~" joins strings.
        src = re.sub(r"\s~\s", " + '' + ", expr)
        try:
            tree = ast.parse(src, mode="eval")
        except SyntaxError as e:
            raise TemplateError("bad expression %r: %s" % (expr, e.msg))
        tree = ast.fix_missing_locations(_Attrs().visit(tree))
        code = compile(tree, "<template>", "eval")
        _compiled[expr] = code
    return code


def _eval(expr, scope):
    parts = _split_filters(expr)
    g = {"__builtins__": {}}
    value = eval(_compile(parts[0]), g, scope)
    for f in parts[1:]:
        m = re.match(r"^(\w+)\s*(?:\((.*)\))?$", f, re.S)
        if not m or m.group(1) not in FILTERS:
            raise TemplateError("unknown filter %r" % f)
        args = ()
        if m.group(2):
            args = eval(_compile("(" + m.group(2) + ",)"), g, scope)
        value = FILTERS[m.group(1)](value, *args)
    return value


_TOKEN = re.compile(r"({{-?.*?-?}}|{%-?.*?-?%}|{#.*?#})", re.S)


def _tokenize(src):
    tokens = []
    for piece in _TOKEN.split(src):
        if not piece:
            continue
        if piece.startswith("{#"):
            continue
        if piece.startswith("{{") or piece.startswith("{%"):
            kind = "var" if piece.startswith("{{") else "tag"
            inner = piece[2:-2]
            lstrip = inner.startswith("-")
            rstrip = inner.endswith("-")
            inner = inner.strip("-").strip()
            if lstrip and tokens and tokens[-1][0] == "text":
                tokens[-1] = ("text", tokens[-1][1].rstrip())
            tokens.append((kind, inner, rstrip))
        else:
            if tokens and len(tokens[-1]) == 3 and tokens[-1][2]:
                piece = piece.lstrip()
            tokens.append(("text", piece))
    return tokens


def _parse(tokens, pos, stop):
    """Parse until a tag whose first word is in stop; return (nodes, pos, tag)."""
    nodes = []
    while pos < len(tokens):
        tok = tokens[pos]
        if tok[0] == "text":
            nodes.append(("text", tok[1]))
            pos += 1
            continue
        if tok[0] == "var":
            nodes.append(("var", tok[1]))
            pos += 1
            continue
        word = tok[1].split(None, 1)[0] if tok[1] else ""
        if word in stop:
            return nodes, pos, tok[1]
        pos += 1
        if word == "if":
            branches = []
            cond = tok[1][2:].strip()
            while True:
                body, pos, end = _parse(tokens, pos, ("elif", "else", "endif"))
                branches.append((cond, body))
                if end is None:
                    raise TemplateError("{% if %} without {% endif %}")
                pos += 1
                w = end.split(None, 1)[0]
                if w == "elif":
                    cond = end[4:].strip()
                elif w == "else":
                    cond = None
                else:
                    break
            nodes.append(("if", branches))
        elif word == "for":
            m = re.match(r"^for\s+(.+?)\s+in\s+(.+)$", tok[1], re.S)
            if not m:
                raise TemplateError("bad tag {%% %s %%}" % tok[1])
            targets = [t.strip() for t in m.group(1).split(",")]
            body, pos, end = _parse(tokens, pos, ("else", "endfor"))
            if end is None:
                raise TemplateError("{% for %} without {% endfor %}")
            pos += 1
            empty = []
            if end.split(None, 1)[0] == "else":
                empty, pos, end = _parse(tokens, pos, ("endfor",))
                if end is None:
                    raise TemplateError("{% for %} without {% endfor %}")
                pos += 1
            nodes.append(("for", targets, m.group(2).strip(), body, empty))
        elif word in ("set",):
            m = re.match(r"^set\s+(\w+)\s*=\s*(.+)$", tok[1], re.S)
            if not m:
                raise TemplateError("bad tag {%% %s %%}" % tok[1])
            nodes.append(("set", m.group(1), m.group(2)))
        else:
            raise TemplateError("unsupported tag {%% %s %%}" % tok[1])
    return nodes, pos, None


class _Loop:
    def __init__(self, index0, length):
        self.index0 = index0
        self.index = index0 + 1
        self.length = length
        self.first = index0 == 0
        self.last = index0 == length - 1
        self.revindex = length - index0
        self.revindex0 = length - index0 - 1


def _render(nodes, scope, out):
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "var":
            v = _eval(node[1], scope)
            out.append("" if v is None else str(v))
        elif kind == "if":
            for cond, body in node[1]:
                if cond is None or _eval(cond, scope):
                    _render(body, scope, out)
                    break
        elif kind == "for":
            _, targets, expr, body, empty = node
            items = list(_eval(expr, scope) or ())
            if not items:
                _render(empty, scope, out)
                continue
            for i, item in enumerate(items):
                inner = _Scope(scope)
                if len(targets) == 1:
                    inner[targets[0]] = item
                else:
                    for t, v in zip(targets, item):
                        inner[t] = v
                inner["loop"] = _Loop(i, len(items))
                _render(body, inner, out)
        elif kind == "set":
            scope[node[1]] = _eval(node[2], scope)


def render_builtin(source, params):
    """Render source with the standard-library renderer. As Jinja2 with
    Errbot's settings, a single trailing newline of the template is
    dropped."""
    if source.endswith("\n"):
        source = source[:-2] if source.endswith("\r\n") else source[:-1]
    nodes, pos, end = _parse(_tokenize(source), 0, ())
    if end is not None:
        raise TemplateError("unexpected {%% %s %%}" % end)
    out = []
    _render(nodes, _Scope(params), out)
    return "".join(out)


class Templates:
    """Finds NAME.md in the template directories and renders it."""

    def __init__(self, dirs, use_jinja=None):
        self.dirs = [d for d in dirs if d]
        self.use_jinja = (jinja2 is not None) if use_jinja is None else use_jinja

    def source(self, name):
        for d in self.dirs:
            path = os.path.join(d, name)
            if os.path.isfile(path):
                with open(path, encoding="utf-8") as f:
                    return f.read()
        raise TemplateError("template %s not found in %s" % (name, ", ".join(self.dirs) or "(none)"))

    def render(self, template_name, params):
        name = template_name + ".md"
        if self.use_jinja:
            env = jinja2.Environment(loader=jinja2.FileSystemLoader(self.dirs))
            try:
                return env.get_template(name).render(**params)
            except jinja2.TemplateNotFound:
                raise TemplateError("template %s not found in %s" % (name, ", ".join(self.dirs)))
        return render_builtin(self.source(name), params)
