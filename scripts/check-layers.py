#!/usr/bin/env python3
"""Checks the import graph of app/src and server/src: no circle, no upward arrow.

Usage: scripts/check-layers.py [--verbose] [--dot] [--self-test]

Every .rs file is a node, named by its module path (app/src/auth/social/mod.rs is
crate::auth::social; inline `mod x { ... }` blocks belong to their file). Every path to
another module is an edge, test code included: `use` trees (braces, self, globs, `as`),
`pub use` re-exports, and paths anywhere in code (`crate::a::f()`, `super::X`, or a
name brought in by `use` or a child module: `store::users::find()`), after comments and
string literals are blanked out. A path goes to the longest prefix that is a module file;
`mod x;` is no edge, and an edge from a file to itself is ignored. In server/src, `app::`
paths lead into app's modules, and every server file is the top tier.

Fails (exit 1) on each cycle of more than one file (Tarjan) and on each edge from a
lower tier to a higher one; otherwise prints a one-line summary. --verbose lists every
edge, --dot prints the graph for graphviz, --self-test runs the checker's own tests.
"""
import re
import sys
from pathlib import Path

# The layers of app/src, bottom to top. A file gets the tier of its longest matching
# prefix; one tier may hold several prefixes (a list), between which edges may point
# either way (cycles are still refused). server/src is above every tier.
TIERS = [
    "crate::shared",
    "crate::store",
    "crate::auth::kernel",
    "crate::auth::credentials",
    "crate::auth::adapters",
    "crate::auth::services",
    "crate::auth::testing",
    "crate::auth::guards",
    "crate::auth::capabilities",
    "crate::auth::flows",
    "crate::auth",
    "crate::http",
    "crate::api",
    "crate::browser",
    "crate::components",
    "crate::pages",
    "crate::routes",
    "crate",
]
CRATES = {"app": "app/src", "server": "server/src"}  # name -> source folder
EXTERN = {"server": {"app"}}  # which crate names a crate's paths may lead into
TOP_CRATE = "server"

ROOT = Path(__file__).resolve().parent.parent
CFG_TEST = re.compile(r"#\s*\[\s*cfg\s*\(\s*(?:all\s*\(\s*)?test\b")
RAW = re.compile(r"(?<!\w)[bc]?r(#*)\"")
PATH = re.compile(r"(?<![\w:$])(\$?[A-Za-z_]\w*(?:\s*::\s*[A-Za-z_]\w*)+)")


def strip(src):
    """src with comments, strings and char literals blanked (newlines and length kept)."""
    out, i, n = list(src), 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
        elif c in "bcr" and (m := RAW.match(src, i)):
            end = '"' + m.group(1)
            j = src.find(end, m.end())
            j = n if j < 0 else j + len(end)
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j += 1
        elif c == "'" and (src.startswith("\\", i + 1) or src.startswith("'", i + 2)):
            j = i + 2 if src[i + 1] == "\\" else i + 1
            j = src.find("'", j + 1) + 1 or n
        else:
            i += 1
            continue
        out[i:j] = re.sub(r"[^\n]", " ", src[i:j])
        i = j
    return "".join(out)


def block_end(text, pos):
    """The end of the item at pos: just after its `;` or its matching `}`."""
    depth = 0
    for k in range(pos, len(text)):
        ch = text[k]
        if ch == ";" and depth == 0:
            return k + 1
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return k + 1
    return len(text)


def test_regions(text):
    """(start, end) of every item under #[cfg(test)]."""
    return [(m.start(), block_end(text, m.end())) for m in CFG_TEST.finditer(text)]


def parse_use(body, base):
    """Leaves of a use tree: (segments, bound name or None, is_glob, offset)."""
    toks = [(m.group(), base + m.start()) for m in re.finditer(r"::|[{},*]|\$?\w+", body)]
    leaves, i = [], 0

    def tree(i, prefix):
        segs = list(prefix)
        while i < len(toks):
            t, at = toks[i]
            if t == "{":
                i += 1
                while toks[i][0] != "}":
                    i = tree(i, segs)
                    if toks[i][0] == ",":
                        i += 1
                return i + 1
            if t == "*":
                leaves.append((segs, None, True, at))
                return i + 1
            if t == "::":
                segs = segs or ["::"]
                i += 1
                continue
            segs.append(t)
            i += 1
            if i < len(toks) and toks[i][0] == "::":
                continue
            name = t
            if i < len(toks) and toks[i][0] == "as":
                name, i = toks[i + 1][0], i + 2
            if segs[-1] == "self":
                segs = segs[:-1]
                name = segs[-1] if name == "self" and segs else name
            leaves.append((segs, None if name == "_" else name, False, at))
            return i
        return i

    while i < len(toks):
        i = tree(i, [])
        if i < len(toks) and toks[i][0] == ",":
            i += 1
    return leaves


class Graph:
    def __init__(self, sources):
        """sources: {crate: {file name under its folder: text}}, e.g. {"app": {"lib.rs": ""}}."""
        self.files, self.module, texts = {}, {}, {}  # (crate, module path) <-> node, node -> text
        for krate, files in sources.items():
            for rel, src in files.items():
                parts = rel[:-3].split("/")
                mod = ("crate", *(parts[:-1] if parts[-1] in ("mod", "lib", "main") else parts))
                node = f"{CRATES[krate]}/{rel}"
                self.files[(krate, mod)], self.module[node], texts[node] = node, (krate, mod), strip(src)
        self.edges = {}  # (from, to) -> [(line, path text, in test code)]
        self.macros = {m.group(1): node for node, text in texts.items()
                       for m in re.finditer(r"macro_rules!\s*(\w+)", text)}
        self.test_files = {self.files.get((krate, (*mod, m.group(1))))  # declared under #[cfg(test)]
                           for node, (krate, mod) in self.module.items()
                           for m in re.finditer(r"\bmod\s+(\w+)\s*;", texts[node])
                           if any(a <= m.start() < b for a, b in test_regions(texts[node]))}
        for node, (krate, mod) in self.module.items():
            self.scan(krate, mod, node, texts[node])

    def target(self, krate, path):
        """The node the absolute path leads to: its longest prefix that is a file."""
        for k in range(len(path), 0, -1):
            if (krate, path[:k]) in self.files:
                return self.files[(krate, path[:k])]
        return None

    def resolve(self, krate, cur, segs, aliases, globs):
        """segs, written in module cur, as an absolute (crate, path), or None."""
        head, rest = segs[0], tuple(segs[1:])
        if head in ("crate", "$crate"):
            return krate, ("crate", *rest)
        if head in ("super", "self"):
            base = cur
            while segs and segs[0] in ("super", "self"):
                base = base[:-1] if segs[0] == "super" else base
                segs = segs[1:]
            return krate, (*base, *segs)
        if head in aliases:
            k, p = aliases[head]
            return k, (*p, *rest)
        for base in [cur, *globs]:
            if (krate, (*base, head)) in self.files:
                return krate, (*base, head, *rest)
        if head in EXTERN.get(krate, ()) or (head == "::" and rest and rest[0] in EXTERN.get(krate, ())):
            return (rest[0], ("crate", *rest[1:])) if head == "::" else (head, ("crate", *rest))
        return None

    def scan(self, krate, mod, node, text):
        lines = lambda pos: text.count("\n", 0, pos) + 1  # noqa: E731
        tests = test_regions(text)
        in_test = lambda pos: node in self.test_files or any(a <= pos < b for a, b in tests)  # noqa: E731
        # Scopes: the file, then each inline `mod x { ... }`, innermost last.
        scopes = [(0, len(text), mod)]
        for m in re.finditer(r"\bmod\s+(\w+)\s*\{", text):
            outer = [s for s in scopes if s[0] <= m.start() < s[1]][-1]
            scopes.append((m.start(), block_end(text, m.end() - 1), (*outer[2], m.group(1))))
        scope_of = lambda pos: max((s for s in scopes if s[0] <= pos < s[1]), key=lambda s: s[0])  # noqa: E731
        aliases = {s: {} for s in scopes}
        globs = {s: [] for s in scopes}
        uses, blanked = [], list(text)
        for m in re.finditer(r"\buse\b(?!\s*<)", text):
            end = text.index(";", m.end()) + 1
            uses += [(scope_of(m.start()), leaf) for leaf in parse_use(text[m.end():end - 1], m.end())]
            blanked[m.start():end] = re.sub(r"[^\n]", " ", text[m.start():end])
        def env(scope):  # names and globs visible in scope: its own, then its parents'
            outer = [s for s in scopes if s[0] <= scope[0] < s[1]]
            return {k: v for s in outer for k, v in aliases[s].items()}, [g for s in outer for g in globs[s]]

        for scope, (segs, name, glob, at) in uses * 2:  # twice: a use may name a later one
            absolute = self.resolve(krate, scope[2], segs, *env(scope))
            if absolute and name:
                aliases[scope][name] = absolute
            if absolute and glob and absolute[1] not in globs[scope]:
                globs[scope].append(absolute[1])
        edges = [(at, segs, scope) for scope, (segs, _, _, at) in uses]
        code = "".join(blanked)
        code = re.sub(r"pub\s*\(\s*in\s[^)]*\)", lambda m: " " * len(m.group()), code)
        edges += [(m.start(), re.split(r"\s*::\s*", m.group()), scope_of(m.start())) for m in PATH.finditer(code)]
        for at, segs, scope in edges:
            found = self.resolve(krate, scope[2], segs, *env(scope))
            dest = found and self.target(*found)
            if dest and dest != node:
                self.edges.setdefault((node, dest), []).append((lines(at), "::".join(segs), in_test(at)))
        for m in re.finditer(r"\b(\w+)\s*!\s*[(\[{]", code):  # a macro_rules! of another file
            dest = self.macros.get(m.group(1))
            if dest and dest != node:
                self.edges.setdefault((node, dest), []).append((lines(m.start()), m.group(1) + "!", in_test(m.start())))

    def rank(self, node):
        """(tier index, matching prefix) of node, or None if no prefix in TIERS matches."""
        krate, path = self.module[node]
        if krate == TOP_CRATE:
            return len(TIERS), TOP_CRATE
        mod, best = "::".join(path), None
        for rank, tier in enumerate(TIERS):
            for prefix in [tier] if isinstance(tier, str) else tier:
                if (mod == prefix or mod.startswith(prefix + "::")) and (not best or len(prefix) > len(best[1])):
                    best = (rank, prefix)
        return best

    def cycles(self):
        """Strongly connected components of more than one file (Tarjan)."""
        succ = {}
        for a, b in self.edges:
            succ.setdefault(a, []).append(b)
        index, low, stack, on, out = {}, {}, [], set(), []

        def visit(v):
            index[v] = low[v] = len(index)
            stack.append(v)
            on.add(v)
            for w in succ.get(v, []):
                if w not in index:
                    visit(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                comp = []
                while not comp or comp[-1] != v:
                    comp.append(stack.pop())
                    on.discard(comp[-1])
                if len(comp) > 1:
                    out.append(sorted(comp))

        sys.setrecursionlimit(10000)
        for v in sorted(self.files.values()):
            if v not in index:
                visit(v)
        return out


def describe(edge, uses):
    test = " [test only]" if all(t for _, _, t in uses) else ""
    more = f" (+{len(uses) - 1} more)" if len(uses) > 1 else ""
    return f"{edge[0]}:{uses[0][0]} -> {edge[1]}  {uses[0][1]}{more}{test}"


def main(args):
    if "--self-test" in args:
        return self_test()
    sources = {k: {str(p.relative_to(ROOT / d)): p.read_text() for p in sorted((ROOT / d).rglob("*.rs"))}
               for k, d in CRATES.items()}
    g = Graph(sources)
    ranks = {n: g.rank(n) for n in g.files.values()}
    if unmatched := sorted(n for n, r in ranks.items() if r is None):
        print("check-layers: these files match no prefix in TIERS (scripts/check-layers.py); add one:")
        print("".join(f"  {n} ({'::'.join(g.module[n][1])})\n" for n in unmatched), end="")
        return 2
    if "--dot" in args:
        print("digraph layers {\n  rankdir=BT;")
        print("\n".join(f'  "{a}" -> "{b}";' for a, b in sorted(g.edges)) + "\n}")
        return 0
    if "--verbose" in args:
        for edge, uses in sorted(g.edges.items()):
            print(describe(edge, uses))
            print("".join(f"    line {ln}: {t}{' (test)' if x else ''}\n" for ln, t, x in uses), end="")
    failed = False
    for comp in g.cycles():
        failed = True
        inside = sorted(e for e in g.edges if e[0] in comp and e[1] in comp)
        print(f"cycle of {len(comp)} files:\n  " + "\n  ".join(comp) + "\n edges inside it:")
        print("".join(f"  {describe(e, g.edges[e])}\n" for e in inside), end="")
    upward = sorted(e for e in g.edges if ranks[e[0]][0] < ranks[e[1]][0])
    for e in upward:
        failed = True
        print(f"upward: {describe(e, g.edges[e])}  ({ranks[e[0]][1]} is below {ranks[e[1]][1]})")
    if failed:
        print("check-layers: FAILED (no cycle and no upward edge allowed; see TIERS in scripts/check-layers.py)")
        return 1
    print(f"check-layers: {len(g.files)} files, {len(g.edges)} edges, {len(TIERS) + 1} tiers: "
          "no cycle, no upward edge")
    return 0


def self_test():
    def graph(**files):
        return Graph({"app": {k.replace("__", "/") + ".rs": v for k, v in files.items()}})

    g = graph(lib="pub mod a; pub mod b;", a__mod="pub mod x; pub mod y;", a__x="", a__y="", b="")
    assert g.edges == {}, "mod declarations are not edges"
    g = graph(lib="", a__mod="", a__x="", a__y="", b="", c=(
        "use crate::{a::{self, x::{X, Y as Z}}, b::*};\n"
        "// crate::c::nothing\n/* crate::b /* nested */ crate::a::y */\n"
        "const S: &str = \"crate::a::y\"; const R: &str = r#\"crate::a::y \" \"#; const Q: char = '\"';\n"
        "fn f() { super::a::y::g(); }"))
    assert set(g.edges) == {("app/src/c.rs", "app/src/a/mod.rs"), ("app/src/c.rs", "app/src/a/x.rs"),
                            ("app/src/c.rs", "app/src/b.rs"), ("app/src/c.rs", "app/src/a/y.rs")}, g.edges
    assert g.edges[("app/src/c.rs", "app/src/a/y.rs")][0][0] == 5, "line numbers survive stripping"
    g = graph(lib="", a__mod="pub struct S;", a__b="pub fn f() {}",
              a__c="use super::S;\n#[cfg(test)]\nmod tests {\n    use super::*;\n    use super::super::b;\n"
                   "    fn t() { super::f(); b::f(); }\n}\n")
    assert set(g.edges) == {("app/src/a/c.rs", "app/src/a/mod.rs"), ("app/src/a/c.rs", "app/src/a/b.rs")}, g.edges
    assert all(t for _, _, t in g.edges[("app/src/a/c.rs", "app/src/a/b.rs")]), "edges in mod tests are test code"
    g = graph(lib="", store__mod="pub mod users;", store__users="", a=(
        "use crate::store::{\n    self,\n    users as u,\n};\nfn f() { store::users::find(); u::g(); }"))
    assert [ln for ln, _, _ in g.edges[("app/src/a.rs", "app/src/store/users.rs")]] == [3, 5, 5]
    g = graph(lib="", a__mod="pub mod x;\npub use x::Y;", a__x="")
    assert set(g.edges) == {("app/src/a/mod.rs", "app/src/a/x.rs")}, "pub use in mod.rs is an edge"
    g = Graph({"app": {"lib.rs": "", "store/mod.rs": "use crate::pages::P;", "pages/mod.rs": "use super::store;"},
               "server": {"main.rs": "mod http;\nuse app::store::{self as s};\nfn f() { http::g(); s::h(); }",
                          "http.rs": "pub fn g() { crate::main_thing(); }"}})
    assert g.cycles() == [["app/src/pages/mod.rs", "app/src/store/mod.rs"],
                          ["server/src/http.rs", "server/src/main.rs"]], g.cycles()
    assert g.rank("app/src/store/mod.rs") < g.rank("app/src/pages/mod.rs") < g.rank("server/src/http.rs")
    assert set(g.edges) >= {("server/src/main.rs", "server/src/http.rs"), ("server/src/main.rs", "app/src/store/mod.rs"),
                            ("server/src/http.rs", "server/src/main.rs")}, g.edges
    print("check-layers: self-test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
