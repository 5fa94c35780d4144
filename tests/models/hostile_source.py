"""TorchScript source built to break LibTorch's front end (issue 19), derived from identity.pt.

Called by make_models.py (write_hostile) once identity.pt exists; also runnable alone:
    python3 hostile_source.py OUT_DIR      (OUT_DIR holding identity.pt)
    python3 hostile_source.py --regressions identity.pt tests/fuzz/regressions
(the second writes the crashers kept for the fuzz targets' replay, with deflated code).

Class 1, recursion. LibTorch's lexer, parser and compiler recurse once per level of an
expression, per nested block and elif, and per line the lexer skips; thousands of levels
overflow the stack (SIGSEGV) at load on LibTorch 1.13 (most from 5,000 or 20,000 levels on an
8 MiB stack, ternaries from 100,000). Each must be refused with TI_ERR_MODEL_FORMAT:
  hostile_depth_<kind>_<n>.pt   identity.pt whose forward returns an expression n levels deep,
      kind: not (not not ... x), neg (- - ... x), inv (~~...x), ternary (x if c else x if ...),
      subscript (x[0][0]...), call (torch.clone(torch.clone(...))), n: 5000, 20000, 100000
  hostile_depth_attr_20000.pt   x.T.T.T...
  hostile_depth_elif_5000.pt    an if with 5,000 elif branches
  hostile_lex_blank_100000.pt   100,000 blank lines before a statement
  hostile_lex_comment_50000.pt  50,000 comment lines before a statement
LibTorch finds records whatever the case of their names, which must not get past the checks:
  hostile_case_code_dir.pt      hostile_depth_not_20000.pt with its code under CODE/ (read as code/)
  hostile_case_debug_pickle.pt  identity.pt with its debug pickle renamed .debUg_pkl (found by
                                LibTorch as .debug_pkl while formatting an error, so not hidden)
Near the limit, loaded on the library's large-stack thread:
  deep_unary.pt    forward returns - - ... - x with 250 minus signs (2 levels each): x
  deep_elif.pt     forward: an if with 150 elif branches that all fail: x * 3

Class 2, class declarations LibTorch 1.13's importer misreads (it crashes on the first two in a
process that already loaded a model). Each must be refused with TI_ERR_MODEL_FORMAT:
  hostile_class_namedtuple_base.pt      `class Identity(NamedTuple):` over a module's body
  hostile_class_parameters_twice.pt     `__parameters__ = []` and `__parameters__ : Optional[bool]`
  hostile_class_parameters_annotated.pt `__parameters__ : Optional[bool]` alone
  hostile_class_dotted_base.pt          `class Identity(torch.Module):`
  hostile_class_attribute_twice.pt      `training : bool` and `training : Final[int] = 3`
  hostile_class_assignment_after_continued_line.pt  `scale = 1` in the class body right after a
                                        statement continued with a backslash
  hostile_class_hook_without_method.pt  `__forward_pre_hooks__ = ["missing", ]` with no such method
                                        (LibTorch's importer dereferences the failed lookup)
"""
import os
import sys
import zipfile

RETURN = "return torch.clone(x)"

DEPTH_SIZES = (5000, 20000, 100000)


def expression(kind, n):
    """An expression of forward(self, x: Tensor) that nests n levels of one construct."""
    if kind == "not":
        return "not " * n + "x"
    if kind == "neg":
        return "- " * n + "x"
    if kind == "inv":
        return "~" * n + "x"
    if kind == "ternary":
        return "x if bool(x) else " * n + "x"
    if kind == "subscript":
        return "x" + "[0]" * n
    if kind == "call":
        return "torch.clone(" * n + "x" + ")" * n
    if kind == "attr":
        return "x" + ".T" * n
    raise ValueError(kind)


def forward_body(kind, n):
    """A forward body (4-space indented) whose statements reach n levels of blocks or lines."""
    if kind == "elif":
        return ("    if bool(torch.gt(torch.sum(x), 1000)):\n      x = torch.mul(x, 2)\n"
                + "".join("    elif bool(torch.gt(torch.sum(x), %d)):\n      x = torch.mul(x, 2)\n" % (1001 + i)
                          for i in range(n))
                + "    else:\n      x = torch.mul(x, 3)\n    return x")
    if kind == "blank":
        return "\n" * n + "    " + RETURN
    if kind == "comment":
        return "    # a comment\n" * n + "    " + RETURN
    raise ValueError(kind)


def rewrite(src, dst, edit, code_compression=zipfile.ZIP_STORED):
    """Copies the archive src to dst (stored) with its code/__torch__.py passed through
    edit(text) -> text and written with code_compression."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            compression = zipfile.ZIP_STORED
            if item.filename.endswith("/code/__torch__.py"):
                text = data.decode()
                changed = edit(text)
                assert changed != text, "edit of %s changed nothing" % dst
                data = changed.encode()
                compression = code_compression
            zout.writestr(item.filename, data, compress_type=compression)


def rename(src, dst, new_name):
    """Copies the archive src to dst with each entry's name passed through new_name."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for item in zin.infolist():
            zout.writestr(new_name(item.filename), zin.read(item.filename))


def class_cases():
    header = "class Identity(Module):\n"
    return {
        "hostile_class_namedtuple_base.pt": lambda s: s.replace(header, "class Identity(NamedTuple):\n"),
        "hostile_class_parameters_twice.pt":
            lambda s: s.replace("  __buffers__ = []\n", "  __buffers__ = []\n  __parameters__ : Optional[bool]\n"),
        "hostile_class_parameters_annotated.pt":
            lambda s: s.replace("  __parameters__ = []\n", "  __parameters__ : Optional[bool]\n"),
        "hostile_class_dotted_base.pt": lambda s: s.replace(header, "class Identity(torch.Module):\n"),
        "hostile_class_attribute_twice.pt":
            lambda s: s.replace("  training : bool\n", "  training : bool\n  training : Final[int] = 3\n"),
        "hostile_class_assignment_after_continued_line.pt":
            lambda s: s.replace("return torch.clone(x)\n", "return \\\ntorch.clone(x)\n  scale = 1\n"),
        "hostile_class_hook_without_method.pt":
            lambda s: s.replace("  __buffers__ = []\n", "  __buffers__ = []\n  __forward_pre_hooks__ = [\"missing\", ]\n"),
    }


def write(out_dir):
    src = os.path.join(out_dir, "identity.pt")

    def out(name):
        return os.path.join(out_dir, name)

    def returning(expr):
        return lambda s: s.replace(RETURN, "return " + expr)

    def body(text):
        return lambda s: s.replace("    " + RETURN, text)

    for kind in ("not", "neg", "inv", "ternary", "subscript", "call"):
        for n in DEPTH_SIZES:
            rewrite(src, out("hostile_depth_%s_%d.pt" % (kind, n)), returning(expression(kind, n)))
    rewrite(src, out("hostile_depth_attr_20000.pt"), returning(expression("attr", 20000)))
    rewrite(src, out("hostile_depth_elif_5000.pt"), body(forward_body("elif", 5000)))
    rewrite(src, out("hostile_lex_blank_100000.pt"), body(forward_body("blank", 100000)))
    rewrite(src, out("hostile_lex_comment_50000.pt"), body(forward_body("comment", 50000)))
    rename(out("hostile_depth_not_20000.pt"), out("hostile_case_code_dir.pt"), lambda n: n.replace("/code/", "/CODE/"))
    rename(src, out("hostile_case_debug_pickle.pt"), lambda n: n.replace(".debug_pkl", ".debUg_pkl"))
    rewrite(src, out("deep_unary.pt"), returning(expression("neg", 250)))
    rewrite(src, out("deep_elif.pt"), body(forward_body("elif", 150)))
    for name, edit in class_cases().items():
        rewrite(src, out(name), edit)


def write_regressions(identity, out_dir):
    """The smallest of these that crashed LibTorch 1.13 (8 MiB stack; class cases in a warm
    process), with deflated code, as kept in tests/fuzz/regressions."""
    cases = {
        "load-unary-not-20000.pt": returning_edit(expression("not", 20000)),
        "load-unary-minus-20000.pt": returning_edit(expression("neg", 20000)),
        "load-unary-invert-20000.pt": returning_edit(expression("inv", 20000)),
        "load-ternary-5000.pt": returning_edit(expression("ternary", 5000)),
        "load-subscript-20000.pt": returning_edit(expression("subscript", 20000)),
        "load-nested-calls-5000.pt": returning_edit(expression("call", 5000)),
        "load-attribute-chain-20000.pt": returning_edit(expression("attr", 20000)),
        "load-elif-chain-5000.pt": lambda s: s.replace("    " + RETURN, forward_body("elif", 5000)),
        "load-lexer-blank-lines-40000.pt": lambda s: s.replace("    " + RETURN, "\n" * 40000 + "    " + RETURN),
        "load-lexer-comment-lines-20000.pt": lambda s: s.replace("    " + RETURN, "#\n" * 20000 + "    " + RETURN),
    }
    for name, edit in class_cases().items():
        if name in ("hostile_class_namedtuple_base.pt", "hostile_class_parameters_twice.pt",
                    "hostile_class_hook_without_method.pt"):
            cases["load-warm-" + name[len("hostile_"):].replace("_", "-")] = edit
    for name, edit in cases.items():
        rewrite(identity, os.path.join(out_dir, name), edit, zipfile.ZIP_DEFLATED)


def returning_edit(expr):
    return lambda s: s.replace(RETURN, "return " + expr)


if __name__ == "__main__":
    if sys.argv[1] == "--regressions":  # hostile_source.py --regressions identity.pt OUT_DIR
        write_regressions(sys.argv[2], sys.argv[3])
    else:
        write(sys.argv[1])
