#!/usr/bin/env python3
"""Mutants of a C file, from clang's syntax tree.

clang parses the file (-Xclang -ast-dump=json); the mutation sites come
from the tree's nodes, never from patterns over text. A small C lexer maps
the tree's offsets onto tokens, so a site's extent ends where its last token
ends even when that token is a macro invocation. No site lies in a comment,
a string, a macro body or macro argument, a constant expression (case
labels, static initializers, sizeof) or a header.

Each mutant has an ID FILE:FUNCTION:OPERATOR:N (N counts the operator's
sites within the function, in source order), so the ID of a mutant does not
change when unrelated lines move. Each mutant has a direct form (one edit of
the source, for the compile check and the report) and a place in the
schemata, where every mutant of a file is compiled in at once and chosen at
run time by LSE_MUTANT=<index>.

Operators:
  rel        < <= > >= swapped at the boundary (< and <=, > and >=)
  eq         == and != negated
  logic      && and ||
  arith      + and - (and += and -=), where the result stays well typed
  cond-true  an if/while/do/for/?: condition replaced by 1
  cond-false the same replaced by 0
  const+1    an integer literal plus one
  const-1    an integer literal minus one
  del-call   a call statement removed
  del-assign an assignment statement removed
  ret        a returned value replaced (0, or 1 where it was 0)
"""
import json
import os
import re
import subprocess

OPERATORS = ["rel", "eq", "logic", "arith", "cond-true", "cond-false",
             "const+1", "const-1", "del-call", "del-assign", "ret"]
REL_SWAP = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}
EQ_SWAP = {"==": "!=", "!=": "=="}
LOGIC_SWAP = {"&&": "||", "||": "&&"}
ARITH_SWAP = {"+": "-", "-": "+", "+=": "-=", "-=": "+="}
ASSIGN_OPS = {"=", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "<<=", ">>="}

PUNCT = sorted("""... <<= >>= -> ++ -- << >> <= >= == != && || *= /= %= += -= &= ^= |= ##
[ ] ( ) { } . & * + - ~ ! / % < > ^ | ? : ; = , #""".split(), key=len, reverse=True)


# ---- the lexer: tokens of the main file, to find operator tokens and ends ----

def lex(src):
    """Returns [(start, end, kind)], kind one of id num str chr punct pp."""
    toks, i, n = [], 0, len(src)
    line_start = True
    while i < n:
        c = src[i]
        if c == "\n":
            line_start, i = True, i + 1
            continue
        if c in " \t\r\f\v":
            i += 1
            continue
        if src.startswith("//", i):
            i = src.find("\n", i)
            i = n if i < 0 else i
            continue
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c == "#" and line_start:   # a directive, to its unescaped newline
            j = i
            while j < n and src[j] != "\n":
                if src[j] == "\\" and j + 1 < n and src[j + 1] == "\n":
                    j += 2
                    continue
                if src.startswith("/*", j):
                    k = src.find("*/", j + 2)
                    j = n if k < 0 else k + 2
                    continue
                j += 1
            toks.append((i, j, "pp"))
            i = j
            continue
        line_start = False
        if c.isalpha() or c == "_":
            j = i + 1
            while j < n and (src[j].isalnum() or src[j] == "_"):
                j += 1
            if j < n and src[j] in "'\"" and src[i:j] in ("L", "u", "U", "u8"):
                i = j   # an encoding prefix: the literal follows
                continue
            toks.append((i, j, "id"))
            i = j
            continue
        if c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()):
            j = i + 1
            while j < n and (src[j].isalnum() or src[j] in "._" or
                             (src[j] in "+-" and src[j - 1] in "eEpP")):
                j += 1
            toks.append((i, j, "num"))
            i = j
            continue
        if c in "'\"":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            toks.append((i, j + 1, "str" if c == '"' else "chr"))
            i = j + 1
            continue
        for p in PUNCT:
            if src.startswith(p, i):
                toks.append((i, i + len(p), "punct"))
                i += len(p)
                break
        else:
            raise ValueError(f"lexer: unexpected {c!r} at offset {i}")
    return toks


class Source:
    def __init__(self, path):
        self.path = path
        with open(path, encoding="utf-8") as f:
            self.text = f.read()
        self.toks = lex(self.text)
        self.at = {t[0]: k for k, t in enumerate(self.toks)}
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]

    def line_of(self, off):
        lo, hi = 0, len(self.line_starts)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.line_starts[mid] <= off:
                lo = mid
            else:
                hi = mid
        return lo + 1

    def tok(self, off):
        return self.at.get(off)

    def end_of_invocation(self, k):
        """Token k names a macro: the end of its invocation (args included)."""
        start, end, _ = self.toks[k]
        if k + 1 < len(self.toks) and self.text[self.toks[k + 1][0]:self.toks[k + 1][1]] == "(" \
                and self.toks[k + 1][0] == end + len(self.text[end:self.toks[k + 1][0]]) \
                and self.text[end:self.toks[k + 1][0]].strip() == "":
            depth = 0
            for j in range(k + 1, len(self.toks)):
                t = self.text[self.toks[j][0]:self.toks[j][1]]
                if t == "(":
                    depth += 1
                elif t == ")":
                    depth -= 1
                    if depth == 0:
                        return self.toks[j][1]
        return end


# ---- locations in clang's JSON ----

class Unresolved(Exception):
    """A node this tool cannot place in the main file: no mutant there."""


def loc_begin(loc):
    """Offset where a node's range begins in the main file; macro: the
    invocation's start. Raises Unresolved inside a macro's arguments."""
    if "offset" in loc:
        return loc["offset"], False
    if "expansionLoc" in loc:
        if loc["spellingLoc"].get("isMacroArgExpansion") or loc["expansionLoc"].get("isMacroArgExpansion"):
            raise Unresolved("macro argument")
        return loc["expansionLoc"]["offset"], True
    raise Unresolved("no location")


def node_span(src, node):
    """[begin, end) of a node in the main file's text."""
    r = node.get("range")
    if not r:
        raise Unresolved("no range")
    b, b_macro = loc_begin(r["begin"])
    e, in_macro = loc_begin(r["end"])
    if b_macro and in_macro and b == e:
        raise Unresolved("inside one macro expansion")
    k = src.tok(e)
    if k is None:
        raise Unresolved("end not on a token")
    end = src.end_of_invocation(k) if in_macro else src.toks[k][1]
    if src.tok(b) is None or end <= b:
        raise Unresolved("bad span")
    return b, end


def in_macro(node):
    r = node.get("range", {})
    return any("offset" not in r.get(x, {"offset": 0}) for x in ("begin", "end"))


# ---- sites ----

class Site:
    """A span of source that mutants rewrite. kind: binop (structural), or a
    wrapper (cond, const, ret, del). Spans nest; several sites may share
    one span (a condition that is also a comparison)."""
    def __init__(self, kind, span, **kw):
        self.kind, self.span = kind, span
        self.mutants = []
        self.__dict__.update(kw)


class Mutant:
    def __init__(self, file, func, op, site, edit, desc, line):
        self.file, self.func, self.op = file, func, op
        self.site, self.edit, self.desc, self.line = site, edit, desc, line
        self.ordinal = 0
        self.index = -1

    @property
    def id(self):
        return f"{self.file}:{self.func}:{self.op}:{self.ordinal}"


def qual(node):
    return (node.get("type") or {}).get("qualType", "")


def is_pointer(node):
    t = (node.get("type") or {})
    q = t.get("desugaredQualType", t.get("qualType", ""))
    return "*" in q or "[" in q


def strip_implicit(node):
    while node.get("kind") in ("ImplicitCastExpr", "ParenExpr", "ConstantExpr") and node.get("inner"):
        node = node["inner"][0]
    return node


class Collector:
    def __init__(self, src, relpath):
        self.src, self.rel = src, relpath
        self.sites, self.mutants = [], []
        self.skipped = 0

    def add(self, func, op, site, edit, desc):
        line = self.src.line_of(edit[0])
        m = Mutant(self.rel, func, op, site, edit, desc, line)
        site.mutants.append(m)
        self.mutants.append(m)
        return m

    def text(self, a, b):
        return self.src.text[a:b]

    # -- one function body --
    def walk(self, func, node, ctx):
        if not isinstance(node, dict) or not node:
            return
        kind = node.get("kind")
        if kind in ("ConstantExpr", "UnaryExprOrTypeTraitExpr", "StaticAssertDecl"):
            return   # constant expressions: nothing to mutate at run time
        if kind == "VarDecl" and node.get("storageClass") == "static":
            return
        try:
            handler = getattr(self, "on_" + kind, None)
            if handler:
                handler(func, node, ctx)
        except Unresolved:
            self.skipped += 1
        inner = node.get("inner", [])
        for c in stmt_children(node):
            self.statement(func, c)
        for c in inner:
            self.walk(func, c, ctx)

    def statement(self, func, node):
        """Node in statement position: a call or an assignment can go."""
        if not isinstance(node, dict) or not node:
            return
        kind = node.get("kind")
        try:
            if kind == "CallExpr" and not in_macro(node):
                span = node_span(self.src, node)
                s = self.site("del", span)
                self.add(func, "del-call", s, (span[0], span[1], "(void)0"),
                         "call removed: " + one_line(self.text(*span)))
            elif kind in ("BinaryOperator", "CompoundAssignOperator") and \
                    node.get("opcode") in ASSIGN_OPS and not in_macro(node):
                span = node_span(self.src, node)
                s = self.site("del", span)
                self.add(func, "del-assign", s, (span[0], span[1], "(void)0"),
                         "assignment removed: " + one_line(self.text(*span)))
        except Unresolved:
            self.skipped += 1

    def site(self, kind, span, **kw):
        s = Site(kind, span, **kw)
        self.sites.append(s)
        return s

    def op_token(self, lhs, rhs, opcode):
        """The operator token between two operands, or Unresolved."""
        a = node_span(self.src, lhs)[1]
        b = node_span(self.src, rhs)[0]
        ks = [i for i, t in enumerate(self.src.toks) if a <= t[0] < b]
        for i in ks:
            t = self.src.toks[i]
            txt = self.text(t[0], t[1])
            if txt == ")":
                continue
            if txt == opcode:
                return t[0], t[1]
            break
        raise Unresolved("operator token not found")

    def on_BinaryOperator(self, func, node, ctx):
        op = node.get("opcode")
        inner = node.get("inner", [])
        if len(inner) != 2:
            return
        lhs, rhs = inner
        if op in REL_SWAP or op in EQ_SWAP or op in LOGIC_SWAP or op in ("+", "-"):
            lp, rp = is_pointer(lhs), is_pointer(rhs)
            if op in ("+", "-") and (lp or rp) and not (lp and not rp):
                return   # p + n -> p - n is well typed; n + p and p - q are not
            span = node_span(self.src, node)
            tok = self.op_token(lhs, rhs, op)
            lspan, rspan = node_span(self.src, lhs), node_span(self.src, rhs)
            table = REL_SWAP if op in REL_SWAP else EQ_SWAP if op in EQ_SWAP else \
                LOGIC_SWAP if op in LOGIC_SWAP else ARITH_SWAP
            name = "rel" if op in REL_SWAP else "eq" if op in EQ_SWAP else \
                "logic" if op in LOGIC_SWAP else "arith"
            new = table[op]
            s = self.site("binop", span, op=op, new=new, lspan=lspan, rspan=rspan)
            self.add(func, name, s, (tok[0], tok[1], new), f"{op} -> {new}")

    def on_CompoundAssignOperator(self, func, node, ctx):
        op = node.get("opcode")
        inner = node.get("inner", [])
        if op not in ("+=", "-=") or len(inner) != 2:
            return
        lhs, rhs = inner
        if is_pointer(lhs):
            return
        span = node_span(self.src, node)
        tok = self.op_token(lhs, rhs, op)
        lspan, rspan = node_span(self.src, lhs), node_span(self.src, rhs)
        s = self.site("binop", span, op=op, new=ARITH_SWAP[op], lspan=lspan, rspan=rspan)
        self.add(func, "arith", s, (tok[0], tok[1], ARITH_SWAP[op]), f"{op} -> {ARITH_SWAP[op]}")

    def cond(self, func, node, stmt=None):
        if not isinstance(node, dict) or not node:
            return
        try:
            span = node_span(self.src, node)
        except Unresolved:
            if stmt is None:
                raise
            span = self.paren_content(stmt, node)
        lit = strip_implicit(node)
        const = lit.get("value") if lit.get("kind") == "IntegerLiteral" else None
        s = self.site("cond", span)
        txt = one_line(self.text(*span))
        if const is None or const == "0":
            self.add(func, "cond-true", s, (span[0], span[1], "1"), f"condition ({txt}) -> 1")
        if const is None or const != "0":
            self.add(func, "cond-false", s, (span[0], span[1], "0"), f"condition ({txt}) -> 0")

    def paren_content(self, stmt, cond):
        """The text between the parentheses after if/while, when it is one
        macro invocation (if (S_ISSOCK(m))): the condition's extent."""
        b, macro = loc_begin(stmt["range"]["begin"])
        k = self.src.tok(b)
        if macro or k is None or self.text(*self.src.toks[k + 1][:2]) != "(":
            raise Unresolved("no parenthesis")
        depth = 0
        for j in range(k + 1, len(self.src.toks)):
            t = self.text(*self.src.toks[j][:2])
            depth += t == "("
            depth -= t == ")"
            if depth == 0:
                break
        a, z = self.src.toks[k + 2][0], self.src.toks[j][0]
        inv, _ = loc_begin(cond["range"]["begin"])
        if inv != a or self.src.end_of_invocation(k + 2) != self.src.toks[j - 1][1]:
            raise Unresolved("condition is not one macro invocation")
        return a, self.src.toks[j - 1][1]

    def on_IfStmt(self, func, node, ctx):
        inner = node.get("inner", [])
        # children: [init] [condVar] cond then [else]
        idx = (1 if node.get("hasInit") else 0) + (1 if node.get("hasVar") else 0)
        self.cond(func, inner[idx], node)

    def on_WhileStmt(self, func, node, ctx):
        self.cond(func, node["inner"][1 if node.get("hasVar") else 0], node)

    def on_DoStmt(self, func, node, ctx):
        self.cond(func, node["inner"][1])

    def on_ForStmt(self, func, node, ctx):
        self.cond(func, node["inner"][2])

    def on_ConditionalOperator(self, func, node, ctx):
        self.cond(func, node["inner"][0])

    def on_IntegerLiteral(self, func, node, ctx):
        if in_macro(node) or node.get("lse_null"):
            return
        span = node_span(self.src, node)
        txt = self.text(*span)
        s = self.site("const", span)
        self.add(func, "const+1", s, (span[0], span[1], f"({txt} + 1)"), f"{txt} -> {txt} + 1")
        self.add(func, "const-1", s, (span[0], span[1], f"({txt} - 1)"), f"{txt} -> {txt} - 1")

    def on_ReturnStmt(self, func, node, ctx):
        inner = node.get("inner", [])
        if not inner:
            return
        e = inner[0]
        if "struct" in qual(e) and not is_pointer(e):
            return
        span = node_span(self.src, e)
        lit = strip_implicit(e)
        alt = "1" if lit.get("kind") == "IntegerLiteral" and lit.get("value") == "0" else "0"
        if is_pointer(e) and (alt == "1" or self.text(*span).strip() == "NULL"):
            return   # a null pointer returned already: no other value fits
        s = self.site("ret", span, alt=alt)
        self.add(func, "ret", s, (span[0], span[1], alt),
                 f"return {one_line(self.text(*span))} -> return {alt}")


def stmt_children(node):
    """The children of a statement that sit in statement position."""
    kind, inner = node.get("kind"), node.get("inner", [])
    if kind == "CompoundStmt":
        return inner
    if kind == "IfStmt":
        idx = (1 if node.get("hasInit") else 0) + (1 if node.get("hasVar") else 0)
        return inner[idx + 1:]
    if kind in ("WhileStmt", "CaseStmt"):
        return inner[-1:]
    if kind in ("DoStmt", "DefaultStmt", "LabelStmt"):
        return inner[:1]
    if kind == "ForStmt":
        return inner[4:5]
    return []


def one_line(s):
    s = " ".join(s.split())
    return s if len(s) <= 60 else s[:57] + "..."


def mark_null_ptr(node, ctx_stack=None):
    """Literal 0s converted to a pointer are null pointer constants: a
    +1 there does not compile. Marks them in place."""
    if isinstance(node, dict):
        if node.get("kind") == "ImplicitCastExpr" and node.get("castKind") == "NullToPointer":
            for c in node.get("inner", []):
                c2 = strip_implicit(c)
                c2["lse_null"] = True
        for c in node.get("inner", []):
            mark_null_ptr(c)


def ast(path, cflags):
    out = subprocess.run(["clang", "-Xclang", "-ast-dump=json", "-fsyntax-only",
                          *cflags, path], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main_functions(tu, relpath):
    """The FunctionDecls with a body that the main file defines. clang's JSON
    names a location's file only when it changes, so the file is tracked in
    the order the dump wrote them."""
    cur = [None]

    def track(obj):
        if isinstance(obj, dict):
            for k, v in obj.items():
                if k == "includedFrom":
                    continue
                if k == "file" and isinstance(v, str):
                    cur[0] = v
                elif isinstance(v, (dict, list)):
                    track(v)
        elif isinstance(obj, list):
            for v in obj:
                track(v)

    funcs = []
    for d in tu.get("inner", []):
        before = cur[0]
        # The file of the decl's own location: track up to "loc" first.
        loc = d.get("loc", {})
        track({"loc": loc}) if loc else None
        here = cur[0]
        cur[0] = before
        track(d)
        if d.get("kind") == "FunctionDecl" and here is not None and \
                os.path.normpath(here) == os.path.normpath(relpath) and \
                any(c.get("kind") == "CompoundStmt" for c in d.get("inner", [])):
            funcs.append(d)
    return funcs


def collect(root, relpath, cflags):
    """Mutants of one file: (Source, [Mutant], [Site])."""
    src = Source(os.path.join(root, relpath))
    tu = ast(relpath, cflags) if os.getcwd() == root else None
    if tu is None:
        cwd = os.getcwd()
        os.chdir(root)
        try:
            tu = ast(relpath, cflags)
        finally:
            os.chdir(cwd)
    col = Collector(src, relpath)
    for f in main_functions(tu, relpath):
        mark_null_ptr(f)
        body = [c for c in f["inner"] if c.get("kind") == "CompoundStmt"][0]
        col.walk(f["name"], body, {})
    # Ordinals: per function and operator, in source order.
    count = {}
    for m in sorted(col.mutants, key=lambda m: (m.edit[0], OPERATORS.index(m.op))):
        key = (m.func, m.op)
        count[key] = count.get(key, 0) + 1
        m.ordinal = count[key]
    return src, col.mutants, col.sites


# ---- rendering ----

def apply_edit(text, edit):
    a, b, rep = edit
    return text[:a] + rep + text[b:]


PROLOGUE = """/* lsecho mutant schemata: every mutant of this file, chosen at run time
 * by the environment variable LSE_MUTANT (an index; unset: none). */
extern char *getenv(const char *);
static int lse_mut_sel_ = -1;
__attribute__((constructor)) static void lse_mut_init_(void)
{
	const char *e = getenv("LSE_MUTANT");

	if (e != 0 && *e != 0)
		for (lse_mut_sel_ = 0; *e >= '0' && *e <= '9'; e++)
			lse_mut_sel_ = lse_mut_sel_ * 10 + (*e - '0');
}
#define LSE_MUT(k) (__builtin_expect(lse_mut_sel_ == (k), 0))
#line 1 "%s"
"""


def render_schemata(src, sites, chosen):
    """The file's text with the chosen mutants' sites rewritten so that
    LSE_MUT(index) selects each one. chosen: set of Mutant."""
    live = [s for s in sites if any(m in chosen for m in s.mutants)]
    # Outer sites first for equal spans: wrappers around the structural one.
    order = {"del": 0, "ret": 1, "cond": 2, "const": 3, "binop": 4}
    live.sort(key=lambda s: (s.span[0], -s.span[1], order[s.kind]))
    text = src.text
    counter = [0]

    def render(a, b, pool):
        out, pos, i = [], a, 0
        while i < len(pool):
            s = pool[i]
            if s.span[0] >= b:
                break
            # s and every later site inside s.span belong to s
            j = i + 1
            while j < len(pool) and pool[j].span[0] < s.span[1]:
                if pool[j].span[1] > s.span[1]:
                    raise ValueError(f"{src.path}: sites overlap at {s.span} and {pool[j].span}")
                j += 1
            out.append(text[pos:s.span[0]])
            out.append(render_site(s, pool[i + 1:j]))
            pos, i = s.span[1], j
        out.append(text[pos:b])
        return "".join(out)

    def render_site(s, inner):
        body = None
        if s.kind == "binop":
            body = render_binop(s, inner)
        else:
            same = [x for x in inner if x.span == s.span]
            rest = [x for x in inner if x.span != s.span]
            if same:
                body = render_site(same[0], same[1:] + rest)
            else:
                body = render(s.span[0], s.span[1], rest)
        ms = [m for m in s.mutants if m in chosen]
        if not ms:
            return body
        if s.kind == "del":
            return f"(LSE_MUT({ms[0].index}) ? (void)0 : (void)({body}))"
        if s.kind == "ret":
            return f"(LSE_MUT({ms[0].index}) ? ({s.alt}) : ({body}))"
        if s.kind == "cond":
            out = f"!!({body})"
            for m in ms:
                out = f"LSE_MUT({m.index}) ? {1 if m.op == 'cond-true' else 0} : {out}"
            return f"({out})"
        if s.kind == "const":
            out = body
            for m in ms:
                out = f"LSE_MUT({m.index}) ? ({body} {'+' if m.op == 'const+1' else '-'} 1) : {out}"
            return f"({out})"
        return body

    def render_binop(s, inner):
        lin = [x for x in inner if x.span[0] >= s.lspan[0] and x.span[1] <= s.lspan[1]]
        rin = [x for x in inner if x.span[0] >= s.rspan[0] and x.span[1] <= s.rspan[1]]
        L = render(s.lspan[0], s.lspan[1], lin)
        R = render(s.rspan[0], s.rspan[1], rin)
        ms = [m for m in s.mutants if m in chosen]
        if not ms:
            return text[s.span[0]:s.lspan[0]] + L + text[s.lspan[1]:s.rspan[0]] + R + text[s.rspan[1]:s.span[1]]
        k = ms[0].index
        counter[0] += 1
        v = f"lse_m{counter[0]}_"
        if s.op in ("&&", "||"):
            go = f"!{v}l" if s.op == "||" else f"{v}l"
            sw = f"{v}l" if s.op == "||" else f"!{v}l"
            return f"({{ int {v}l = !!({L}); (LSE_MUT({k}) ? {sw} : {go}) ? !!({R}) : {v}l; }})"
        if s.op in ("+=", "-="):
            return f"(LSE_MUT({k}) ? ({L} {s.new} {R}) : ({L} {s.op} {R}))"
        return (f"({{ __auto_type {v}a = ({L}); __auto_type {v}b = ({R}); "
                f"LSE_MUT({k}) ? {v}a {s.new} {v}b : {v}a {s.op} {v}b; }})")

    body = render(0, len(text), live)
    return PROLOGUE % os.path.basename(src.path) + body
