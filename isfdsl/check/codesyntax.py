"""Check: the `syntax` pattern of a code system — a small subset of Python's regular expressions, parsed
here and matched by simulating every position of the pattern at once (Thompson's construction), so a
match takes time linear in the code's length whatever the pattern: no pattern can make the checker
backtrack for ages (`(A|AA)+B`), overflow (`a{99999999999}`) or recurse too deeply. Every pattern this
module accepts means the same under :mod:`re` (Hypothesis draws example codes from it with
``from_regex``). docs/language.md ("Code systems") lists what is accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from isfdsl import limits


class PatternError(ValueError):
    """A pattern outside the accepted subset, or beyond a limit; the message says which part."""


# ---------------------------------------------------------------------- the pattern as a tree


@dataclass(frozen=True, slots=True)
class _Chars:
    """One character from a set: ``chars`` and ``ranges``, ``classes`` (``d``, ``w``, ``s`` and their
    upper-case complements), negated as a whole with ``negated``; ``any`` is `.`."""

    chars: frozenset[str] = frozenset()
    ranges: tuple[tuple[str, str], ...] = ()
    classes: tuple[str, ...] = ()
    negated: bool = False
    any: bool = False

    def __call__(self, ch: str) -> bool:
        if self.any:
            return ch != "\n"
        hit = (ch in self.chars or any(lo <= ch <= hi for lo, hi in self.ranges)
               or any(_CLASSES[c](ch) for c in self.classes))
        return hit != self.negated


_CLASSES: dict[str, Callable[[str], bool]] = {
    "d": str.isdecimal, "D": lambda ch: not ch.isdecimal(),
    "w": lambda ch: ch.isalnum() or ch == "_", "W": lambda ch: not (ch.isalnum() or ch == "_"),
    "s": str.isspace, "S": lambda ch: not ch.isspace(),
}


@dataclass(frozen=True, slots=True)
class _Seq:
    items: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Alt:
    options: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class _Repeat:
    item: _Node
    lo: int
    hi: int | None  # None: unbounded


_Node = _Chars | _Seq | _Alt | _Repeat
_SPECIAL = set("()[]{}|*+?^$\\.")


class _Parser:
    """Recursive descent over the pattern text; groups nest at most :data:`limits.NESTING` deep."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> PatternError:
        return PatternError(f"{message} at position {self.pos}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> _Node:
        node = self.alternation(0)
        if self.pos < len(self.text):
            raise self.fail("unbalanced parenthesis" if self.peek() == ")" else f"unexpected {self.peek()!r}")
        return node

    def alternation(self, depth: int) -> _Node:
        options = [self.sequence(depth)]
        while self.peek() == "|":
            self.pos += 1
            options.append(self.sequence(depth))
        return options[0] if len(options) == 1 else _Alt(tuple(options))

    def sequence(self, depth: int) -> _Node:
        items: list[_Node] = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom(depth)
            items.append(self.quantified(atom))
        return items[0] if len(items) == 1 else _Seq(tuple(items))

    def atom(self, depth: int) -> _Node:
        ch = self.peek()
        if ch == "(":
            if depth >= limits.NESTING:
                raise self.fail(f"groups nested deeper than {limits.NESTING} levels")
            self.pos += 1
            if self.text.startswith("?:", self.pos):
                self.pos += 2
            elif self.peek() == "?":
                raise self.fail("only plain groups `( )` and `(?: )` are allowed, not `(?`")
            node = self.alternation(depth + 1)
            if self.peek() != ")":
                raise self.fail("missing `)`")
            self.pos += 1
            return node
        if ch == "[":
            return self.char_class()
        if ch == ".":
            self.pos += 1
            return _Chars(any=True)
        if ch == "\\":
            return self.escape(in_class=False)
        if ch in ("^", "$"):
            raise self.fail("the whole code is always matched; leave out `^` and `$`")
        if ch in _SPECIAL:
            raise self.fail(f"nothing to repeat before {ch!r}" if ch in "*+?{" else f"unexpected {ch!r}")
        self.pos += 1
        return _Chars(frozenset(ch))

    def escape(self, in_class: bool) -> _Chars:
        self.pos += 1
        ch = self.peek()
        if not ch:
            raise self.fail("a pattern cannot end with `\\`")
        self.pos += 1
        if ch in _CLASSES:
            return _Chars(classes=(ch,))
        if ch.isalnum():
            raise self.fail(f"unsupported escape `\\{ch}` (allowed: \\d \\D \\w \\W \\s \\S and escaped punctuation)")
        return _Chars(frozenset(ch))

    def char_class(self) -> _Chars:
        self.pos += 1
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        chars: set[str] = set()
        ranges: list[tuple[str, str]] = []
        classes: list[str] = []
        first = True
        while True:
            ch = self.peek()
            if not ch:
                raise self.fail("missing `]`")
            if ch == "]" and not first:
                self.pos += 1
                break
            first = False
            if ch == "[":
                raise self.fail("`[` inside a set must be escaped as `\\[`")
            if ch == "\\":
                item = self.escape(in_class=True)
                if item.classes:
                    classes.extend(item.classes)
                    continue
                lo = next(iter(item.chars))
            else:
                self.pos += 1
                lo = ch
            if self.peek() == "-" and self.text[self.pos + 1:self.pos + 2] not in ("]", ""):
                self.pos += 1
                hi = self.peek()
                if hi == "\\":
                    end = self.escape(in_class=True)
                    if end.classes:
                        raise self.fail("a range cannot end in a class such as `\\d`")
                    hi = next(iter(end.chars))
                else:
                    self.pos += 1
                if hi < lo:
                    raise self.fail(f"bad character range {lo}-{hi}")
                ranges.append((lo, hi))
            else:
                chars.add(lo)
        return _Chars(frozenset(chars), tuple(ranges), tuple(classes), negated)

    def quantified(self, atom: _Node) -> _Node:
        ch = self.peek()
        if ch not in ("*", "+", "?", "{"):
            return atom
        self.pos += 1
        if ch == "*":
            lo, hi = 0, None
        elif ch == "+":
            lo, hi = 1, None
        elif ch == "?":
            lo, hi = 0, 1
        else:
            lo, hi = self.counts()
        if self.peek() == "?":  # lazy: the same codes match
            self.pos += 1
        if self.peek() in ("*", "+", "?", "{"):
            raise self.fail("a quantifier cannot follow a quantifier")
        return _Repeat(atom, lo, hi)

    def counts(self) -> tuple[int, int | None]:
        end = self.text.find("}", self.pos)
        body = self.text[self.pos:end] if end >= 0 else ""
        lo_text, comma, hi_text = body.partition(",")
        if end < 0 or not (lo_text.isdigit() or (comma and not lo_text)) or (hi_text and not hi_text.isdigit()):
            raise self.fail("a repetition is `{m}`, `{m,}`, `{,n}` or `{m,n}` with whole numbers")
        for number in (lo_text, hi_text):
            if len(number) > 3 or (number and int(number) > limits.PATTERN_REPEAT):
                raise self.fail(f"a repetition count above {limits.PATTERN_REPEAT}")
        self.pos = end + 1
        lo = int(lo_text) if lo_text else 0
        hi = (int(hi_text) if hi_text else None) if comma else lo
        if hi is not None and hi < lo:
            raise self.fail(f"the repetition {{{body}}} has its bounds inverted")
        return lo, hi


# ---------------------------------------------------------------------- the automaton


@dataclass(slots=True)
class _Automaton:
    """States: a character test with one successor, or a split into several (``None`` test); the last
    state accepts."""

    tests: list[_Chars | None] = field(default_factory=list)
    nexts: list[list[int]] = field(default_factory=list)

    def new(self, test: _Chars | None) -> int:
        if len(self.tests) >= limits.PATTERN_STATES:
            raise PatternError(f"the pattern is too large (more than {limits.PATTERN_STATES} states once its "
                               "repetitions are written out)")
        self.tests.append(test)
        self.nexts.append([])
        return len(self.tests) - 1

    def build(self, node: _Node, out: int) -> int:
        """States matching ``node`` and then going on to ``out``; returns the entry state."""
        if isinstance(node, _Chars):
            state = self.new(node)
            self.nexts[state].append(out)
            return state
        if isinstance(node, _Seq):
            for item in reversed(node.items):
                out = self.build(item, out)
            return out
        if isinstance(node, _Alt):
            split = self.new(None)
            self.nexts[split].extend(self.build(option, out) for option in node.options)
            return split
        tail = out
        if node.hi is None:  # item*: a split that loops through the item or leaves
            loop = self.new(None)
            self.nexts[loop].extend((self.build(node.item, loop), out))
            tail = loop
        else:
            for _ in range(node.hi - node.lo):  # optional copies: each may be skipped
                skip = self.new(None)
                self.nexts[skip].extend((self.build(node.item, tail), out))
                tail = skip
        for _ in range(node.lo):
            tail = self.build(node.item, tail)
        return tail


class CodePattern:
    """A compiled code syntax: :meth:`fullmatch` and :meth:`prefix_match`, linear in the code's length."""

    def __init__(self, pattern: str) -> None:
        """Parse and compile ``pattern``; raises :class:`PatternError` when it is outside the subset."""
        self.pattern = pattern
        tree = _Parser(pattern).parse()
        self._auto = _Automaton()
        accept = self._auto.new(None)
        self._accept = accept
        self._start = self._closure((self._auto.build(tree, accept),))
        self._steps: dict[tuple[frozenset[int], str], frozenset[int]] = {}

    def _closure(self, states: tuple[int, ...] | list[int]) -> frozenset[int]:
        seen: set[int] = set()
        stack = list(states)
        while stack:
            s = stack.pop()
            if s in seen:
                continue
            seen.add(s)
            if self._auto.tests[s] is None:
                stack.extend(self._auto.nexts[s])
        return frozenset(seen)

    def _step(self, current: frozenset[int], ch: str) -> frozenset[int]:
        key = (current, ch)
        hit = self._steps.get(key)
        if hit is None:
            tests, nexts = self._auto.tests, self._auto.nexts
            hit = self._closure([n for s in current if (t := tests[s]) is not None and t(ch) for n in nexts[s]])
            if len(self._steps) >= 4096:
                self._steps.clear()
            self._steps[key] = hit
        return hit

    def fullmatch(self, text: str) -> bool:
        """Whether the whole of ``text`` matches (as :func:`re.fullmatch`)."""
        current = self._start
        for ch in text:
            current = self._step(current, ch)
            if not current:
                return False
        return self._accept in current

    def prefix_match(self, text: str) -> bool:
        """Whether some beginning of ``text`` (perhaps all of it) matches (as :func:`re.match`)."""
        current = self._start
        for ch in text:
            if self._accept in current:
                return True
            current = self._step(current, ch)
            if not current:
                return False
        return self._accept in current
