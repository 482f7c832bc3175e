"""Python regular expressions as the Go (RE2) patterns matterbot matches.

matterbot matches a regex command's pattern (Go's RE2 syntax) before it
sends the request; the shim then matches the plugin's own Python pattern
again, so the plugin gets a real re.Match, and ignores a request Python
does not match. to_re2 translates what it can: flags (IGNORECASE,
MULTILINE, DOTALL, VERBOSE, inline ``(?x)``), ``\\Z``, ``\\uXXXX``, ``{,n}``,
``(?#...)`` comments. What RE2 cannot do is loosened, so that the Go
pattern matches at least what the Python one does (the Python pattern
decides): look-ahead and look-behind are left out, a back-reference is
any text, a conditional either branch, an atomic group a plain group, a
possessive quantifier a greedy one, ``\\N{...}`` any character.
"""

import re

_FLAG_LETTERS = {"i": "i", "m": "m", "s": "s"}
_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


def _strip_verbose(p):
    """Drop whitespace and # comments outside classes and escapes."""
    out, i, in_class = [], 0, False
    while i < len(p):
        c = p[i]
        if c == "\\" and i + 1 < len(p):
            out.append(p[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            out.append(c)
        elif c == "[":
            in_class = True
            out.append(c)
            if p[i + 1:i + 2] == "^":
                out.append("^")
                i += 1
            if p[i + 1:i + 2] == "]":
                out.append("]")
                i += 1
        elif c in " \t\n\r\f\v":
            pass
        elif c == "#":
            while i < len(p) and p[i] != "\n":
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _group_end(p, i):
    """The index just after the group opened at p[i] == '('."""
    depth, in_class = 0, False
    while i < len(p):
        c = p[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
        elif c == "[":
            in_class = True
            if p[i + 1:i + 2] == "^":
                i += 1
            if p[i + 1:i + 2] == "]":
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(p)


def to_re2(pattern, flags=0):
    """Return (re2_pattern, loosened): loosened is None when the RE2
    pattern matches exactly what the Python one does, else it names what
    RE2 cannot do and was loosened."""
    letters = []
    if flags & re.IGNORECASE:
        letters.append("i")
    if flags & re.MULTILINE:
        letters.append("m")
    if flags & re.DOTALL:
        letters.append("s")
    loose = []
    if flags & re.LOCALE:
        loose.append("re.LOCALE")
    verbose = bool(flags & re.VERBOSE)
    # Leading global inline flags: (?aiLmsux)
    m = re.match(r"^\(\?([aiLmsux]+)\)", pattern)
    while m:
        for ch in m.group(1):
            if ch == "x":
                verbose = True
            elif ch == "L":
                loose.append("the L flag")
            elif ch in _FLAG_LETTERS and ch not in letters:
                letters.append(ch)
        pattern = pattern[m.end():]
        m = re.match(r"^\(\?([aiLmsux]+)\)", pattern)
    if verbose:
        pattern = _strip_verbose(pattern)
    out, i, in_class = [], 0, False
    p = pattern
    while i < len(p):
        c = p[i]
        if c == "\\" and i + 1 < len(p):
            n = p[i + 1]
            if not in_class and n.isdigit() and n != "0":
                loose.append("back-references")
                j = i + 2
                while j < len(p) and p[j].isdigit():
                    j += 1
                out.append("(?s:.*?)")
                i = j
                continue
            if n == "Z":
                out.append("\\z")
            elif n == "u" and re.match(r"[0-9a-fA-F]{4}", p[i + 2:i + 6]):
                out.append("\\x{%s}" % p[i + 2:i + 6])
                i += 6
                continue
            elif n == "U" and re.match(r"[0-9a-fA-F]{8}", p[i + 2:i + 10]):
                out.append("\\x{%s}" % p[i + 2:i + 10].lstrip("0").rjust(1, "0"))
                i += 10
                continue
            elif n == "N" and p[i + 2:i + 3] == "{":
                loose.append("\\N{...}")
                end = p.find("}", i)
                out.append("(?s:.)")
                i = end + 1 if end >= 0 else len(p)
                continue
            elif not n.isascii() or n in " \t\n\r\f\v" or not (n.isalnum() or n in _PUNCT):
                out.append("\\x{%x}" % ord(n))  # RE2 escapes only ASCII punctuation
            else:
                out.append(p[i:i + 2])
            i += 2
            continue
        if in_class:
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if p[i:i + 1] == "^":
                out.append("^")
                i += 1
            if p[i:i + 1] == "]":
                out.append("\\]")
                i += 1
            continue
        if c == "(" and p[i + 1:i + 2] == "?":
            rest = p[i + 2:]
            if rest.startswith("#"):
                end = p.find(")", i)
                i = end + 1 if end >= 0 else len(p)
                continue
            if rest[:1] in ("=", "!") or rest[:2] in ("<=", "<!"):
                loose.append("look-around")  # zero-width: leaving it out only widens
                i = _group_end(p, i)
                continue
            if rest.startswith("P="):
                loose.append("back-references")
                i = _group_end(p, i)
                out.append("(?s:.*?)")
                continue
            if rest.startswith("("):
                loose.append("conditionals")  # (?(1)yes|no) -> (?:yes|no)
                end = p.find(")", i + 3)
                out.append("(?:")
                i = end + 1 if end >= 0 else len(p)
                continue
            if rest.startswith(">"):
                loose.append("atomic groups")
                out.append("(?:")
                i += 3
                continue
            fm = re.match(r"([aimsux]*)(?:-([imsx]+))?(:|\))", rest)
            if fm and (fm.group(1) or fm.group(2)):
                on = "".join(ch for ch in fm.group(1) if ch in "ims")
                off = "".join(ch for ch in (fm.group(2) or "") if ch in "ims")
                if "x" in fm.group(1) or "x" in (fm.group(2) or ""):
                    # A verbose group inside: strip its layout, keep the group.
                    end = _group_end(p, i)
                    inner = _strip_verbose(p[i + 2 + fm.end():end - 1])
                    p = p[:i + 2 + fm.end()] + inner + ")" + p[end:]
                    fm = re.match(r"([aimsux]*)(?:-([imsx]+))?(:|\))", p[i + 2:])
                spec = on + ("-" + off if off else "")
                out.append("(?" + spec + fm.group(3) if spec else ("(?:" if fm.group(3) == ":" else ""))
                i += 2 + fm.end()
                continue
        if c in "*+?}" and p[i + 1:i + 2] == "+" and (c != "?" or (out and out[-1] not in "(")):
            loose.append("possessive quantifiers")
            out.append(c)
            i += 2
            continue
        if c == "{" and p[i + 1:i + 2] == ",":
            m2 = re.match(r"\{,(\d+)\}", p[i:])
            if m2:
                out.append("{0,%s}" % m2.group(1))
                i += m2.end()
                continue
        out.append(c)
        i += 1
    result = "".join(out)
    if letters:
        result = "(?%s)%s" % ("".join(letters), result)
    if loose:
        return result, ", ".join(sorted(set(loose)))
    return result, None
