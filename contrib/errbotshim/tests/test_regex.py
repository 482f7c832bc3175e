"""Python patterns as RE2 patterns (errbot/_matterbot/regex.py)."""

import re
import unittest

from support import ROOT  # noqa: F401  (puts the shim on sys.path)

from errbot._matterbot.regex import to_re2


class ToRE2Test(unittest.TestCase):
    def test_exact(self):
        cases = [
            (r"^ticket #(\d+)$", 0, r"^ticket #(\d+)$"),
            (r"cookie", re.IGNORECASE, r"(?i)cookie"),
            (r"a.b", re.DOTALL | re.MULTILINE, r"(?ms)a.b"),
            ("(?x) ^ give \\s+ (\\w+)  # who\n \\s+ [ #]+ $", 0, r"^give\s+(\w+)\s+[ #]+$"),
            (r"^give \ (\w+)", re.VERBOSE, r"^give\x{20}(\w+)"),
            (r"end\Z", 0, r"end\z"),
            (r"\u00e9{,3}", 0, r"\x{00e9}{0,3}"),
            (r"(?i:abc)(?#note)d", 0, r"(?i:abc)d"),
            (r"(?P<n>\w+)", 0, r"(?P<n>\w+)"),
            (r"[]x]", 0, r"[\]x]"),
            (r"a??b\-c\'", 0, r"a??b\-c\'"),
            ("a(?x: b c )d", 0, "a(?:bc)d"),
        ]
        for py, flags, want in cases:
            with self.subTest(py=py):
                self.assertEqual(to_re2(py, flags), (want, None))

    def test_loosened(self):
        # What RE2 cannot do is widened: the RE2 pattern matches at least
        # what Python's does, and the plugin's own pattern decides.
        cases = [
            (r"^bake (?!burnt)(\w+)$", r"^bake (\w+)$", "look-around"),
            (r"(?<=x)y(?=z)", r"y", "look-around"),
            (r"(a)\1b", r"(a)(?s:.*?)b", "back-references"),
            (r"(?P<q>')(.*?)(?P=q)", r"(?P<q>')(.*?)(?s:.*?)", "back-references"),
            (r"a*+b++", r"a*b+", "possessive quantifiers"),
            (r"(?>ab|a)c", r"(?:ab|a)c", "atomic groups"),
            (r"(<)?\w+(?(1)>|$)", r"(<)?\w+(?:>|$)", "conditionals"),
            (r"\N{BULLET} x", r"(?s:.) x", r"\N{...}"),
        ]
        samples = ["bake choc", "bake burnt", "xyz", "aab", "a b", "'quoted'", "abc", "<tag>",
                   "tag", "\u2022 x", "aaabbb"]
        for py, want, what in cases:
            with self.subTest(py=py):
                got, loosened = to_re2(py)
                self.assertEqual((got, loosened), (want, what))
                # Go's RE2 and Python agree on these simple patterns.
                wide = re.compile(got)
                for s in samples:
                    if re.search(py, s):
                        self.assertTrue(wide.search(s), "%r matches %r but not %r" % (py, s, got))


if __name__ == "__main__":
    unittest.main()
