"""Python regular expressions as the Go (RE2) patterns matterbot matches.

matterbot matches a regex command's pattern (Go's RE2 syntax) before it
sends the request; the shim then matches the plugin's own Python pattern
again, so the plugin gets a real re.Match, and ignores a request Python
does not match. to_re2 translates what it can: flags (IGNORECASE,
MULTILINE, DOTALL, VERBOSE, inline ``(?x)``), ``\\Z``, ``\\uXXXX``, ``{,n}``,
``(?#...)`` comments. What RE2 cannot do (look-ahead and look-behind,
back-references, conditionals, atomic groups, possessive quantifiers)
is reported, and the caller declares a catch-all pattern instead.
"""

import re

_FLAG_LETTERS = {"i": "i", "m": "m", "s": "s"}


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


def to_re2(pattern, flags=0):
    """Return (re2_pattern, problem): problem is None, or says why RE2
    cannot take the pattern."""
    letters = []
    if flags & re.IGNORECASE:
        letters.append("i")
    if flags & re.MULTILINE:
        letters.append("m")
    if flags & re.DOTALL:
        letters.append("s")
    if flags & re.LOCALE:
        return None, "re.LOCALE has no RE2 equivalent"
    verbose = bool(flags & re.VERBOSE)
    # Leading global inline flags: (?aiLmsux)
    m = re.match(r"^\(\?([aiLmsux]+)\)", pattern)
    while m:
        for ch in m.group(1):
            if ch == "x":
                verbose = True
            elif ch == "L":
                return None, "the L flag has no RE2 equivalent"
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
                return None, "back-references (\\%s) are not in RE2" % n
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
            elif n == "N":
                return None, "\\N{...} names are not in RE2"
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
            for prefix, what in (("=", "look-ahead"), ("!", "negative look-ahead"),
                                 ("<=", "look-behind"), ("<!", "negative look-behind"),
                                 ("P=", "named back-references"), ("(", "conditionals"),
                                 (">", "atomic groups")):
                if rest.startswith(prefix):
                    return None, "%s ((?%s...)) is not in RE2" % (what, prefix)
            fm = re.match(r"([aimsux]*)(?:-([imsx]+))?(:|\))", rest)
            if fm and (fm.group(1) or fm.group(2)):
                on = "".join(ch for ch in fm.group(1) if ch in "ims")
                off = "".join(ch for ch in (fm.group(2) or "") if ch in "ims")
                if "x" in fm.group(1) or "x" in (fm.group(2) or ""):
                    return None, "a scoped (?x) is not in RE2"
                spec = on + ("-" + off if off else "")
                out.append("(?" + spec + fm.group(3) if spec else ("(?:" if fm.group(3) == ":" else ""))
                i += 2 + fm.end()
                continue
        if c in "*+?}" and p[i + 1:i + 2] == "+" and (c != "?" or (out and out[-1] not in "(")):
            return None, "possessive quantifiers (%s+) are not in RE2" % c
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
    return result, None
