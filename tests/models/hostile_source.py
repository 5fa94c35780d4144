"""TorchScript source built to break LibTorch's front end (issue 19), derived from identity.pt.

Called by make_models.py (write_hostile) once identity.pt exists; also runnable alone:
    python3 hostile_source.py OUT_DIR      (OUT_DIR holding identity.pt)

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
Near the limit, loaded on the library's large-stack thread:
  deep_unary.pt    forward returns - - ... - x with 500 minus signs: x
  deep_elif.pt     forward: an if with 150 elif branches that all fail: x * 3

Class 2, class declarations LibTorch 1.13's importer misreads (it crashes on the first two in a
process that already loaded a model). Each must be refused with TI_ERR_MODEL_FORMAT:
  hostile_class_namedtuple_base.pt      `class Identity(NamedTuple):` over a module's body
  hostile_class_parameters_twice.pt     `__parameters__ = []` and `__parameters__ : Optional[bool]`
  hostile_class_parameters_annotated.pt `__parameters__ : Optional[bool]` alone
  hostile_class_dotted_base.pt          `class Identity(torch.Module):`
  hostile_class_attribute_twice.pt      `training : bool` and `training : Final[int] = 3`
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


def rewrite(src, dst, edit):
    """Copies the archive src to dst (stored, as torch.jit.save writes it) with its
    code/__torch__.py passed through edit(text) -> text."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith("/code/__torch__.py"):
                text = data.decode()
                changed = edit(text)
                assert changed != text, "edit of %s changed nothing" % dst
                data = changed.encode()
            zout.writestr(item.filename, data)


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
    rewrite(src, out("deep_unary.pt"), returning(expression("neg", 500)))
    rewrite(src, out("deep_elif.pt"), body(forward_body("elif", 150)))
    for name, edit in class_cases().items():
        rewrite(src, out(name), edit)


if __name__ == "__main__":
    write(sys.argv[1])
